// MockBackend: a test double that computes y = scale * x + bias (float32) so
// tests can assert values, with configurable latency, error injection and call
// tracking. Test-only; never part of the library.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <vector>

#include "aegisrt/backend/runtime_backend.h"

namespace aegisrt::testing {

/// The artefact MockBackend loads: a small text file "aegis-mock v1 <features>".
/// Anything else is rejected as Corrupt, like a real backend rejects a foreign file.
inline constexpr const char* kMockArtefactHeader = "aegis-mock v1";

struct MockConfig {
  Shape input_shape{kDynamicDim, 4};  // dynamic batch
  float scale = 2.0f;
  float bias = 1.0f;
  Duration fixed_latency{0};
  Duration random_latency_max{0};  // uniform [0, max) extra, seeded
  /// When valid, each call waits for it (after being counted in
  /// execute_count()): a test holds calls in flight for exactly as long as it
  /// needs, instead of racing a sleep against machine load.
  std::shared_future<void> hold;
  std::uint32_t seed = 42;
  std::size_t memory_estimate = 1 << 20;
  bool thread_safe = true;
};

class MockBackend : public RuntimeBackend {
 public:
  explicit MockBackend(MockConfig config = {});

  std::string_view name() const noexcept override { return "mock"; }
  BackendCapabilities capabilities() const override;

  // Error injection.
  void fail_always(ErrorCode code);
  /// Fails only the n-th execute() from now (1 = the next one).
  void fail_on_call(std::uint64_t n, ErrorCode code);
  void clear_failures();
  /// Makes do_execute throw (to prove the base class stops exceptions).
  void throw_on_execute(bool enabled) { throw_on_execute_ = enabled; }

  // Call tracking.
  std::uint64_t execute_count() const noexcept { return execute_count_.load(); }
  std::uint64_t load_count() const noexcept { return load_count_.load(); }
  std::uint64_t unload_count() const noexcept { return unload_count_.load(); }
  /// Shapes of the inputs of the last request, and every request's batch size.
  std::optional<Shape> last_input_shape() const;
  std::vector<std::int64_t> batch_history() const;
  void reset();

 protected:
  Result<void> do_load(const LoadOptions& options) override;
  Result<ExecutionResult> do_execute(const ExecutionRequest& request) override;
  void do_unload() noexcept override;
  std::vector<TensorDesc> do_input_specs() const override;
  std::vector<TensorDesc> do_output_specs() const override;
  Result<std::size_t> do_estimate_memory() const override;

  MockConfig config_;

 private:
  Duration next_latency();

  std::atomic<std::uint64_t> execute_count_{0};
  std::atomic<std::uint64_t> load_count_{0};
  std::atomic<std::uint64_t> unload_count_{0};
  std::atomic<bool> throw_on_execute_{false};
  mutable std::mutex mutex_;  // guards the fields below
  std::optional<ErrorCode> fail_always_;
  std::optional<std::pair<std::uint64_t, ErrorCode>> fail_on_;  // absolute call number
  std::optional<Shape> last_shape_;
  std::vector<std::int64_t> batches_;
  std::mt19937 rng_;
  bool loaded_ = false;
};

/// Writes a valid mock artefact and returns its path.
std::filesystem::path write_mock_artefact(const std::filesystem::path& dir);

}  // namespace aegisrt::testing
