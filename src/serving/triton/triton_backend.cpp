// libtriton_aegisrt.so: a Triton Inference Server backend over AegisRT's
// Pipeline (pipeline mode: encoded image in, detections + result JSON out).
//
// Model state (one per Triton model): the parsed configuration and the
// Pipeline loaded at model load, so that a model AegisRT cannot load is
// UNAVAILABLE in Triton with AegisRT's message. Instance state (one per
// instance_group instance): the Pipeline the instance executes on. The first
// instance adopts the model's loaded Pipeline; further instances load their
// own, because a Pipeline (and its ExecutionContext, tracker and buffers) is
// used by one thread at a time and Triton runs instances concurrently.
//
// Every request is answered on its own: a corrupt image, a wrong dtype or
// shape gives that request a Triton error; the other requests of the same
// execute() and the server carry on. No exception crosses the C API.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "aegisrt/pipeline/pipeline.h"
#include "aegisrt/vision/image.h"
#include "serving/triton/backend_config.h"
#include "serving/triton/triton_c_api.h"

namespace aegisrt::serving {
namespace {

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

TRITONSERVER_Error_Code to_triton_code(ErrorCode c) {
  switch (c) {
    case ErrorCode::InvalidArgument:
    case ErrorCode::Corrupt:
      return TRITONSERVER_ERROR_INVALID_ARG;
    case ErrorCode::NotFound:
      return TRITONSERVER_ERROR_NOT_FOUND;
    case ErrorCode::Unsupported:
      return TRITONSERVER_ERROR_UNSUPPORTED;
    case ErrorCode::NotLoaded:
    case ErrorCode::BudgetExceeded:
    case ErrorCode::Timeout:
    case ErrorCode::DeadlineMissed:
      return TRITONSERVER_ERROR_UNAVAILABLE;
    default:
      return TRITONSERVER_ERROR_INTERNAL;
  }
}

TRITONSERVER_Error* to_triton(const Error& e) {
  return TRITONSERVER_ErrorNew(to_triton_code(e.code()), ("aegisrt: " + e.to_string()).c_str());
}

void log(TRITONSERVER_LogLevel level, int line, const std::string& msg) {
  if (TRITONSERVER_Error* err = TRITONSERVER_LogMessage(level, __FILE__, line, msg.c_str())) {
    TRITONSERVER_ErrorDelete(err);
  }
}

/// Turns a server-call error into an AegisRT Error (and frees it).
Error from_triton(TRITONSERVER_Error* err, std::string_view what) {
  std::string msg = std::string(what) + ": " + TRITONSERVER_ErrorMessage(err);
  TRITONSERVER_ErrorDelete(err);
  return Error(ErrorCode::Internal, std::move(msg));
}

#define AEGIS_TRITON_TRY(call, what)                         \
  do {                                                       \
    if (TRITONSERVER_Error* err_ = (call)) return from_triton(err_, what); \
  } while (0)

/// The outputs a pipeline of this layout family produces (besides RESULT_JSON).
std::vector<std::string_view> family_outputs(models::OutputLayout layout) {
  switch (layout) {
    case models::OutputLayout::YoloV8:
      return {kOutputDetections};
    case models::OutputLayout::YoloV8Seg:
      return {kOutputDetections, kOutputMasks};
    case models::OutputLayout::YoloV8Pose:
      return {kOutputDetections, kOutputKeypoints};
    case models::OutputLayout::SimCC:
      return {kOutputKeypoints};
    case models::OutputLayout::RelativeInverseDepth:
    case models::OutputLayout::MetricDepth:
      return {kOutputDepth};
    default:
      return {};
  }
}

struct ModelState {
  BackendConfig config;
  std::mutex mu;
  std::unique_ptr<pipeline::Pipeline> spare;  // loaded at model load, adopted by the first instance

