// ExecutionContext: runs one model on one backend inside a resource budget
// (device memory, concurrent streams, compute time per call) and a fault
// boundary. A backend failure faults only the context that saw it.
//
// State machine (ContextState):
//
//   Created --load()--> Ready --execute()--> Running --(last call ends)--> Ready
//      ^                  |                     |
//      +----unload()------+                     +--(backend error)--> Faulted
//      +----unload()-----------------------------------------------------+
//                         Ready <------------------reset()----------------+
//
//  * execute() may run from several threads at once (the backend serialises
//    if it is not thread-safe); the context is Running while at least one call
//    is in flight and returns to Ready when the last one ends. The state word
//    (state + in-flight count) is one atomic, changed only by compare-exchange,
//    so a transition can never be lost between two threads.
//  * A call that fails with InvalidArgument is the caller's fault (wrong shape,
//    dtype, name): it is counted as an error but does not fault the context.
//    Every other backend error moves the context to Faulted; calls already in
//    flight finish, new calls are refused until reset().
//  * A call that ends after its request deadline, or runs longer than
//    budget().compute_time_per_call, keeps its outputs and reports
//    ExecutionResult::deadline_missed (counted in metrics()).
//  * Memory: load() reserves backend().estimate_memory() bytes; allocate_memory()
//    and release_memory() account for anything else the caller allocates on the
//    model's behalf. The sum never exceeds budget().device_memory_bytes, even
//    under concurrency (lock-free compare-exchange, no over-commit).
//  * Model state vs instance state: create() makes a context that owns its
//    backend and loads it in load(). create_instance() makes a context over a
//    LoadedModel (context/loaded_model.h) that other contexts share: it is Ready
//    at once, reserves the model's per-context estimate in its own budget, and
//    never loads, unloads or reloads the shared backend (its unload() only
//    returns the reservation; load() is then refused; create another instance).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include "aegisrt/backend/runtime_backend.h"
#include "aegisrt/context/loaded_model.h"
#include "aegisrt/core/result.h"
#include "aegisrt/core/types.h"

namespace aegisrt {

/// Resources one context may use. Every field must be positive and sane;
/// ExecutionContext::create() rejects anything else with InvalidArgument
/// naming the field.
struct ContextBudget {
  /// Device memory (host memory for CPU backends) the model may hold: the
  /// backend's estimate plus whatever allocate_memory() reserves.
  std::size_t device_memory_bytes = 0;
  /// Maximum execute() calls in flight at once (one stream each).
  int max_streams = 1;
  /// Wall time one execute() may take before it counts as a deadline miss.
  Duration compute_time_per_call{0};

  /// Upper limits beyond which a value is taken for a unit or sign mistake.
  static constexpr std::size_t kMaxDeviceMemoryBytes = std::size_t{1} << 40;  // 1 TiB
  static constexpr int kMaxStreams = 1024;
  static constexpr Duration kMaxComputeTimePerCall = std::chrono::hours(1);

  /// InvalidArgument naming the first bad field ("budget.max_streams ..."), or ok.
  [[nodiscard]] Result<void> validate() const;
};

enum class ContextState : std::uint8_t { Created, Ready, Running, Faulted };
/// "created", "ready", "running", "faulted".
std::string_view to_string(ContextState s) noexcept;

/// A consistent-enough snapshot of a context's counters (each field is read
/// atomically; fields may be from slightly different instants under load).
struct ContextMetrics {
  std::uint64_t calls = 0;            // execute() calls that reached the backend
  std::uint64_t errors = 0;           // of those, how many returned an error
  std::uint64_t deadline_misses = 0;  // successful calls that overran
  std::uint64_t rejected = 0;         // calls refused before the backend (state, streams, memory)
  Duration total_time{0};             // summed wall time of calls that reached the backend
  Duration mean_time{0};              // total_time / calls (0 when no calls)
  Duration max_time{0};
  std::size_t memory_in_use = 0;      // bytes reserved now (model + allocate_memory)
  std::size_t peak_memory = 0;        // highest memory_in_use ever observed
  std::size_t memory_budget = 0;
  int in_flight = 0;                  // execute() calls running now
};

class ExecutionContext {
 public:
  /// Validates the budget, the model id and the backend (non-null); the
  /// context starts in Created and owns the backend.
  static Result<std::unique_ptr<ExecutionContext>> create(ModelId model, ContextBudget budget,
                                                          std::unique_ptr<RuntimeBackend> backend);

  /// An execution instance of an already loaded, shared model: starts Ready
  /// with the model's memory estimate reserved in `budget`. Errors:
  /// InvalidArgument (null model, bad budget); FailedPrecondition if the
  /// shared backend is no longer loaded; BudgetExceeded if the estimate does
  /// not fit the budget.
  static Result<std::unique_ptr<ExecutionContext>> create_instance(std::shared_ptr<LoadedModel> model,
                                                                   ContextBudget budget);

