// ExecutionContext: budget validation, the state machine (legal and illegal
// transitions), memory admission, deadline accounting, metrics against known
// counts, concurrency (memory CAS and execute) and fault isolation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <future>
#include <thread>
#include <vector>

#include "aegisrt/context/execution_context.h"
#include "aegisrt/context/loaded_model.h"
#include "mocks/mock_backend.h"

namespace aegisrt {
namespace {

using testing::MockBackend;
using testing::MockConfig;
using namespace std::chrono_literals;

constexpr std::size_t kMiB = std::size_t{1} << 20;

/// A mock whose memory estimate can change after load (dynamic shapes).
class GrowingMock : public MockBackend {
 public:
  using MockBackend::MockBackend;
  void set_estimate(std::size_t bytes) { estimate_.store(bytes); }

 protected:
  Result<std::size_t> do_estimate_memory() const override { return estimate_.load(); }

 private:
  std::atomic<std::size_t> estimate_{kMiB};
};

ContextBudget default_budget() {
  ContextBudget b;
  b.device_memory_bytes = 64 * kMiB;
  b.max_streams = 16;
  b.compute_time_per_call = 10s;
  return b;
}

/// Holds calls inside MockBackend (MockConfig::hold) until release(): tests
/// observe "in flight" without racing a sleep against machine load.
class HeldCall {
 public:
  HeldCall() : future_(promise_.get_future().share()) {}
  ~HeldCall() { release(); }
  HeldCall(const HeldCall&) = delete;
  HeldCall& operator=(const HeldCall&) = delete;
  std::shared_future<void> future() const { return future_; }
  void release() {
    if (!released_) {
      released_ = true;
      promise_.set_value();
    }
  }

 private:
  std::promise<void> promise_;
  std::shared_future<void> future_;
  bool released_ = false;
};

/// Declared after the calling thread: releases the held call before that
/// thread is joined, so a failed ASSERT never leaves the test hanging.
struct ReleaseOnExit {
  HeldCall& held;
  ~ReleaseOnExit() { held.release(); }
};

/// Polls `done` until true; false only after a minute (a hang, not slowness).
template <typename F>
bool wait_until(F done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

LoadOptions mock_options() {
  static const auto path = testing::write_mock_artefact(
      std::filesystem::temp_directory_path() / ("aegisrt_ctx_" + std::to_string(::getpid())));
  LoadOptions o;
  o.artifact_path = path;
  return o;
}

/// Host input x = [batch, 4] with x[i] = i * 0.5 - 3; expected y = 2x + 1.
struct Input {
  explicit Input(std::int64_t batch = 2, float offset = 0.f) {
    tensor = Tensor::allocate_host({batch, 4}, DType::Float32, "x").value();
    auto s = tensor.span<float>();
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<float>(i) * 0.5f - 3.f + offset;
    request.inputs = {{"x", tensor.view()}};
  }
  /// Empty string when `r` holds y = 2x + 1 for this input.
  [[nodiscard]] std::string check(const ExecutionResult& r) const {
    if (r.outputs.size() != 1) return "expected 1 output, got " + std::to_string(r.outputs.size());
    const auto y = r.outputs[0].span<float>();
    const auto x = tensor.span<float>();
    if (y.size() != x.size()) return "size mismatch";
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (y[i] != 2.f * x[i] + 1.f) return "y[" + std::to_string(i) + "] wrong";
    }
    return {};
  }
  Tensor tensor;
  ExecutionRequest request;
};

std::unique_ptr<ExecutionContext> make_ctx(std::unique_ptr<RuntimeBackend> backend,
                                           ContextBudget budget = default_budget(),
                                           std::string model = "m") {
  auto r = ExecutionContext::create(ModelId(std::move(model)), budget, std::move(backend));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? std::move(r).value() : nullptr;
}

MockBackend& mock_of(ExecutionContext& ctx) { return static_cast<MockBackend&>(ctx.backend()); }

// ------------------------------------------------------------ creation / budget

void expect_rejected(ContextBudget b, const std::string& field) {
  auto r = ExecutionContext::create(ModelId("m"), b, std::make_unique<MockBackend>());
  ASSERT_FALSE(r.ok()) << "budget with bad " << field << " was accepted";
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find(field), std::string::npos) << r.error().to_string();
}

TEST(ContextBudget, ZeroNegativeAndAbsurdValuesNameTheField) {
  auto b = default_budget();
  b.device_memory_bytes = 0;
  expect_rejected(b, "budget.device_memory_bytes");
  b = default_budget();
  b.device_memory_bytes = static_cast<std::size_t>(-1);  // a negative value gone unsigned
  expect_rejected(b, "budget.device_memory_bytes");
  b = default_budget();
  b.max_streams = 0;
  expect_rejected(b, "budget.max_streams");
  b.max_streams = -3;
  expect_rejected(b, "budget.max_streams");
  b.max_streams = 1'000'000;
  expect_rejected(b, "budget.max_streams");
  b = default_budget();
  b.compute_time_per_call = Duration::zero();
  expect_rejected(b, "budget.compute_time_per_call");
  b.compute_time_per_call = -5ms;
  expect_rejected(b, "budget.compute_time_per_call");
  b.compute_time_per_call = std::chrono::hours(24 * 365);
  expect_rejected(b, "budget.compute_time_per_call");
}

TEST(ContextBudget, LimitsThemselvesAreAccepted) {
  ContextBudget b;
  b.device_memory_bytes = ContextBudget::kMaxDeviceMemoryBytes;
  b.max_streams = ContextBudget::kMaxStreams;
  b.compute_time_per_call = ContextBudget::kMaxComputeTimePerCall;
  EXPECT_TRUE(b.validate().ok());
  b.device_memory_bytes = 1;
  b.max_streams = 1;
  b.compute_time_per_call = Duration(1);
  EXPECT_TRUE(b.validate().ok());
}

TEST(ExecutionContextCreate, RejectsNullBackendAndEmptyModel) {
  auto r1 = ExecutionContext::create(ModelId("m"), default_budget(), nullptr);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r1.error().message().find("backend"), std::string::npos);
  auto r2 = ExecutionContext::create(ModelId(""), default_budget(), std::make_unique<MockBackend>());
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r2.error().message().find("model id"), std::string::npos);
}