  Result<std::unique_ptr<pipeline::Pipeline>> make_pipeline() const {
    auto p = pipeline::Pipeline::create(config.options, config.models_dir);
    if (!p.ok()) return p.error().with_context("aegisrt model '" + config.triton_model_name + "'");
    if (family_outputs((*p)->info().output_layout).empty()) {
      return Error(ErrorCode::Unsupported,
                   "aegisrt model '" + config.triton_model_name + "': output layout '" +
                       std::string(models::to_string((*p)->info().output_layout)) +
                       "' is not served in pipeline mode (detections, yolo_v8_seg, yolo_v8_pose, simcc, depth are)");
    }
    return p;
  }
};

struct InstanceState {
  ModelState* model = nullptr;
  std::string name;
  std::unique_ptr<pipeline::Pipeline> pipeline;
};

Result<std::string> model_config_json(TRITONBACKEND_Model* model) {
  TRITONSERVER_Message* msg = nullptr;
  AEGIS_TRITON_TRY(TRITONBACKEND_ModelConfig(model, 1, &msg), "reading the model configuration");
  const char* base = nullptr;
  std::size_t size = 0;
  TRITONSERVER_Error* err = TRITONSERVER_MessageSerializeToJson(msg, &base, &size);
  std::string out = err == nullptr ? std::string(base, size) : std::string();
  if (TRITONSERVER_Error* e2 = TRITONSERVER_MessageDelete(msg)) TRITONSERVER_ErrorDelete(e2);
  if (err != nullptr) return from_triton(err, "serialising the model configuration");
  return out;
}

/// One request input gathered into one host buffer.
struct InputData {
  TRITONSERVER_DataType dtype = TRITONSERVER_TYPE_INVALID;
  std::vector<std::int64_t> shape;
  std::vector<std::byte> bytes;
};

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string t;
  for (std::size_t i = 0; i < shape.size(); ++i) t += (i ? "," : "") + std::to_string(shape[i]);
  return "[" + t + "]";
}

/// The request's input `name`, or nullopt when the request does not have it.
Result<std::optional<InputData>> read_input(TRITONBACKEND_Request* request, std::string_view name) {
  TRITONBACKEND_Input* input = nullptr;
  if (TRITONSERVER_Error* err = TRITONBACKEND_RequestInput(request, std::string(name).c_str(), &input)) {
    TRITONSERVER_ErrorDelete(err);
    return std::optional<InputData>();
  }
  const char* iname = nullptr;
  InputData out;
  const std::int64_t* shape = nullptr;
  std::uint32_t dims = 0;
  std::uint64_t byte_size = 0;
  std::uint32_t buffers = 0;
  AEGIS_TRITON_TRY(TRITONBACKEND_InputProperties(input, &iname, &out.dtype, &shape, &dims, &byte_size, &buffers),
                   "reading properties of input '" + std::string(name) + "'");
  out.shape.assign(shape, shape + dims);
  out.bytes.reserve(byte_size);
  for (std::uint32_t b = 0; b < buffers; ++b) {
    const void* ptr = nullptr;
    std::uint64_t size = 0;
    TRITONSERVER_MemoryType mem = TRITONSERVER_MEMORY_CPU;
    std::int64_t mem_id = 0;
    AEGIS_TRITON_TRY(TRITONBACKEND_InputBuffer(input, b, &ptr, &size, &mem, &mem_id),
                     "reading a buffer of input '" + std::string(name) + "'");
    if (mem == TRITONSERVER_MEMORY_GPU) {
      return Error(ErrorCode::Unsupported, "input '" + std::string(name) + "' is in GPU memory; send it in CPU memory");
    }
    const auto* p = static_cast<const std::byte*>(ptr);
    out.bytes.insert(out.bytes.end(), p, p + size);
  }
  if (out.bytes.size() != byte_size) {
    return Error(ErrorCode::InvalidArgument, "input '" + std::string(name) + "': buffers hold " +
                                                 std::to_string(out.bytes.size()) + " bytes, the input declares " +
                                                 std::to_string(byte_size));
  }
  return std::optional<InputData>(std::move(out));
}

/// The request's image: IMAGE (one encoded PNG/JPEG, BYTES [1]) or FRAME
/// (raw RGB, UINT8 [H,W,3]); exactly one of them.
Result<vision::Image> read_image(TRITONBACKEND_Request* request, const std::string& source) {
  AEGIS_ASSIGN_OR_RETURN(std::optional<InputData> encoded, read_input(request, kInputImage));
  AEGIS_ASSIGN_OR_RETURN(std::optional<InputData> frame, read_input(request, kInputFrame));
  const std::string both = "'" + std::string(kInputImage) + "' (one encoded PNG/JPEG image as BYTES [1]) or '" +
                           std::string(kInputFrame) + "' (a raw RGB frame as UINT8 [H,W,3])";
  if (encoded && frame) return Error(ErrorCode::InvalidArgument, "request has both inputs; give one of " + both);
  if (!encoded && !frame) return Error(ErrorCode::InvalidArgument, "request has no image; give " + both);
  if (encoded) {
    if (encoded->dtype != TRITONSERVER_TYPE_BYTES) {
      return Error(ErrorCode::InvalidArgument, "input '" + std::string(kInputImage) + "' has data type code " +
                                                   std::to_string(static_cast<int>(encoded->dtype)) +
                                                   ", expected BYTES (one encoded PNG/JPEG image)");
    }
    std::int64_t elements = 1;
    for (const std::int64_t d : encoded->shape) elements *= d;
    if (elements != 1) {
      return Error(ErrorCode::InvalidArgument, "input '" + std::string(kInputImage) + "' has shape " +
                                                   shape_text(encoded->shape) +
                                                   ", expected [1] (one encoded image per request)");
    }
    AEGIS_ASSIGN_OR_RETURN(auto elems, split_bytes_tensor(encoded->bytes, 1, kInputImage));
    return vision::decode_image(elems.front(), source, 3);
  }
  if (frame->dtype != TRITONSERVER_TYPE_UINT8) {
    return Error(ErrorCode::InvalidArgument, "input '" + std::string(kInputFrame) + "' has data type code " +
                                                 std::to_string(static_cast<int>(frame->dtype)) +
                                                 ", expected UINT8 (a raw RGB frame, HWC)");
  }
  AEGIS_ASSIGN_OR_RETURN(const auto wh, check_frame_shape(frame->shape, frame->bytes.size(), kInputFrame));
  return vision::Image::from_pixels(
      wh.first, wh.second, 3,
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(frame->bytes.data()), frame->bytes.size()));
}

