#include "mocks/mock_backend.h"

#include <fstream>
#include <sstream>
#include <thread>

namespace aegisrt::testing {

MockBackend::MockBackend(MockConfig config) : config_(std::move(config)), rng_(config_.seed) {}

BackendCapabilities MockBackend::capabilities() const {
  BackendCapabilities c;
  c.dtypes = {DType::Float32};
  c.devices = {DeviceKind::CPU};
  c.dynamic_shapes = true;
  c.thread_safe_execute = config_.thread_safe;
  return c;
}

void MockBackend::fail_always(ErrorCode code) {
  std::lock_guard lock(mutex_);
  fail_always_ = code;
}

void MockBackend::fail_on_call(std::uint64_t n, ErrorCode code) {
  std::lock_guard lock(mutex_);
  fail_on_ = std::make_pair(execute_count_.load() + n, code);
}

void MockBackend::clear_failures() {
  std::lock_guard lock(mutex_);
  fail_always_.reset();
  fail_on_.reset();
}

std::optional<Shape> MockBackend::last_input_shape() const {
  std::lock_guard lock(mutex_);
  return last_shape_;
}

std::vector<std::int64_t> MockBackend::batch_history() const {
  std::lock_guard lock(mutex_);
  return batches_;
}

void MockBackend::reset() {
  clear_failures();
  std::lock_guard lock(mutex_);
  execute_count_ = 0;
  load_count_ = 0;
  unload_count_ = 0;
  last_shape_.reset();
  batches_.clear();
  rng_.seed(config_.seed);
}

Result<void> MockBackend::do_load(const LoadOptions& options) {
  ++load_count_;
  std::ifstream in(options.artifact_path, std::ios::binary);
  if (!in) {
    return Error(ErrorCode::IoError, "cannot open '" + options.artifact_path.string() + "'");
  }
  std::string header(std::char_traits<char>::length(kMockArtefactHeader), '\0');
  in.read(header.data(), static_cast<std::streamsize>(header.size()));
  if (in.gcount() != static_cast<std::streamsize>(header.size())) {
    return Error(ErrorCode::Corrupt,
                 "'" + options.artifact_path.string() + "' is truncated: no mock header");
  }
  if (header != kMockArtefactHeader) {
    return Error(ErrorCode::Corrupt,
                 "'" + options.artifact_path.string() + "' is not a mock artefact");
  }
  std::lock_guard lock(mutex_);
  loaded_ = true;
  return {};
}

Duration MockBackend::next_latency() {
  Duration d = config_.fixed_latency;
  if (config_.random_latency_max.count() > 0) {
    std::lock_guard lock(mutex_);
    std::uniform_int_distribution<std::int64_t> dist(0, config_.random_latency_max.count() - 1);
    d += Duration(dist(rng_));
  }
  return d;
}

Result<ExecutionResult> MockBackend::do_execute(const ExecutionRequest& request) {
  const auto call = ++execute_count_;
  {
    std::lock_guard lock(mutex_);
    last_shape_ = request.inputs.at(0).view.shape();
    batches_.push_back(request.inputs.at(0).view.shape().at(0));
    if (fail_always_) return Error(*fail_always_, "mock: injected failure (always)");
    if (fail_on_ && fail_on_->first == call) {
      return Error(fail_on_->second, "mock: injected failure on call " + std::to_string(call));
    }
  }
  if (throw_on_execute_) throw std::runtime_error("mock: injected exception");
  if (config_.hold.valid()) config_.hold.wait();
  if (auto d = next_latency(); d.count() > 0) std::this_thread::sleep_for(d);

  const auto& in = request.inputs.at(0).view;
  AEGIS_ASSIGN_OR_RETURN(Tensor out, Tensor::allocate_host(in.shape(), DType::Float32, "y"));
  const float* x = in.data_as<float>();
  float* y = out.data_as<float>();
  for (std::int64_t i = 0; i < out.element_count(); ++i) y[i] = config_.scale * x[i] + config_.bias;
  ExecutionResult r;
  r.outputs.push_back(std::move(out));
  return r;
}

void MockBackend::do_unload() noexcept {
  ++unload_count_;
  std::lock_guard lock(mutex_);
  loaded_ = false;
}

std::vector<TensorDesc> MockBackend::do_input_specs() const {
  return {{"x", config_.input_shape, DType::Float32}};
}
std::vector<TensorDesc> MockBackend::do_output_specs() const {
  return {{"y", config_.input_shape, DType::Float32}};
}
Result<std::size_t> MockBackend::do_estimate_memory() const { return config_.memory_estimate; }

std::filesystem::path write_mock_artefact(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  auto p = dir / "model.mock";
  std::ofstream(p, std::ios::binary) << kMockArtefactHeader << "\n";
  return p;
}

}  // namespace aegisrt::testing