TEST(ExecutionContextCreate, StartsCreatedWithNothingReserved) {
  auto ctx = make_ctx(std::make_unique<MockBackend>());
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->state(), ContextState::Created);
  EXPECT_EQ(ctx->model(), ModelId("m"));
  EXPECT_EQ(ctx->metrics().memory_in_use, 0u);
  EXPECT_EQ(ctx->metrics().memory_budget, 64 * kMiB);
  EXPECT_FALSE(ctx->backend().is_loaded());
}

// ------------------------------------------------------------ state machine

TEST(ExecutionContextState, FullLifecycleIncludingIllegalTransitions) {
  auto ctx = make_ctx(std::make_unique<MockBackend>());
  ASSERT_TRUE(ctx);
  Input in;

  // Created: execute and reset are illegal.
  auto r = ctx->execute(in.request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::FailedPrecondition);
  auto rs = ctx->reset();
  ASSERT_FALSE(rs.ok());
  EXPECT_EQ(rs.error().code(), ErrorCode::FailedPrecondition);
  EXPECT_NE(rs.error().message().find("created"), std::string::npos);
  EXPECT_TRUE(ctx->unload().ok()) << "unload in Created is a no-op";
  EXPECT_EQ(ctx->state(), ContextState::Created);

  // Created -> Ready.
  ASSERT_TRUE(ctx->load(mock_options()).ok());
  EXPECT_EQ(ctx->state(), ContextState::Ready);
  EXPECT_EQ(ctx->metrics().memory_in_use, kMiB) << "load reserves the backend estimate";

  // Ready: a second load is illegal; reset is illegal.
  auto l2 = ctx->load(mock_options());
  ASSERT_FALSE(l2.ok());
  EXPECT_EQ(l2.error().code(), ErrorCode::FailedPrecondition);
  EXPECT_NE(l2.error().message().find("ready"), std::string::npos);
  EXPECT_EQ(ctx->reset().error().code(), ErrorCode::FailedPrecondition);

  // Ready -> Running -> Ready with correct values.
  r = ctx->execute(in.request);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(in.check(*r), "");
  EXPECT_EQ(ctx->state(), ContextState::Ready);

  // Running -> Faulted on a backend error.
  mock_of(*ctx).fail_on_call(1, ErrorCode::BackendError);
  r = ctx->execute(in.request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::BackendError);
  EXPECT_EQ(ctx->state(), ContextState::Faulted);
  ASSERT_TRUE(ctx->last_fault().has_value());
  EXPECT_NE(ctx->last_fault()->message().find("injected"), std::string::npos);

  // Faulted: execute refused without reaching the backend, load illegal.
  const auto calls_before = mock_of(*ctx).execute_count();
  r = ctx->execute(in.request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::FailedPrecondition) << "a faulted context is a state, not a backend error";
  EXPECT_NE(r.error().message().find("faulted"), std::string::npos) << r.error().to_string();
  EXPECT_NE(r.error().message().find("reset()"), std::string::npos) << r.error().to_string();
  EXPECT_EQ(mock_of(*ctx).execute_count(), calls_before);
  EXPECT_EQ(ctx->load(mock_options()).error().code(), ErrorCode::FailedPrecondition);

  // Faulted -> Ready via reset(); works again.
  ASSERT_TRUE(ctx->reset().ok());
  EXPECT_EQ(ctx->state(), ContextState::Ready);
  r = ctx->execute(in.request);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(in.check(*r), "");

  // Ready -> Created via unload(), memory returned.
  ASSERT_TRUE(ctx->unload().ok());
  EXPECT_EQ(ctx->state(), ContextState::Created);
  EXPECT_FALSE(ctx->backend().is_loaded());
  EXPECT_EQ(ctx->metrics().memory_in_use, 0u);
  EXPECT_EQ(ctx->execute(in.request).error().code(), ErrorCode::FailedPrecondition);
  // And it can be loaded again.
  ASSERT_TRUE(ctx->load(mock_options()).ok());
  EXPECT_TRUE(ctx->execute(in.request).ok());
}

