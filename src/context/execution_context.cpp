// ExecutionContext: budget validation, the lock-free state word and memory
// accounting, and the fault boundary around RuntimeBackend::execute().
#include "aegisrt/context/execution_context.h"

#include <algorithm>
#include <string>

namespace aegisrt {

namespace {

constexpr std::uint64_t kStateMask = 0xffu;
constexpr unsigned kCountShift = 8;

constexpr std::uint64_t pack(ContextState s, std::uint64_t in_flight) noexcept {
  return (in_flight << kCountShift) | static_cast<std::uint64_t>(s);
}
constexpr ContextState state_of(std::uint64_t w) noexcept {
  return static_cast<ContextState>(w & kStateMask);
}
constexpr std::uint64_t count_of(std::uint64_t w) noexcept { return w >> kCountShift; }

void update_max(std::atomic<std::int64_t>& target, std::int64_t value) noexcept {
  auto cur = target.load(std::memory_order_relaxed);
  while (cur < value && !target.compare_exchange_weak(cur, value, std::memory_order_relaxed)) {
  }
}

std::string bytes_str(std::size_t b) { return std::to_string(b) + " bytes"; }

}  // namespace

std::string_view to_string(ContextState s) noexcept {
  switch (s) {
    case ContextState::Created: return "created";
    case ContextState::Ready: return "ready";
    case ContextState::Running: return "running";
    case ContextState::Faulted: return "faulted";
  }
  return "unknown";
}

Result<void> ContextBudget::validate() const {
  if (device_memory_bytes == 0) {
    return Error(ErrorCode::InvalidArgument, "budget.device_memory_bytes must be > 0");
  }
  if (device_memory_bytes > kMaxDeviceMemoryBytes) {
    return Error(ErrorCode::InvalidArgument,
                 "budget.device_memory_bytes = " + std::to_string(device_memory_bytes) +
                     " is absurd (limit " + std::to_string(kMaxDeviceMemoryBytes) +
                     " bytes; a negative value converted to size_t?)");
  }
  if (max_streams <= 0) {
    return Error(ErrorCode::InvalidArgument,
                 "budget.max_streams must be > 0, got " + std::to_string(max_streams));
  }
  if (max_streams > kMaxStreams) {
    return Error(ErrorCode::InvalidArgument, "budget.max_streams = " + std::to_string(max_streams) +
                                                 " is absurd (limit " +
                                                 std::to_string(kMaxStreams) + ")");
  }
  if (compute_time_per_call <= Duration::zero()) {
    return Error(ErrorCode::InvalidArgument,
                 "budget.compute_time_per_call must be > 0, got " +
                     std::to_string(compute_time_per_call.count()) + " ns");
  }
  if (compute_time_per_call > kMaxComputeTimePerCall) {
    return Error(ErrorCode::InvalidArgument,
                 "budget.compute_time_per_call = " + std::to_string(to_ms(compute_time_per_call)) +
                     " ms is absurd (limit 1 hour)");
  }
  return {};
}

Result<std::unique_ptr<ExecutionContext>> ExecutionContext::create(
    ModelId model, ContextBudget budget, std::unique_ptr<RuntimeBackend> backend) {
  const std::string where = "creating execution context for model '" + model.str() + "'";
  if (model.empty()) {
    return Error(ErrorCode::InvalidArgument, "model id is empty", where);
  }
  if (!backend) {
    return Error(ErrorCode::InvalidArgument, "backend is null", where);
  }
  if (auto v = budget.validate(); !v.ok()) return std::move(v).error().with_context(where);
  return std::unique_ptr<ExecutionContext>(
      new ExecutionContext(std::move(model), budget, std::move(backend), nullptr));
}

Result<std::unique_ptr<ExecutionContext>> ExecutionContext::create_instance(std::shared_ptr<LoadedModel> model,
                                                                            ContextBudget budget) {
  if (!model) {
    return Error(ErrorCode::InvalidArgument, "shared model is null", "creating an execution instance");
  }
  const std::string where = "creating an execution instance of shared model '" + model->model().str() + "'";
  if (auto v = budget.validate(); !v.ok()) return std::move(v).error().with_context(where);
  if (!model->backend().is_loaded()) {
    return Error(ErrorCode::FailedPrecondition,
                 "its backend '" + std::string(model->backend().name()) + "' is no longer loaded (a fault took it "
                 "down); load a new LoadedModel",
                 where);
  }
  ModelId id = model->model();
  std::unique_ptr<ExecutionContext> ctx(new ExecutionContext(std::move(id), budget, nullptr, std::move(model)));
  if (auto r = ctx->reserve_model_estimate(); !r.ok()) return std::move(r).error().with_context(where);
  ctx->state_word_.store(pack(ContextState::Ready, 0), std::memory_order_release);
  return ctx;
}

ExecutionContext::ExecutionContext(ModelId model, ContextBudget budget, std::unique_ptr<RuntimeBackend> owned,
                                   std::shared_ptr<LoadedModel> shared)
    : model_(std::move(model)),
      budget_(budget),
      owned_(std::move(owned)),
      shared_(std::move(shared)),
      backend_(owned_ ? owned_.get() : &shared_->backend()),
      state_word_(pack(ContextState::Created, 0)) {}

ExecutionContext::~ExecutionContext() {
  if (owned_) owned_->unload();
}

std::string ExecutionContext::who() const { return "context '" + model_.str() + "'"; }

ContextState ExecutionContext::state() const noexcept {
  return state_of(state_word_.load(std::memory_order_acquire));
}

int ExecutionContext::in_flight() const noexcept {
  return static_cast<int>(count_of(state_word_.load(std::memory_order_acquire)));
}

std::optional<Error> ExecutionContext::last_fault() const {
  std::lock_guard lock(fault_mutex_);
  return last_fault_;
}

void ExecutionContext::record_fault(const Error& e) {
  std::lock_guard lock(fault_mutex_);
  last_fault_ = e;
}

// ---------------------------------------------------------------- memory

Result<void> ExecutionContext::allocate_memory(std::size_t bytes) {
  if (bytes == 0) return {};
  const std::size_t budget = budget_.device_memory_bytes;
  std::size_t cur = memory_in_use_.load(std::memory_order_relaxed);
  std::size_t next = 0;
  do {
    // cur <= budget always holds, so budget - cur cannot wrap.
    if (bytes > budget - cur) {
      return Error(ErrorCode::BudgetExceeded,
                   who() + ": cannot reserve " + bytes_str(bytes) + ": " + bytes_str(cur) +
                       " of " + bytes_str(budget) + " already in use");
    }
    next = cur + bytes;
  } while (!memory_in_use_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                                 std::memory_order_relaxed));
  std::size_t peak = peak_memory_.load(std::memory_order_relaxed);
  while (peak < next &&
         !peak_memory_.compare_exchange_weak(peak, next, std::memory_order_relaxed)) {
  }
  return {};
}