Result<void> write_output(TRITONBACKEND_Response* response, std::string_view name, TRITONSERVER_DataType dtype,
                          const std::vector<std::int64_t>& shape, const void* bytes, std::size_t size) {
  TRITONBACKEND_Output* out = nullptr;
  AEGIS_TRITON_TRY(TRITONBACKEND_ResponseOutput(response, &out, std::string(name).c_str(), dtype, shape.data(),
                                                static_cast<std::uint32_t>(shape.size())),
                   "creating output " + std::string(name));
  if (size == 0) return {};
  void* buf = nullptr;
  TRITONSERVER_MemoryType mem = TRITONSERVER_MEMORY_CPU;
  std::int64_t mem_id = 0;
  AEGIS_TRITON_TRY(TRITONBACKEND_OutputBuffer(out, &buf, size, &mem, &mem_id), "allocating output " + std::string(name));
  if (mem == TRITONSERVER_MEMORY_GPU) {
    return Error(ErrorCode::Unsupported, "output '" + std::string(name) + "' was given GPU memory; the aegisrt "
                                             "backend writes outputs from the host");
  }
  std::memcpy(buf, bytes, size);
  return {};
}

std::string_view request_id(TRITONBACKEND_Request* request) {
  const char* id = nullptr;
  if (TRITONSERVER_Error* err = TRITONBACKEND_RequestId(request, &id)) {
    TRITONSERVER_ErrorDelete(err);
    return {};
  }
  return id != nullptr ? std::string_view(id) : std::string_view();
}