TEST(ExecutionContextState, IsRunningWhileACallIsInFlight) {
  HeldCall held;
  MockConfig cfg;
  cfg.hold = held.future();  // the call stays in the backend until released
  auto ctx = make_ctx(std::make_unique<MockBackend>(cfg));
  ASSERT_TRUE(ctx->load(mock_options()).ok());
  Input in;
  std::atomic<bool> ok{false};
  std::jthread t([&] { ok = ctx->execute(in.request).ok(); });
  ReleaseOnExit release_on_exit{held};
  ASSERT_TRUE(wait_until([&] { return mock_of(*ctx).execute_count() == 1; })) << "the call never reached the backend";
  EXPECT_EQ(ctx->state(), ContextState::Running);
  EXPECT_EQ(ctx->in_flight(), 1);
  // Lifecycle calls are refused while a call runs.
  EXPECT_EQ(ctx->unload().error().code(), ErrorCode::FailedPrecondition);
  EXPECT_EQ(ctx->reset().error().code(), ErrorCode::FailedPrecondition);
  held.release();
  t.join();
  EXPECT_TRUE(ok);
  EXPECT_EQ(ctx->state(), ContextState::Ready);
  EXPECT_EQ(ctx->in_flight(), 0);
}

TEST(ExecutionContextState, InvalidRequestIsCountedButDoesNotFault) {
  auto ctx = make_ctx(std::make_unique<MockBackend>());
  ASSERT_TRUE(ctx->load(mock_options()).ok());
  auto bad = Tensor::allocate_host({2, 5}, DType::Float32, "x").value();  // expects [N,4]
  ExecutionRequest req;
  req.inputs = {{"x", bad.view()}};
  auto r = ctx->execute(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("'x'"), std::string::npos);
  EXPECT_EQ(ctx->state(), ContextState::Ready);
  EXPECT_EQ(ctx->metrics().errors, 1u);
  EXPECT_FALSE(ctx->last_fault().has_value());
}

TEST(ExecutionContextState, ExceptionInsideBackendFaultsTheContext) {
  auto ctx = make_ctx(std::make_unique<MockBackend>());
  ASSERT_TRUE(ctx->load(mock_options()).ok());
  mock_of(*ctx).throw_on_execute(true);
  Input in;
  auto r = ctx->execute(in.request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Internal);
  EXPECT_EQ(ctx->state(), ContextState::Faulted);
  mock_of(*ctx).throw_on_execute(false);
  ASSERT_TRUE(ctx->reset().ok());
  EXPECT_TRUE(ctx->execute(in.request).ok());
}

TEST(ExecutionContextState, ResetReloadsABackendThatWentAway) {
  auto ctx = make_ctx(std::make_unique<MockBackend>());
  ASSERT_TRUE(ctx->load(mock_options()).ok());
  ctx->backend().unload();  // simulate a fault that took the model down
  Input in;
  auto r = ctx->execute(in.request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::FailedPrecondition);
  EXPECT_EQ(ctx->state(), ContextState::Faulted);
  ASSERT_TRUE(ctx->reset().ok());
  EXPECT_TRUE(ctx->backend().is_loaded());
  EXPECT_EQ(mock_of(*ctx).load_count(), 2u);
  EXPECT_EQ(ctx->metrics().memory_in_use, kMiB) << "reservation re-admitted exactly once";
  r = ctx->execute(in.request);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(in.check(*r), "");
}

TEST(ExecutionContextState, FailedBackendLoadLeavesContextCreated) {
  auto ctx = make_ctx(std::make_unique<MockBackend>());
  LoadOptions o;
  o.artifact_path = "/nonexistent/model.mock";
  auto r = ctx->load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound);
  EXPECT_EQ(ctx->state(), ContextState::Created);
  EXPECT_EQ(ctx->metrics().memory_in_use, 0u);
  EXPECT_TRUE(ctx->load(mock_options()).ok());
}

// ------------------------------------------------------------ memory budget

TEST(ExecutionContextMemory, LoadRefusesWhenEstimateExceedsBudget) {
  MockConfig cfg;
  cfg.memory_estimate = 3 * kMiB;
  auto b = default_budget();
  b.device_memory_bytes = 2 * kMiB;
  auto ctx = make_ctx(std::make_unique<MockBackend>(cfg), b);
  auto r = ctx->load(mock_options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::BudgetExceeded);
  EXPECT_NE(r.error().message().find(std::to_string(3 * kMiB)), std::string::npos)
      << r.error().to_string();
  EXPECT_EQ(ctx->state(), ContextState::Created);
  EXPECT_FALSE(ctx->backend().is_loaded()) << "a refused model must not stay loaded";
  EXPECT_EQ(ctx->metrics().memory_in_use, 0u);
}

