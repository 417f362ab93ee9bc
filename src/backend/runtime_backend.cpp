// The non-virtual half of RuntimeBackend: validation, contiguity, timing,
// serialisation and the exception boundary shared by every backend.
#include "aegisrt/backend/runtime_backend.h"

#include <exception>
#include <set>
#include <system_error>

#include "aegisrt/core/file_util.h"

#if defined(AEGISRT_HAVE_CUDA)
#include "aegisrt/cuda/tensor_ops.h"
#endif

namespace aegisrt {

const Tensor* ExecutionResult::find(std::string_view name) const noexcept {
  for (const auto& t : outputs)
    if (t.name() == name) return &t;
  return nullptr;
}

namespace {

std::string spec_names(const std::vector<TensorDesc>& specs) {
  std::string s;
  for (const auto& d : specs) {
    if (!s.empty()) s += ", ";
    s += d.to_string();
  }
  return s;
}

Result<void> check_against(const TensorDesc& spec, const TensorView& view, bool allow_device) {
  const std::string what = "input '" + spec.name + "'";
  AEGIS_TRY(view.validate(what));
  if (view.dtype() != spec.dtype) {
    return Error(ErrorCode::InvalidArgument, what + " has dtype " +
                                                 std::string(dtype_name(view.dtype())) +
                                                 ", expected " +
                                                 std::string(dtype_name(spec.dtype)));
  }
  if (!spec.accepts_shape(view.shape())) {
    return Error(ErrorCode::InvalidArgument, what + " has shape " +
                                                 shape_to_string(view.shape()) + ", expected " +
                                                 shape_to_string(spec.shape));
  }
  if (view.location().is_device() && !allow_device) {
    return Error(ErrorCode::InvalidArgument,
                 what + " is in device memory (" + to_string(view.location()) +
                     ") but this backend accepts host inputs only");
  }
  return {};
}

}  // namespace

Result<std::vector<NamedTensorView>> prepare_inputs(const std::vector<TensorDesc>& specs,
                                                    const std::vector<NamedTensorView>& inputs,
                                                    bool allow_device_inputs,
                                                    std::vector<Tensor>& scratch) {
  if (inputs.size() != specs.size()) {
    return Error(ErrorCode::InvalidArgument,
                 "expected " + std::to_string(specs.size()) + " input(s) (" + spec_names(specs) +
                     "), got " + std::to_string(inputs.size()));
  }
  std::size_t named = 0;
  for (const auto& in : inputs)
    if (!in.name.empty()) ++named;
  if (named != 0 && named != inputs.size()) {
    return Error(ErrorCode::InvalidArgument,
                 "inputs must be all named or all positional, not a mix");
  }

  std::vector<NamedTensorView> ordered(specs.size());
  if (named == 0) {
    for (std::size_t i = 0; i < specs.size(); ++i) ordered[i] = {specs[i].name, inputs[i].view};
  } else {
    std::set<std::string, std::less<>> seen;
    for (const auto& in : inputs) {
      if (!seen.insert(in.name).second) {
        return Error(ErrorCode::InvalidArgument, "input '" + in.name + "' given twice");
      }
      std::size_t idx = specs.size();
      for (std::size_t i = 0; i < specs.size(); ++i)
        if (specs[i].name == in.name) idx = i;
      if (idx == specs.size()) {
        return Error(ErrorCode::InvalidArgument,
                     "unknown input '" + in.name + "'; the model expects: " + spec_names(specs));
      }
      ordered[idx] = {in.name, in.view};
    }
  }

  for (std::size_t i = 0; i < specs.size(); ++i) {
    AEGIS_TRY(check_against(specs[i], ordered[i].view, allow_device_inputs));
    if (ordered[i].view.is_contiguous()) continue;
    if (ordered[i].view.location().is_host()) {
      AEGIS_ASSIGN_OR_RETURN(Tensor copy, copy_to_contiguous(ordered[i].view, specs[i].name));
      ordered[i].view = copy.view();
      scratch.push_back(std::move(copy));
    } else {
#if defined(AEGISRT_HAVE_CUDA)
      AEGIS_ASSIGN_OR_RETURN(Tensor copy, cuda::make_contiguous(ordered[i].view, specs[i].name));
      ordered[i].view = copy.view();
      scratch.push_back(std::move(copy));
#else
      return Error(ErrorCode::Unsupported, "input '" + specs[i].name +
                                               "' is a non-contiguous device view and this "
                                               "build has no CUDA (AEGISRT_WITH_CUDA)");
#endif
    }
  }
  return ordered;
}

Result<void> RuntimeBackend::load(const LoadOptions& options) {
  unload();
  const std::string where = "loading '" + options.artifact_path.string() + "' with backend '" +
                            std::string(name()) + "'";
  if (options.artifact_path.empty()) {
    return Error(ErrorCode::InvalidArgument, "no artefact path given", where);
  }
  std::error_code ec;
  const auto status = std::filesystem::status(options.artifact_path, ec);
  if (!ec && std::filesystem::is_directory(status)) {
    // A folder artefact: the backend itself says whether it takes one.
  } else {
    // Missing, dangling link, link loop, FIFO, socket or device: a typed error
    // naming the file, before any runtime opens it (a FIFO would block it forever).
    auto checked = check_regular_file(options.artifact_path, "model file");
    if (!checked.ok()) return checked.error().with_context(where);
    const auto size = *checked;
    if (size == 0) {
      return Error(ErrorCode::Corrupt, "model file '" + options.artifact_path.string() +
                                           "' is empty", where);
    }
  }
  try {
    auto r = do_load(options);
    if (!r.ok()) {
      do_unload();
      return std::move(r).error().with_context(where);
    }
    inputs_cache_ = do_input_specs();
    outputs_cache_ = do_output_specs();
    const auto caps = capabilities();
    thread_safe_cache_ = caps.thread_safe_execute;
    device_inputs_cache_ = caps.device_inputs;
  } catch (const std::exception& e) {
    do_unload();
    return Error(ErrorCode::Internal, std::string("exception escaped backend load: ") + e.what(),
                 where);
  } catch (...) {
    do_unload();
    return Error(ErrorCode::Internal, "unknown exception escaped backend load", where);
  }
  loaded_.store(true, std::memory_order_release);
  return {};
}

void RuntimeBackend::unload() noexcept {
  // Clear the flag first so concurrent callers see FailedPrecondition, not a half state.
  loaded_.store(false, std::memory_order_release);
  try {
    do_unload();
  } catch (...) {  // NOLINT(bugprone-empty-catch): unload never fails by contract
  }
  inputs_cache_.clear();
  outputs_cache_.clear();
}

std::vector<TensorDesc> RuntimeBackend::input_specs() const {
  return is_loaded() ? inputs_cache_ : std::vector<TensorDesc>{};
}
std::vector<TensorDesc> RuntimeBackend::output_specs() const {
  return is_loaded() ? outputs_cache_ : std::vector<TensorDesc>{};
}

Result<std::size_t> RuntimeBackend::estimate_memory() const {
  if (!is_loaded()) {
    return Error(ErrorCode::FailedPrecondition,
                 "estimate_memory() on backend '" + std::string(name()) + "' with nothing loaded");
  }
  try {
    return do_estimate_memory();
  } catch (const std::exception& e) {
    return Error(ErrorCode::Internal, std::string("exception in estimate_memory: ") + e.what());
  }
}

Result<ExecutionResult> RuntimeBackend::execute(const ExecutionRequest& request) {
  if (!is_loaded()) {
    return Error(ErrorCode::FailedPrecondition,
                 "execute() on backend '" + std::string(name()) + "' before load()");
  }
  try {
    if (thread_safe_cache_) return execute_checked(request);
    std::lock_guard lock(serial_mutex_);
    return execute_checked(request);
  } catch (const std::exception& e) {
    return Error(ErrorCode::Internal,
                 "exception escaped backend '" + std::string(name()) + "' execute: " + e.what());
  } catch (...) {
    return Error(ErrorCode::Internal,
                 "unknown exception escaped backend '" + std::string(name()) + "' execute");
  }
}

namespace {

// True when the request can go to the backend as it is: inputs already in
// spec order (names empty or matching), valid, matching dtype/shape, allowed
// location and contiguous. Allocation-free: the common case pays no copies.
// Anything else takes the slow path, which also produces the precise error.
bool ready_as_is(const std::vector<TensorDesc>& specs, const std::vector<NamedTensorView>& inputs,
                 bool allow_device) noexcept {
  if (inputs.size() != specs.size()) return false;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto& in = inputs[i];
    const auto& spec = specs[i];
    if (!in.name.empty() && in.name != spec.name) return false;
    const auto& v = in.view;
    if (v.dtype() != spec.dtype || v.strides().size() != v.shape().size()) return false;
    if (!spec.accepts_shape(v.shape())) return false;
    if (v.location().is_device() && !allow_device) return false;
    for (auto st : v.strides())
      if (st < 0) return false;
    if (v.data() == nullptr && v.element_count() != 0) return false;
    if (!v.is_contiguous()) return false;
  }
  return true;
}

}  // namespace