Result<void> ExecutionContext::release_memory(std::size_t bytes) {
  if (bytes == 0) return {};
  std::size_t cur = memory_in_use_.load(std::memory_order_relaxed);
  do {
    if (bytes > cur) {
      return Error(ErrorCode::InvalidArgument,
                   who() + ": release_memory(" + std::to_string(bytes) + ") exceeds the " +
                       bytes_str(cur) + " currently reserved");
    }
  } while (!memory_in_use_.compare_exchange_weak(cur, cur - bytes, std::memory_order_acq_rel,
                                                 std::memory_order_relaxed));
  return {};
}

// ---------------------------------------------------------------- lifecycle

Result<void> ExecutionContext::reserve_model_estimate() {
  AEGIS_ASSIGN_OR_RETURN(const std::size_t estimate, backend_->estimate_memory());
  if (auto r = allocate_memory(estimate); !r.ok()) {
    return Error(ErrorCode::BudgetExceeded, "backend '" + std::string(backend_->name()) + "' estimates " +
                                                bytes_str(estimate) + " for this model; " + r.error().message());
  }
  model_reservation_.store(estimate, std::memory_order_relaxed);
  return {};
}

Result<void> ExecutionContext::load(const LoadOptions& options) {
  std::lock_guard lock(lifecycle_mutex_);
  const std::string where = "loading model '" + model_.str() + "' into its execution context";
  if (shared_) {
    return Error(ErrorCode::FailedPrecondition,
                 who() + " is an instance of a shared model, which is loaded once by LoadedModel::load(); "
                         "create a new instance with ExecutionContext::create_instance()",
                 where);
  }
  const auto s = state();
  if (s != ContextState::Created) {
    return Error(ErrorCode::FailedPrecondition,
                 "cannot load: " + who() + " is " + std::string(to_string(s)) +
                     " (load() is only valid in state created; call unload() first)",
                 where);
  }
  if (auto r = backend_->load(options); !r.ok()) return std::move(r).error().with_context(where);
  if (auto r = reserve_model_estimate(); !r.ok()) {
    backend_->unload();
    return std::move(r).error().with_context(where);
  }
  load_options_ = options;
  // Only lifecycle calls (serialised by the mutex) leave Created, and execute()
  // never enters in Created, so nobody else can have changed the word.
  state_word_.store(pack(ContextState::Ready, 0), std::memory_order_release);
  return {};
}