TEST(ExecutionContextMemory, LoadCountsWhatIsAlreadyReserved) {
  auto b = default_budget();
  b.device_memory_bytes = 2 * kMiB;
  auto ctx = make_ctx(std::make_unique<MockBackend>(), b);  // estimate 1 MiB
  ASSERT_TRUE(ctx->allocate_memory(kMiB + 1).ok());
  EXPECT_EQ(ctx->load(mock_options()).error().code(), ErrorCode::BudgetExceeded);
  ASSERT_TRUE(ctx->release_memory(1).ok());
  ASSERT_TRUE(ctx->load(mock_options()).ok()) << "exactly filling the budget is allowed";
  EXPECT_EQ(ctx->metrics().memory_in_use, 2 * kMiB);
  EXPECT_EQ(ctx->allocate_memory(1).error().code(), ErrorCode::BudgetExceeded);
  ASSERT_TRUE(ctx->unload().ok());
  EXPECT_EQ(ctx->metrics().memory_in_use, kMiB);
  ASSERT_TRUE(ctx->release_memory(kMiB).ok());
  EXPECT_EQ(ctx->metrics().memory_in_use, 0u);
  EXPECT_EQ(ctx->metrics().peak_memory, 2 * kMiB);
}

TEST(ExecutionContextMemory, ExecuteRefusesWhenEstimateGrowsBeyondBudget) {
  auto b = default_budget();
  b.device_memory_bytes = 2 * kMiB;
  auto backend = std::make_unique<GrowingMock>();
  auto* mock = backend.get();
  auto ctx = make_ctx(std::move(backend), b);
  ASSERT_TRUE(ctx->load(mock_options()).ok());
  Input in;
  mock->set_estimate(3 * kMiB);
  auto r = ctx->execute(in.request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::BudgetExceeded);
  EXPECT_EQ(mock->execute_count(), 0u) << "refused before reaching the backend";
  EXPECT_EQ(ctx->state(), ContextState::Ready) << "a budget refusal is not a fault";
  EXPECT_EQ(ctx->metrics().rejected, 1u);
  EXPECT_EQ(ctx->metrics().memory_in_use, kMiB);

  mock->set_estimate(kMiB + kMiB / 2);
  ASSERT_TRUE(ctx->execute(in.request).ok());
  EXPECT_EQ(ctx->metrics().memory_in_use, kMiB + kMiB / 2) << "reservation grew to the estimate";
  ASSERT_TRUE(ctx->unload().ok());
  EXPECT_EQ(ctx->metrics().memory_in_use, 0u);
}

TEST(ExecutionContextMemory, ReleaseMoreThanReservedIsRejectedAndChangesNothing) {
  auto ctx = make_ctx(std::make_unique<MockBackend>());
  ASSERT_TRUE(ctx->allocate_memory(100).ok());
  auto r = ctx->release_memory(101);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(ctx->metrics().memory_in_use, 100u);
  EXPECT_TRUE(ctx->release_memory(100).ok());
  EXPECT_TRUE(ctx->allocate_memory(0).ok());
  EXPECT_TRUE(ctx->release_memory(0).ok());
  EXPECT_EQ(ctx->metrics().memory_in_use, 0u);
}

TEST(ExecutionContextMemory, HugeRequestDoesNotWrapAround) {
  auto ctx = make_ctx(std::make_unique<MockBackend>());
  ASSERT_TRUE(ctx->allocate_memory(10).ok());
  EXPECT_EQ(ctx->allocate_memory(static_cast<std::size_t>(-1)).error().code(),
            ErrorCode::BudgetExceeded);
  EXPECT_EQ(ctx->allocate_memory(static_cast<std::size_t>(-1) - 5).error().code(),
            ErrorCode::BudgetExceeded);
  EXPECT_EQ(ctx->metrics().memory_in_use, 10u);
}

// 16 threads x 10000 random allocate/release: never above budget, every
// failure is a real shortage, and everything comes back.
TEST(ExecutionContextMemory, ConcurrentAllocateReleaseNeverOverCommits) {
  constexpr int kThreads = 16;
  constexpr int kOps = 10000;
  auto b = default_budget();
  b.device_memory_bytes = kMiB;
  auto ctx = make_ctx(std::make_unique<MockBackend>(), b);

  std::atomic<bool> stop{false};
  std::atomic<std::size_t> max_seen{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<std::uint64_t> unexpected{0};
  std::thread monitor([&] {
    while (!stop.load()) {
      const auto m = ctx->metrics().memory_in_use;
      if (m > max_seen.load()) max_seen = m;
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<std::uint32_t>(1234 + t));
      std::uniform_int_distribution<std::size_t> size(1, 32 * 1024);
      std::vector<std::size_t> held;
      for (int i = 0; i < kOps; ++i) {
        if (!held.empty() && rng() % 5 < 2) {  // 40% release
          if (!ctx->release_memory(held.back()).ok()) ++unexpected;
          held.pop_back();
        } else {
          const auto n = size(rng);
          auto r = ctx->allocate_memory(n);
          if (r.ok()) {
            held.push_back(n);
          } else if (r.error().code() == ErrorCode::BudgetExceeded) {
            ++failures;
          } else {
            ++unexpected;
          }
        }
      }
      for (auto n : held)
        if (!ctx->release_memory(n).ok()) ++unexpected;
    });
  }
  for (auto& th : threads) th.join();
  stop = true;
  monitor.join();

  const auto m = ctx->metrics();
  EXPECT_EQ(unexpected.load(), 0u);
  EXPECT_EQ(m.memory_in_use, 0u) << "every reservation was returned";
  EXPECT_LE(m.peak_memory, kMiB);
  EXPECT_LE(max_seen.load(), kMiB);
  // The workload is sized to hit the budget: each thread holds ~6 x 16 KiB on
  // average, 16 threads ~1.5 MiB > 1 MiB, so shortages must have happened.
  EXPECT_GT(failures.load(), 0u);
  EXPECT_GT(m.peak_memory, kMiB / 2);
}