/// Writes one requested pipeline output from `result`.
Result<void> write_pipeline_output(InstanceState& inst, const pipeline::FrameResult& result,
                                   TRITONBACKEND_Response* response, std::string_view n) {
  const auto& info = inst.pipeline->info();
  const auto outs = family_outputs(info.output_layout);
  if (n == kOutputJson) {
    const std::vector<std::byte> elem = encode_bytes_element(inst.pipeline->to_json(result));
    return write_output(response, n, TRITONSERVER_TYPE_BYTES, {1}, elem.data(), elem.size());
  }
  if (std::find(outs.begin(), outs.end(), n) == outs.end()) {
    std::string known = std::string(kOutputJson);
    for (const auto o : outs) known += ", " + std::string(o);
    return Error(ErrorCode::InvalidArgument, "unknown output '" + std::string(n) + "' for a " +
                                                 std::string(models::to_string(info.output_layout)) +
                                                 " model (this model has " + known + ")");
  }
  if (n == kOutputDetections) {
    const std::vector<float> rows = detections_to_rows(result.detections());
    return write_output(response, n, TRITONSERVER_TYPE_FP32, {static_cast<std::int64_t>(rows.size() / 6), 6},
                        rows.data(), rows.size() * sizeof(float));
  }
  if (n == kOutputMasks) {
    const auto* seg = std::get_if<pipeline::InstanceSegmentationResult>(&result.output);
    if (seg == nullptr) return Error(ErrorCode::Internal, "segment model produced no masks");
    const std::vector<std::uint8_t> dense = masks_to_dense(seg->masks, result.width, result.height);
    return write_output(response, n, TRITONSERVER_TYPE_UINT8,
                        {static_cast<std::int64_t>(seg->masks.size()), result.height, result.width}, dense.data(),
                        dense.size());
  }
  if (n == kOutputKeypoints) {
    std::vector<std::vector<vision::Keypoint>> instances;
    if (const auto* pose = std::get_if<pipeline::PoseResult>(&result.output)) {
      instances = pose->keypoints;
    } else if (std::holds_alternative<pipeline::KeypointsResult>(result.output)) {
      instances.push_back(result.keypoints());
    } else {
      return Error(ErrorCode::Internal, "keypoint model produced no keypoints");
    }
    std::size_t k = 0;
    AEGIS_ASSIGN_OR_RETURN(const std::vector<float> rows, keypoints_to_rows(instances, k));
    return write_output(response, n, TRITONSERVER_TYPE_FP32,
                        {static_cast<std::int64_t>(instances.size()), static_cast<std::int64_t>(k), 3}, rows.data(),
                        rows.size() * sizeof(float));
  }
  if (n == kOutputDepth) {
    const pipeline::DepthResult* d = result.depth();
    if (d == nullptr) return Error(ErrorCode::Internal, "depth model produced no depth map");
    const vision::Image& img = d->colorized;
    return write_output(response, n, TRITONSERVER_TYPE_UINT8, {img.height(), img.width(), img.channels()},
                        img.data(), img.byte_size());
  }
  return Error(ErrorCode::Internal, "output '" + std::string(n) + "' is not written by the aegisrt backend");
}

/// Runs one request and fills `response`. Any error is the request's own.
Result<void> execute_one(InstanceState& inst, TRITONBACKEND_Request* request, TRITONBACKEND_Response* response,
                         std::uint64_t& compute_start, std::uint64_t& compute_end) {
  const std::string_view id = request_id(request);
  const std::string source = id.empty() ? std::string("request") : "request " + std::string(id);
  compute_start = now_ns();
  AEGIS_ASSIGN_OR_RETURN(vision::Image image, read_image(request, source));
  AEGIS_ASSIGN_OR_RETURN(pipeline::FrameResult result, inst.pipeline->run(image, source));
  compute_end = now_ns();

  std::uint32_t outputs = 0;
  AEGIS_TRITON_TRY(TRITONBACKEND_RequestOutputCount(request, &outputs), "counting requested outputs");
  for (std::uint32_t i = 0; i < outputs; ++i) {
    const char* name = nullptr;
    AEGIS_TRITON_TRY(TRITONBACKEND_RequestOutputName(request, i, &name), "reading requested output name");
    AEGIS_TRY(write_pipeline_output(inst, result, response, name));
  }
  return {};
}