  ExecutionContext(const ExecutionContext&) = delete;
  ExecutionContext& operator=(const ExecutionContext&) = delete;
  ExecutionContext(ExecutionContext&&) = delete;
  ExecutionContext& operator=(ExecutionContext&&) = delete;
  /// Unloads an owned backend (a shared one stays loaded for its other
  /// instances). Callers must not destroy a context with calls in flight.
  ~ExecutionContext();

  /// Created -> Ready. Loads the backend and reserves its memory estimate.
  /// Errors: FailedPrecondition if not in Created (naming the state) or if
  /// this is an instance of a shared model (it never loads); the
  /// backend's load error (context stays Created); BudgetExceeded when the
  /// estimate does not fit the remaining budget (the backend is unloaded again).
  [[nodiscard]] Result<void> load(const LoadOptions& options);

  /// Ready/Running -> Running -> Ready (or Faulted on a backend error).
  /// Refused without reaching the backend: FailedPrecondition in Created and
  /// ("faulted ... call reset()") in Faulted; BudgetExceeded when max_streams
  /// calls are already in flight or the backend's memory estimate has grown
  /// beyond what the budget still allows.
  [[nodiscard]] Result<ExecutionResult> execute(const ExecutionRequest& request);

  /// Faulted -> Ready once no call is in flight. Reloads an owned backend (same
  /// options) if the fault left it unloaded. FailedPrecondition if not Faulted,
  /// calls are still running, or a shared model was left unloaded (load a new
  /// LoadedModel: its other instances use it too).
  [[nodiscard]] Result<void> reset();

  /// Ready/Faulted -> Created: unloads an owned backend (a shared one stays
  /// loaded) and returns the memory reservation. FailedPrecondition while calls
  /// are in flight; no-op in Created.
  [[nodiscard]] Result<void> unload();

  /// Reserves `bytes` of the memory budget. BudgetExceeded (nothing reserved)
  /// if it does not fit. Lock-free; never over-commits under concurrency.
  [[nodiscard]] Result<void> allocate_memory(std::size_t bytes);
  /// Returns `bytes` to the budget. InvalidArgument (nothing released) if more
  /// than is currently reserved.
  [[nodiscard]] Result<void> release_memory(std::size_t bytes);

  [[nodiscard]] ContextState state() const noexcept;
  [[nodiscard]] int in_flight() const noexcept;
  [[nodiscard]] ContextMetrics metrics() const noexcept;
  /// The error that faulted the context most recently (kept after reset()).
  [[nodiscard]] std::optional<Error> last_fault() const;

  [[nodiscard]] const ModelId& model() const noexcept { return model_; }
  [[nodiscard]] const ContextBudget& budget() const noexcept { return budget_; }
  [[nodiscard]] RuntimeBackend& backend() noexcept { return *backend_; }
  [[nodiscard]] const RuntimeBackend& backend() const noexcept { return *backend_; }
  /// The shared model this context is an instance of; null for a context that
  /// owns its backend (create()).
  [[nodiscard]] const std::shared_ptr<LoadedModel>& shared_model() const noexcept { return shared_; }

 private:
  ExecutionContext(ModelId model, ContextBudget budget, std::unique_ptr<RuntimeBackend> owned,
                   std::shared_ptr<LoadedModel> shared);
  Result<void> reserve_model_estimate();

  enum class ExitKind : std::uint8_t { Ok, Fault };
  Result<void> enter_call();
  void exit_call(ExitKind kind) noexcept;
  Result<void> ensure_model_reservation();
  void record_fault(const Error& e);
  [[nodiscard]] std::string who() const;

  const ModelId model_;
  const ContextBudget budget_;
  const std::unique_ptr<RuntimeBackend> owned_;  // create(): this context's own backend
  const std::shared_ptr<LoadedModel> shared_;    // create_instance(): the shared model
  RuntimeBackend* const backend_;                // whichever of the two

  // State word: bits 0-7 ContextState, bits 8-63 calls in flight.
  std::atomic<std::uint64_t> state_word_;

  std::atomic<std::size_t> memory_in_use_{0};
  std::atomic<std::size_t> peak_memory_{0};
  std::atomic<std::size_t> model_reservation_{0};

  std::atomic<std::uint64_t> calls_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> deadline_misses_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::int64_t> total_ns_{0};
  std::atomic<std::int64_t> max_ns_{0};

  std::mutex lifecycle_mutex_;  // serialises load/unload/reset (never taken by execute)
  LoadOptions load_options_;    // guarded by lifecycle_mutex_
  mutable std::mutex fault_mutex_;
  std::optional<Error> last_fault_;  // guarded by fault_mutex_
};

}  // namespace aegisrt