// Exactly `budget` one-byte reservations succeed out of many more attempts: no
// lost update and no over-commit.
TEST(ExecutionContextMemory, ConcurrentFillSucceedsExactlyBudgetTimes) {
  constexpr int kThreads = 16;
  constexpr int kOps = 10000;
  constexpr std::size_t kBudget = 100000;  // < kThreads * kOps
  auto b = default_budget();
  b.device_memory_bytes = kBudget;
  auto ctx = make_ctx(std::make_unique<MockBackend>(), b);
  std::atomic<std::uint64_t> successes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kOps; ++i)
        if (ctx->allocate_memory(1).ok()) ++successes;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(successes.load(), kBudget);
  EXPECT_EQ(ctx->metrics().memory_in_use, kBudget);
  EXPECT_EQ(ctx->metrics().peak_memory, kBudget);
  ASSERT_TRUE(ctx->release_memory(kBudget).ok());
  EXPECT_EQ(ctx->metrics().memory_in_use, 0u);
}

// ------------------------------------------------------------ streams, deadlines, metrics

TEST(ExecutionContextStreams, CallsBeyondMaxStreamsAreRefused) {
  HeldCall held;
  MockConfig cfg;
  cfg.hold = held.future();  // the first call stays in flight until released
  auto b = default_budget();
  b.max_streams = 1;
  auto ctx = make_ctx(std::make_unique<MockBackend>(cfg), b);
  ASSERT_TRUE(ctx->load(mock_options()).ok());
  Input in;
  std::jthread t([&] { EXPECT_TRUE(ctx->execute(in.request).ok()); });
  ReleaseOnExit release_on_exit{held};
  ASSERT_TRUE(wait_until([&] { return mock_of(*ctx).execute_count() == 1; })) << "the call never reached the backend";
  ASSERT_EQ(ctx->in_flight(), 1);
  auto r = ctx->execute(in.request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::BudgetExceeded);
  EXPECT_NE(r.error().message().find("max_streams"), std::string::npos);
  held.release();
  t.join();
  EXPECT_EQ(ctx->metrics().rejected, 1u);
  EXPECT_EQ(ctx->metrics().calls, 1u);
  EXPECT_TRUE(ctx->execute(in.request).ok()) << "the stream is free again";
}

TEST(ExecutionContextDeadline, OverrunningComputeBudgetIsReportedNotLost) {
  MockConfig cfg;
  cfg.fixed_latency = 20ms;  // the call sleeps at least this long
  auto b = default_budget();
  b.compute_time_per_call = 1ms;
  auto ctx = make_ctx(std::make_unique<MockBackend>(cfg), b);
  ASSERT_TRUE(ctx->load(mock_options()).ok());
  Input in;
  auto r = ctx->execute(in.request);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->deadline_missed);
  EXPECT_EQ(in.check(*r), "") << "outputs are kept";
  EXPECT_EQ(ctx->metrics().deadline_misses, 1u);
  EXPECT_EQ(ctx->state(), ContextState::Ready);
}

TEST(ExecutionContextDeadline, RequestDeadlineInThePastIsMissed) {
  auto ctx = make_ctx(std::make_unique<MockBackend>());
  ASSERT_TRUE(ctx->load(mock_options()).ok());
  Input in;
  auto r = ctx->execute(in.request);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->deadline_missed) << "no deadline and a 10 s compute budget";
  in.request.deadline = Clock::now() - 1s;
  r = ctx->execute(in.request);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->deadline_missed);
  in.request.deadline = Clock::now() + 1h;
  r = ctx->execute(in.request);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->deadline_missed);
  EXPECT_EQ(ctx->metrics().deadline_misses, 1u);
}