Result<void> ExecutionContext::unload() {
  std::lock_guard lock(lifecycle_mutex_);
  auto w = state_word_.load(std::memory_order_acquire);
  do {
    if (state_of(w) == ContextState::Created) return {};
    if (count_of(w) != 0) {
      return Error(ErrorCode::FailedPrecondition, "cannot unload " + who() + ": " +
                                                   std::to_string(count_of(w)) +
                                                   " execute() call(s) in flight");
    }
  } while (!state_word_.compare_exchange_weak(w, pack(ContextState::Created, 0),
                                              std::memory_order_acq_rel));
  if (owned_) owned_->unload();  // a shared model stays loaded for its other instances
  const auto reserved = model_reservation_.exchange(0, std::memory_order_relaxed);
  (void)release_memory(reserved);  // cannot fail: the reservation is part of memory_in_use_
  return {};
}

Result<void> ExecutionContext::reset() {
  std::lock_guard lock(lifecycle_mutex_);
  const auto w = state_word_.load(std::memory_order_acquire);
  if (state_of(w) != ContextState::Faulted) {
    return Error(ErrorCode::FailedPrecondition, "reset() is for a faulted context; " + who() +
                                                 " is " + std::string(to_string(state_of(w))));
  }
  if (count_of(w) != 0) {
    return Error(ErrorCode::FailedPrecondition, "cannot reset " + who() + ": " +
                                                 std::to_string(count_of(w)) +
                                                 " execute() call(s) still in flight");
  }
  if (!backend_->is_loaded()) {
    if (shared_) {
      // Reloading here would race the other instances' calls on the same backend.
      return Error(ErrorCode::FailedPrecondition,
                   "cannot reset " + who() + ": the fault left its shared model unloaded; load a new "
                   "LoadedModel and create new instances of it");
    }
    // The fault took the model down: reload it and re-admit its memory.
    const auto old = model_reservation_.exchange(0, std::memory_order_relaxed);
    (void)release_memory(old);
    if (auto r = backend_->load(load_options_); !r.ok()) {
      return std::move(r).error().with_context("resetting " + who());
    }
    if (auto r = reserve_model_estimate(); !r.ok()) {
      backend_->unload();
      return std::move(r).error().with_context("resetting " + who());
    }
  }
  auto expected = w;
  if (!state_word_.compare_exchange_strong(expected, pack(ContextState::Ready, 0),
                                           std::memory_order_acq_rel)) {
    // execute() never enters a faulted context, so this is unreachable.
    return Error(ErrorCode::Internal, who() + ": state changed during reset()");
  }
  return {};
}

// ---------------------------------------------------------------- execute

Result<void> ExecutionContext::enter_call() {
  auto w = state_word_.load(std::memory_order_acquire);
  std::uint64_t next = 0;
  do {
    const auto s = state_of(w);
    const auto n = count_of(w);
    if (s == ContextState::Created) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return Error(ErrorCode::FailedPrecondition, "execute() on " + who() + " before load()");
    }
    if (s == ContextState::Faulted) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      const auto fault = last_fault();
      return Error(ErrorCode::FailedPrecondition,
                   who() + " is faulted and refuses execute() until reset()" +
                       (fault ? "; it faulted with: " + fault->to_string() : std::string()));
    }
    if (n >= static_cast<std::uint64_t>(budget_.max_streams)) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return Error(ErrorCode::BudgetExceeded,
                   who() + " already runs " + std::to_string(n) +
                       " call(s), its budget.max_streams = " + std::to_string(budget_.max_streams));
    }
    next = pack(ContextState::Running, n + 1);
  } while (!state_word_.compare_exchange_weak(w, next, std::memory_order_acq_rel,
                                              std::memory_order_acquire));
  return {};
}