Result<ExecutionResult> RuntimeBackend::execute_checked(const ExecutionRequest& request) {
  if (ready_as_is(inputs_cache_, request.inputs, device_inputs_cache_)) {
    return run_and_time(request);
  }
  std::vector<Tensor> scratch;
  AEGIS_ASSIGN_OR_RETURN(auto prepared,
                         prepare_inputs(inputs_cache_, request.inputs, device_inputs_cache_, scratch));
  ExecutionRequest checked;
  checked.inputs = std::move(prepared);
  checked.stream = request.stream;
  checked.deadline = request.deadline;
  checked.output_placement = request.output_placement;
  return run_and_time(checked);
}

Result<ExecutionResult> RuntimeBackend::run_and_time(const ExecutionRequest& request) {
  const auto start = Clock::now();
  auto result = do_execute(request);
  const auto end = Clock::now();
  if (!result.ok()) return result;
  if (result->outputs.size() != outputs_cache_.size()) {
    return Error(ErrorCode::Internal,
                 "backend '" + std::string(name()) + "' returned " +
                     std::to_string(result->outputs.size()) + " outputs, declared " +
                     std::to_string(outputs_cache_.size()));
  }
  for (std::size_t i = 0; i < outputs_cache_.size(); ++i) {
    auto& out = result->outputs[i];
    if (out.name().empty()) out.set_name(outputs_cache_[i].name);
  }
  result->latency = std::chrono::duration_cast<Duration>(end - start);
  result->deadline_missed = request.deadline.has_value() && end > *request.deadline;
  return result;
}

}  // namespace aegisrt