TEST(ExecutionContextMetrics, CountsMatchAKnownSequence) {
  MockConfig cfg;
  cfg.fixed_latency = 2ms;
  auto ctx = make_ctx(std::make_unique<MockBackend>(cfg));
  ASSERT_TRUE(ctx->load(mock_options()).ok());
  Input in;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(ctx->execute(in.request).ok());  // 4 ok
  mock_of(*ctx).fail_on_call(1, ErrorCode::Timeout);
  EXPECT_FALSE(ctx->execute(in.request).ok());  // 1 backend error -> Faulted
  EXPECT_FALSE(ctx->execute(in.request).ok());  // refused (faulted)
  EXPECT_FALSE(ctx->execute(in.request).ok());  // refused (faulted)
  ASSERT_TRUE(ctx->reset().ok());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(ctx->execute(in.request).ok());  // 2 ok
  auto bad = Tensor::allocate_host({2, 4}, DType::Int32, "x").value();
  ExecutionRequest bad_req;
  bad_req.inputs = {{"x", bad.view()}};
  EXPECT_FALSE(ctx->execute(bad_req).ok());  // caller error: counted, no fault

  const auto m = ctx->metrics();
  EXPECT_EQ(m.calls, 8u);   // 4 + 1 + 2 + 1 reached the backend
  EXPECT_EQ(m.errors, 2u);  // the injected timeout and the wrong dtype
  EXPECT_EQ(m.rejected, 2u);
  EXPECT_EQ(m.deadline_misses, 0u);
  EXPECT_EQ(mock_of(*ctx).execute_count(), 7u) << "the wrong-dtype call never reached do_execute";
  // The 6 successful calls slept >= 2 ms each inside the backend (the mock
  // returns an injected failure before sleeping).
  EXPECT_GE(m.total_time, 12ms);
  EXPECT_GE(m.max_time, 2ms);
  EXPECT_LE(m.max_time, m.total_time);
  EXPECT_EQ(m.mean_time, Duration(m.total_time.count() / 8));
  EXPECT_EQ(m.memory_in_use, kMiB);
  EXPECT_EQ(m.peak_memory, kMiB);
  EXPECT_EQ(m.in_flight, 0);
}

// ------------------------------------------------------------ concurrency and isolation

TEST(ExecutionContextConcurrency, ManyThreadsGetCorrectOutputsAndStateStaysConsistent) {
  for (bool thread_safe : {true, false}) {
    SCOPED_TRACE(thread_safe ? "thread-safe backend" : "serialised backend");
    MockConfig cfg;
    cfg.thread_safe = thread_safe;
    auto b = default_budget();
    b.max_streams = 8;
    auto ctx = make_ctx(std::make_unique<MockBackend>(cfg), b);
    ASSERT_TRUE(ctx->load(mock_options()).ok());
    constexpr int kThreads = 8;
    constexpr int kCalls = 200;
    std::atomic<int> wrong{0};
    std::atomic<bool> stop{false};
    std::atomic<int> bad_state{0};
    std::thread watcher([&] {
      while (!stop.load()) {
        const auto s = ctx->state();
        if (s != ContextState::Ready && s != ContextState::Running) ++bad_state;
        if (ctx->in_flight() > kThreads) ++bad_state;
      }
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        Input in(1 + t % 3, static_cast<float>(t));
        for (int i = 0; i < kCalls; ++i) {
          auto r = ctx->execute(in.request);
          if (!r.ok() || !in.check(*r).empty()) ++wrong;
        }
      });
    }
    for (auto& th : threads) th.join();
    stop = true;
    watcher.join();
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_EQ(bad_state.load(), 0);
    EXPECT_EQ(ctx->state(), ContextState::Ready);
    EXPECT_EQ(ctx->in_flight(), 0);
    EXPECT_EQ(ctx->metrics().calls, static_cast<std::uint64_t>(kThreads * kCalls));
    EXPECT_EQ(ctx->metrics().errors, 0u);
  }
}