template <typename F>
TRITONSERVER_Error* guarded(const char* what, F&& f) noexcept {
  try {
    return f();
  } catch (const std::exception& e) {
    return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL, (std::string("aegisrt: ") + what + ": " + e.what()).c_str());
  } catch (...) {
    return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL, (std::string("aegisrt: ") + what + ": unknown exception").c_str());
  }
}

}  // namespace
}  // namespace aegisrt::serving

using aegisrt::serving::InstanceState;
using aegisrt::serving::ModelState;
namespace as = aegisrt::serving;

extern "C" {

TRITONSERVER_Error* TRITONBACKEND_Initialize(TRITONBACKEND_Backend* /*backend*/) {
  return as::guarded("initialize", []() -> TRITONSERVER_Error* {
    std::uint32_t major = 0;
    std::uint32_t minor = 0;
    if (TRITONSERVER_Error* err = TRITONBACKEND_ApiVersion(&major, &minor)) return err;
    if (major != kTritonBackendApiMajor) {
      return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_UNSUPPORTED,
                                   ("aegisrt backend: server backend API " + std::to_string(major) + "." +
                                    std::to_string(minor) + ", this backend needs major version " +
                                    std::to_string(kTritonBackendApiMajor))
                                       .c_str());
    }
    as::log(TRITONSERVER_LOG_INFO, __LINE__,
            "aegisrt backend: Triton backend API " + std::to_string(major) + "." + std::to_string(minor));
    return nullptr;
  });
}

TRITONSERVER_Error* TRITONBACKEND_ModelInitialize(TRITONBACKEND_Model* model) {
  return as::guarded("model initialize", [model]() -> TRITONSERVER_Error* {
    auto json = as::model_config_json(model);
    if (!json.ok()) return as::to_triton(json.error());
    auto cfg = as::parse_backend_config(*json);
    if (!cfg.ok()) return as::to_triton(cfg.error());
    auto state = std::make_unique<ModelState>();
    state->config = std::move(*cfg);
    auto p = state->make_pipeline();
    if (!p.ok()) {
      as::log(TRITONSERVER_LOG_ERROR, __LINE__, "aegisrt: " + p.error().to_string());
      return as::to_triton(p.error());
    }
    const auto& info = (*p)->info();
    as::log(TRITONSERVER_LOG_INFO, __LINE__,
            "aegisrt model '" + state->config.triton_model_name + "': " + info.model + "/" + info.variant + " on " +
                info.backend + " (" + info.precision + "), " + info.onnx_path.string());
    state->spare = std::move(*p);
    if (TRITONSERVER_Error* err = TRITONBACKEND_ModelSetState(model, state.get())) return err;
    state.release();
    return nullptr;
  });
}