void ExecutionContext::exit_call(ExitKind kind) noexcept {
  auto w = state_word_.load(std::memory_order_acquire);
  std::uint64_t next = 0;
  do {
    const auto n = count_of(w) - 1;  // >= 0: this call is counted in w
    ContextState s = state_of(w);
    if (kind == ExitKind::Fault) {
      s = ContextState::Faulted;
    } else if (s == ContextState::Running && n == 0) {
      s = ContextState::Ready;
    }
    next = pack(s, n);
  } while (!state_word_.compare_exchange_weak(w, next, std::memory_order_acq_rel,
                                              std::memory_order_acquire));
}

Result<void> ExecutionContext::ensure_model_reservation() {
  auto estimate = backend_->estimate_memory();
  if (!estimate.ok()) return std::move(estimate).error();
  auto reserved = model_reservation_.load(std::memory_order_acquire);
  while (*estimate > reserved) {
    const auto extra = *estimate - reserved;
    if (auto r = allocate_memory(extra); !r.ok()) {
      return Error(ErrorCode::BudgetExceeded,
                   "backend '" + std::string(backend_->name()) + "' now estimates " +
                       bytes_str(*estimate) + " (" + bytes_str(reserved) + " reserved at load); " +
                       r.error().message());
    }
    if (model_reservation_.compare_exchange_strong(reserved, *estimate,
                                                   std::memory_order_acq_rel)) {
      return {};
    }
    (void)release_memory(extra);  // another call grew it first; retry against its value
  }
  return {};
}

Result<ExecutionResult> ExecutionContext::execute(const ExecutionRequest& request) {
  AEGIS_TRY(enter_call());

  if (auto r = ensure_model_reservation(); !r.ok()) {
    if (r.error().code() == ErrorCode::BudgetExceeded) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      exit_call(ExitKind::Ok);
      return std::move(r).error();
    }
    // The backend could not even say what it needs: treat it as a backend fault.
    auto e = std::move(r).error().with_context("executing in " + who());
    calls_.fetch_add(1, std::memory_order_relaxed);
    errors_.fetch_add(1, std::memory_order_relaxed);
    record_fault(e);
    exit_call(ExitKind::Fault);
    return e;
  }

  const auto start = Clock::now();
  auto result = backend_->execute(request);
  const auto end = Clock::now();
  const auto elapsed = std::chrono::duration_cast<Duration>(end - start);

  calls_.fetch_add(1, std::memory_order_relaxed);
  total_ns_.fetch_add(elapsed.count(), std::memory_order_relaxed);
  update_max(max_ns_, elapsed.count());

  if (!result.ok()) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    auto e = std::move(result).error().with_context("executing in " + who());
    if (e.code() == ErrorCode::InvalidArgument) {
      // A malformed request is the caller's mistake; the model is fine.
      exit_call(ExitKind::Ok);
      return e;
    }
    record_fault(e);
    exit_call(ExitKind::Fault);
    return e;
  }

  const bool missed = result->deadline_missed || elapsed > budget_.compute_time_per_call ||
                      (request.deadline.has_value() && end > *request.deadline);
  result->deadline_missed = missed;
  if (missed) deadline_misses_.fetch_add(1, std::memory_order_relaxed);
  exit_call(ExitKind::Ok);
  return result;
}

ContextMetrics ExecutionContext::metrics() const noexcept {
  ContextMetrics m;
  m.calls = calls_.load(std::memory_order_relaxed);
  m.errors = errors_.load(std::memory_order_relaxed);
  m.deadline_misses = deadline_misses_.load(std::memory_order_relaxed);
  m.rejected = rejected_.load(std::memory_order_relaxed);
  m.total_time = Duration(total_ns_.load(std::memory_order_relaxed));
  m.mean_time = m.calls == 0 ? Duration::zero()
                             : Duration(m.total_time.count() / static_cast<std::int64_t>(m.calls));
  m.max_time = Duration(max_ns_.load(std::memory_order_relaxed));
  m.memory_in_use = memory_in_use_.load(std::memory_order_relaxed);
  m.peak_memory = peak_memory_.load(std::memory_order_relaxed);
  m.memory_budget = budget_.device_memory_bytes;
  m.in_flight = in_flight();
  return m;
}

}  // namespace aegisrt