TEST(ExecutionContextConcurrency, FaultDuringConcurrentCallsIsSeenOnceAndRefusesTheRest) {
  auto b = default_budget();
  b.max_streams = 8;
  auto ctx = make_ctx(std::make_unique<MockBackend>(), b);
  ASSERT_TRUE(ctx->load(mock_options()).ok());
  mock_of(*ctx).fail_on_call(50, ErrorCode::BackendError);
  constexpr int kThreads = 8;
  constexpr int kCalls = 100;
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      Input in;
      for (int i = 0; i < kCalls; ++i) {
        auto r = ctx->execute(in.request);
        if (r.ok()) {
          if (in.check(*r).empty()) ++ok;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto m = ctx->metrics();
  EXPECT_EQ(ctx->state(), ContextState::Faulted);
  EXPECT_EQ(ctx->in_flight(), 0);
  EXPECT_EQ(m.errors, 1u) << "exactly the injected call failed inside the backend";
  EXPECT_GE(m.calls, 50u);
  EXPECT_EQ(m.calls + m.rejected, static_cast<std::uint64_t>(kThreads * kCalls));
  EXPECT_EQ(static_cast<std::uint64_t>(ok.load()), m.calls - 1);
  EXPECT_EQ(static_cast<std::uint64_t>(failed.load()), m.rejected + 1);
  ASSERT_TRUE(ctx->reset().ok());
  Input in;
  EXPECT_TRUE(ctx->execute(in.request).ok());
}

TEST(ExecutionContextIsolation, OneContextsFaultNeverAffectsAnother) {
  auto b = default_budget();
  b.device_memory_bytes = 4 * kMiB;
  auto a = make_ctx(std::make_unique<MockBackend>(), b, "a");
  auto c = make_ctx(std::make_unique<MockBackend>(), b, "c");
  ASSERT_TRUE(a->load(mock_options()).ok());
  ASSERT_TRUE(c->load(mock_options()).ok());
  mock_of(*a).fail_always(ErrorCode::BackendError);
  // a exhausts its own memory budget too.
  ASSERT_TRUE(a->allocate_memory(3 * kMiB).ok());

  std::atomic<int> c_wrong{0};
  std::thread ta([&] {
    Input in;
    for (int i = 0; i < 500; ++i) (void)a->execute(in.request);
  });
  std::thread tc([&] {
    Input in(3);
    for (int i = 0; i < 500; ++i) {
      auto r = c->execute(in.request);
      if (!r.ok() || !in.check(*r).empty()) ++c_wrong;
    }
  });
  ta.join();
  tc.join();

  EXPECT_EQ(a->state(), ContextState::Faulted);
  EXPECT_EQ(a->metrics().errors, 1u);
  EXPECT_EQ(a->metrics().rejected, 499u);
  EXPECT_EQ(c->state(), ContextState::Ready);
  EXPECT_EQ(c_wrong.load(), 0);
  EXPECT_EQ(c->metrics().calls, 500u);
  EXPECT_EQ(c->metrics().errors, 0u);
  EXPECT_EQ(c->metrics().rejected, 0u);
  EXPECT_EQ(c->metrics().memory_in_use, kMiB) << "a's reservations are not c's";
  EXPECT_TRUE(c->allocate_memory(3 * kMiB).ok());
  EXPECT_FALSE(c->last_fault().has_value());
  ASSERT_TRUE(a->last_fault().has_value());
  EXPECT_NE(a->last_fault()->context().find("context 'a'"), std::string::npos)
      << a->last_fault()->to_string();
}

// ------------------------------------------------------------ shared model (model vs instance state)

/// A LoadedModel over a fresh mock; `mock` is set to it (owned by the model).
std::shared_ptr<LoadedModel> load_shared(MockBackend** mock, MockConfig config = {}) {
  auto backend = std::make_unique<MockBackend>(config);
  if (mock != nullptr) *mock = backend.get();
  auto m = LoadedModel::load(ModelId("shared"), std::move(backend), mock_options());
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().to_string());
  return m.ok() ? std::move(m).value() : nullptr;
}

std::unique_ptr<ExecutionContext> make_instance(const std::shared_ptr<LoadedModel>& model,
                                                ContextBudget budget = default_budget()) {
  auto r = ExecutionContext::create_instance(model, budget);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? std::move(r).value() : nullptr;
}

/// Two instances, a and b, of one shared model over a fresh mock.
class SharedModel : public ::testing::Test {
 protected:
  void two_instances(MockConfig config = {}, ContextBudget budget = default_budget()) {
    model = load_shared(&mock, config);
    ASSERT_TRUE(model);
    a = make_instance(model, budget);
    b = make_instance(model, budget);
    ASSERT_TRUE(a && b);
  }

  MockBackend* mock = nullptr;  // owned by model
  std::shared_ptr<LoadedModel> model;
  std::unique_ptr<ExecutionContext> a;
  std::unique_ptr<ExecutionContext> b;
};

TEST_F(SharedModel, InstancesShareOneLoadAndKeepTheirOwnAccounts) {
  ASSERT_NO_FATAL_FAILURE(two_instances());
  EXPECT_EQ(mock->load_count(), 1u) << "two instances, one load";
  EXPECT_EQ(&a->backend(), &b->backend());
  EXPECT_EQ(a->shared_model(), model);
  EXPECT_EQ(a->state(), ContextState::Ready);
  EXPECT_EQ(a->metrics().memory_in_use, kMiB) << "each instance reserves the per-context estimate";
  EXPECT_EQ(b->metrics().memory_in_use, kMiB);

  Input in2(2), in3(3, 1.5f);
  for (int i = 0; i < 3; ++i) {
    auto ra = a->execute(in2.request);
    ASSERT_TRUE(ra.ok()) << ra.error().to_string();
    EXPECT_EQ(in2.check(*ra), "");
  }
  auto rb = b->execute(in3.request);
  ASSERT_TRUE(rb.ok()) << rb.error().to_string();
  EXPECT_EQ(in3.check(*rb), "");
  EXPECT_EQ(mock->execute_count(), 4u);
  EXPECT_EQ(a->metrics().calls, 3u);
  EXPECT_EQ(b->metrics().calls, 1u);
}

TEST_F(SharedModel, InstancesRunAtTheSameTimeOnAThreadSafeBackend) {
  HeldCall held;
  MockConfig cfg;
  cfg.hold = held.future();
  auto b1 = default_budget();
  b1.max_streams = 1;  // each instance is one stream
  ASSERT_NO_FATAL_FAILURE(two_instances(cfg, b1));
  EXPECT_TRUE(model->shared_execution_is_parallel());
  std::atomic<int> good{0};
  std::thread ta([&] {
    Input in;
    auto r = a->execute(in.request);
    if (r.ok() && in.check(*r).empty()) ++good;
  });
  std::thread tb([&] {
    Input in(1);
    auto r = b->execute(in.request);
    if (r.ok() && in.check(*r).empty()) ++good;
  });
  ReleaseOnExit guard{held};
  // Both calls are inside the one backend at once: neither instance waits for the other.
  EXPECT_TRUE(wait_until([&] { return mock->execute_count() == 2; }));
  EXPECT_EQ(a->in_flight(), 1);
  EXPECT_EQ(b->in_flight(), 1);
  held.release();
  ta.join();
  tb.join();
  EXPECT_EQ(good.load(), 2);
}

TEST_F(SharedModel, OneInstancesFaultLeavesTheOthersRunning) {
  ASSERT_NO_FATAL_FAILURE(two_instances());
  mock->fail_on_call(1, ErrorCode::BackendError);
  Input in;
  auto ra = a->execute(in.request);
  ASSERT_FALSE(ra.ok());
  EXPECT_EQ(a->state(), ContextState::Faulted);
  EXPECT_EQ(b->state(), ContextState::Ready);
  auto rb = b->execute(in.request);
  ASSERT_TRUE(rb.ok()) << rb.error().to_string();
  EXPECT_EQ(in.check(*rb), "");
  // The shared model is still loaded: reset() re-admits a without reloading.
  ASSERT_TRUE(a->reset().ok());
  EXPECT_EQ(mock->load_count(), 1u);
  auto ra2 = a->execute(in.request);
  ASSERT_TRUE(ra2.ok()) << ra2.error().to_string();
  EXPECT_EQ(in.check(*ra2), "");
}

TEST_F(SharedModel, InstancesNeverLoadUnloadOrReloadTheSharedBackend) {
  ASSERT_NO_FATAL_FAILURE(two_instances());
  const auto unloads = mock->unload_count();  // RuntimeBackend::load() unloads first
  // load() on an instance is refused, naming why.
  auto l = a->load(mock_options());
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code(), ErrorCode::FailedPrecondition);
  EXPECT_NE(l.error().message().find("shared model"), std::string::npos) << l.error().to_string();
  // unload() returns a's reservation; b keeps running on the still loaded model.
  ASSERT_TRUE(a->unload().ok());
  EXPECT_EQ(a->state(), ContextState::Created);
  EXPECT_EQ(a->metrics().memory_in_use, 0u);
  EXPECT_EQ(mock->unload_count(), unloads);
  Input in;
  auto rb = b->execute(in.request);
  ASSERT_TRUE(rb.ok()) << rb.error().to_string();
  EXPECT_EQ(in.check(*rb), "");
  // A fault that took the shared backend down: reset() refuses to reload it
  // under the other instances, and new instances are refused too.
  mock->fail_on_call(1, ErrorCode::CudaError);
  ASSERT_FALSE(b->execute(in.request).ok());
  model->backend().unload();
  auto rs = b->reset();
  ASSERT_FALSE(rs.ok());
  EXPECT_EQ(rs.error().code(), ErrorCode::FailedPrecondition);
  EXPECT_NE(rs.error().message().find("new LoadedModel"), std::string::npos) << rs.error().to_string();
  EXPECT_EQ(mock->load_count(), 1u);
  auto c = ExecutionContext::create_instance(model, default_budget());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::FailedPrecondition);
}