TRITONSERVER_Error* TRITONBACKEND_ModelFinalize(TRITONBACKEND_Model* model) {
  return as::guarded("model finalize", [model]() -> TRITONSERVER_Error* {
    void* vs = nullptr;
    if (TRITONSERVER_Error* err = TRITONBACKEND_ModelState(model, &vs)) return err;
    delete static_cast<ModelState*>(vs);
    return nullptr;
  });
}

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceInitialize(TRITONBACKEND_ModelInstance* instance) {
  return as::guarded("instance initialize", [instance]() -> TRITONSERVER_Error* {
    TRITONBACKEND_Model* model = nullptr;
    if (TRITONSERVER_Error* err = TRITONBACKEND_ModelInstanceModel(instance, &model)) return err;
    void* vs = nullptr;
    if (TRITONSERVER_Error* err = TRITONBACKEND_ModelState(model, &vs)) return err;
    auto* ms = static_cast<ModelState*>(vs);
    auto inst = std::make_unique<InstanceState>();
    inst->model = ms;
    const char* name = nullptr;
    if (TRITONSERVER_Error* err = TRITONBACKEND_ModelInstanceName(instance, &name)) return err;
    inst->name = name != nullptr ? name : "";
    {
      std::lock_guard lock(ms->mu);
      inst->pipeline = std::move(ms->spare);
    }
    if (!inst->pipeline) {
      auto p = ms->make_pipeline();
      if (!p.ok()) return as::to_triton(p.error());
      inst->pipeline = std::move(*p);
    }
    if (TRITONSERVER_Error* err = TRITONBACKEND_ModelInstanceSetState(instance, inst.get())) return err;
    inst.release();
    return nullptr;
  });
}

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceFinalize(TRITONBACKEND_ModelInstance* instance) {
  return as::guarded("instance finalize", [instance]() -> TRITONSERVER_Error* {
    void* vs = nullptr;
    if (TRITONSERVER_Error* err = TRITONBACKEND_ModelInstanceState(instance, &vs)) return err;
    delete static_cast<InstanceState*>(vs);
    return nullptr;
  });
}

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceExecute(TRITONBACKEND_ModelInstance* instance,
                                                       TRITONBACKEND_Request** requests,
                                                       const std::uint32_t request_count) {
  // From here on every request is answered and released by us; errors are per request.
  void* vs = nullptr;
  if (TRITONSERVER_Error* err = TRITONBACKEND_ModelInstanceState(instance, &vs)) return err;
  auto* inst = static_cast<InstanceState*>(vs);
  for (std::uint32_t r = 0; r < request_count; ++r) {
    TRITONBACKEND_Request* request = requests[r];
    const std::uint64_t exec_start = as::now_ns();
    std::uint64_t compute_start = exec_start;
    std::uint64_t compute_end = exec_start;
    TRITONBACKEND_Response* response = nullptr;
    TRITONSERVER_Error* err = TRITONBACKEND_ResponseNew(&response, request);
    const bool have_response = err == nullptr;
    if (have_response) {
      err = as::guarded("execute", [&]() -> TRITONSERVER_Error* {
        auto done = as::execute_one(*inst, request, response, compute_start, compute_end);
        return done.ok() ? nullptr : as::to_triton(done.error());
      });
    } else {
      as::log(TRITONSERVER_LOG_ERROR, __LINE__,
              std::string("aegisrt: cannot create a response: ") + TRITONSERVER_ErrorMessage(err));
    }
    const bool ok = err == nullptr;
    if (compute_end < compute_start) compute_end = compute_start;
    const std::uint64_t exec_end = as::now_ns();
    // Statistics before the response: once a client has its answer, Triton's
    // counters (nv_inference_count, ...) already include it.
    if (TRITONSERVER_Error* e = TRITONBACKEND_ModelInstanceReportStatistics(instance, request, ok, exec_start,
                                                                              compute_start, compute_end, exec_end)) {
      TRITONSERVER_ErrorDelete(e);
    }
    if (ok) {
      if (TRITONSERVER_Error* e = TRITONBACKEND_ModelInstanceReportBatchStatistics(instance, 1, exec_start,
                                                                                     compute_start, compute_end,
                                                                                     exec_end)) {
        TRITONSERVER_ErrorDelete(e);
      }
    }
    if (have_response) {
      // Sends `err` (if any) as the request's error; ownership of `err` stays with us.
      if (TRITONSERVER_Error* send = TRITONBACKEND_ResponseSend(response, kTritonResponseCompleteFinal, err)) {
        as::log(TRITONSERVER_LOG_ERROR, __LINE__,
                std::string("aegisrt: sending a response failed: ") + TRITONSERVER_ErrorMessage(send));
        TRITONSERVER_ErrorDelete(send);
      }
    }
    if (err != nullptr) TRITONSERVER_ErrorDelete(err);
    if (TRITONSERVER_Error* e = TRITONBACKEND_RequestRelease(request, kTritonRequestReleaseAll)) {
      TRITONSERVER_ErrorDelete(e);
    }
  }
  return nullptr;
}

}  // extern "C"