TEST_F(SharedModel, TheLastInstanceToGoUnloadsTheModel) {
  ASSERT_NO_FATAL_FAILURE(two_instances());
  std::weak_ptr<LoadedModel> watch = model;
  const auto unloads = mock->unload_count();  // RuntimeBackend::load() unloads first
  model.reset();
  a.reset();
  ASSERT_FALSE(watch.expired()) << "b still holds the model";
  EXPECT_EQ(mock->unload_count(), unloads);
  EXPECT_TRUE(mock->is_loaded());
  Input in;
  auto rb = b->execute(in.request);
  ASSERT_TRUE(rb.ok()) << rb.error().to_string();
  b.reset();
  EXPECT_TRUE(watch.expired());
}

TEST_F(SharedModel, BadArgumentsAndBudgetsAreRefused) {
  auto r0 = ExecutionContext::create_instance(nullptr, default_budget());
  ASSERT_FALSE(r0.ok());
  EXPECT_EQ(r0.error().code(), ErrorCode::InvalidArgument);
  auto r1 = LoadedModel::load(ModelId("m"), nullptr, mock_options());
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code(), ErrorCode::InvalidArgument);
  auto r2 = LoadedModel::load(ModelId(""), std::make_unique<MockBackend>(), mock_options());
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code(), ErrorCode::InvalidArgument);
  LoadOptions missing;
  missing.artifact_path = "/nonexistent/model.mock";
  auto r3 = LoadedModel::load(ModelId("m"), std::make_unique<MockBackend>(), missing);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code(), ErrorCode::NotFound);

  model = load_shared(&mock);
  ASSERT_TRUE(model);
  auto small = default_budget();
  small.device_memory_bytes = kMiB / 2;  // below the mock's 1 MiB estimate
  auto r4 = ExecutionContext::create_instance(model, small);
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().code(), ErrorCode::BudgetExceeded);
  EXPECT_NE(r4.error().to_string().find("shared"), std::string::npos) << r4.error().to_string();
  auto bad = default_budget();
  bad.max_streams = 0;
  auto r5 = ExecutionContext::create_instance(model, bad);
  ASSERT_FALSE(r5.ok());
  EXPECT_EQ(r5.error().code(), ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace aegisrt
