// libtriton_aegisrt.so: a Triton Inference Server backend over AegisRT
// (docs/SERVING.md). Pipeline mode: one image (IMAGE: encoded PNG/JPEG, or
// FRAME: raw RGB uint8 [H,W,3]) through a catalog model's Pipeline, the
// layout's tensors (DETECTIONS, MASKS, KEYPOINTS, DEPTH, DEPTH_COLOR) and the
// `aegisrt run` JSON out; with max_batch_size > 0 (Triton's dynamic batching)
// the images of one execute() that decode run as one Pipeline::run_batch and
// each request gets its own outputs (with a leading batch dimension of 1).
// Tensor mode: a model file's own tensors on any
// AegisRT backend, loaded once per model and shared by the instances, with
// the requests of one execute() concatenated along the batch dimension when
// max_batch_size > 0 (Triton's dynamic batching).
//
// Model state (one per Triton model): the parsed configuration and the model
// loaded once at model load (a prototype Pipeline, whose LoadedModel holds the
// session / engine; in tensor mode, the backend), so that a model AegisRT
// cannot load is UNAVAILABLE in Triton with AegisRT's message. Instance state
// (one per instance_group instance): a Pipeline made by
// Pipeline::create_instance(), i.e. its own ExecutionContext, decoder, tracker
// and buffers over the one loaded model, because a Pipeline is used by one
// thread at a time and Triton runs instances concurrently. N instances hold one
// copy of the weights.
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

#include "aegisrt/backend/registry.h"
#include "aegisrt/core/file_util.h"
#include "aegisrt/backend/backend_vocabulary.h"
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
    case ErrorCode::FailedPrecondition:
    case ErrorCode::BudgetExceeded:
    case ErrorCode::Timeout:
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

/// "aegisrt model '<name>'" + `suffix`: the context that every error and log
/// line about the Triton model configured by `c` starts with (suffix: " (tensor
/// mode)", ", instance '<instance>'").
std::string model_context(const BackendConfig& c, std::string_view suffix = {}) {
  return "aegisrt model '" + c.triton_model_name + "'" + std::string(suffix);
}

/// A model that cannot load: `e` logged at error level (line: the caller's
/// __LINE__) and returned as Triton's error.
TRITONSERVER_Error* load_failure(int line, const Error& e) {
  log(TRITONSERVER_LOG_ERROR, line, "aegisrt: " + e.to_string());
  return to_triton(e);
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

/// The outputs a pipeline of this layout family produces (besides RESULT_JSON):
/// the table `aegisrt serve` writes config.pbtxt from (serving/pipeline_tensors.h).
std::vector<std::string_view> family_outputs(models::OutputLayout layout) {
  std::vector<std::string_view> names;
  for (const PipelineTensorSpec& t : pipeline_outputs(layout)) names.push_back(t.name);
  return names;
}

/// Tensor mode: the model file loaded once on its AegisRT backend, shared by
/// every instance (RuntimeBackend::execute serialises calls when the backend
/// is not thread-safe).
struct TensorModel {
  std::unique_ptr<RuntimeBackend> backend;
  std::vector<TensorDesc> inputs;
  std::vector<TensorDesc> outputs;
};

Result<std::unique_ptr<TensorModel>> load_tensor_model(const BackendConfig& c) {
  const std::string what = model_context(c, " (tensor mode)");
  auto binding = models::bind_backend(c.options.backend);
  if (!binding.ok()) return binding.error().with_context(what);
  if (binding->registry_name.empty()) {
    return Error(ErrorCode::Unsupported, what + ": backend '" + c.options.backend + "' runs no model file");
  }
  LoadOptions lo;
  lo.artifact_path = c.options.onnx;
  lo.device = binding->device;
  const std::string prec = c.options.precision.empty() ? std::string("fp32") : c.options.precision;
  const auto precision = parse_precision(prec);
  if (!precision) {
    return Error(ErrorCode::InvalidArgument, what + ": parameter 'precision' = '" + prec + "' (fp32, fp16, int8)");
  }
  lo.precision = *precision;
  lo.cache_dir = c.options.cache_dir;
  lo.variant = c.triton_model_name;
  lo.backend_options = binding->backend_options;
  for (const auto& [k, v] : c.options.backend_options) lo.backend_options[k] = v;
  AEGIS_TRY(check_regular_file(lo.artifact_path, "model file (parameter 'onnx')"));
  auto backend = BackendFactory::create(binding->registry_name);
  if (!backend.ok()) return backend.error().with_context(what);
  if (auto r = (*backend)->load(lo); !r.ok()) return r.error().with_context(what + ", loading " + lo.artifact_path.string());
  auto m = std::make_unique<TensorModel>();
  m->inputs = (*backend)->input_specs();
  m->outputs = (*backend)->output_specs();
  m->backend = std::move(*backend);
  for (const auto& d : m->inputs) {
    if (triton_from_dtype(d.dtype) == 0) {
      return Error(ErrorCode::Unsupported, what + ": input '" + d.name + "' has element type " +
                                               std::string(dtype_name(d.dtype)) + ", which tensor mode does not serve");
    }
    if (c.max_batch_size > 0 && (d.shape.empty() || (d.shape[0] != kDynamicDim && d.shape[0] < c.max_batch_size))) {
      return Error(ErrorCode::Unsupported,
                   what + ": max_batch_size " + std::to_string(c.max_batch_size) + " but input '" + d.name +
                       "' has shape " + shape_to_string(d.shape) +
                       " (its first dimension must be the batch: dynamic or >= max_batch_size)");
    }
  }
  return m;
}

struct ModelState {
  BackendConfig config;
  std::mutex mu;
  std::unique_ptr<pipeline::Pipeline> prototype;  // loaded at model load; instances are made from it
  std::unique_ptr<TensorModel> tensor;        // tensor mode

  Result<std::unique_ptr<pipeline::Pipeline>> make_pipeline() const {
    auto p = pipeline::Pipeline::create(config.options, config.models_dir);
    if (!p.ok()) return p.error().with_context(model_context(config));
    if (family_outputs((*p)->info().output_layout).empty()) {
      return Error(ErrorCode::Unsupported,
                   model_context(config) + ": output layout '" +
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

/// With max_batch_size > 0 every request carries Triton's batch dimension
/// first; pipeline mode takes one image per request, so it must be 1 and is
/// dropped here (IMAGE [1,1] -> [1], FRAME [1,H,W,3] -> [H,W,3]).
Result<void> drop_batch_dim(InputData& in, std::string_view name) {
  if (in.shape.empty() || in.shape.front() != 1) {
    return Error(ErrorCode::InvalidArgument,
                 "input '" + std::string(name) + "' has shape " + shape_text(in.shape) +
                     ": with max_batch_size > 0 a pipeline-mode request carries one image, batch dimension 1 "
                     "(IMAGE [1,1], FRAME [1,H,W,3]); send several images as several requests");
  }
  in.shape.erase(in.shape.begin());
  return {};
}

/// The request's image: IMAGE (one encoded PNG/JPEG, BYTES [1]) or FRAME
/// (raw RGB, UINT8 [H,W,3]); exactly one of them. `batched`: the model has
/// max_batch_size > 0 (a leading batch dimension of 1 on the input).
Result<vision::Image> read_image(TRITONBACKEND_Request* request, const std::string& source, bool batched) {
  AEGIS_ASSIGN_OR_RETURN(std::optional<InputData> encoded, read_input(request, kInputImage));
  AEGIS_ASSIGN_OR_RETURN(std::optional<InputData> frame, read_input(request, kInputFrame));
  if (batched && encoded) AEGIS_TRY(drop_batch_dim(*encoded, kInputImage));
  if (batched && frame) AEGIS_TRY(drop_batch_dim(*frame, kInputFrame));
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

/// Writes one requested pipeline output from `result`. `batched`: the model
/// has max_batch_size > 0, so every output gets a leading batch dimension of 1
/// (DETECTIONS [1,N,6], RESULT_JSON [1,1], ...), one image per request.
Result<void> write_pipeline_output(InstanceState& inst, const pipeline::FrameResult& result,
                                   TRITONBACKEND_Response* response, std::string_view n, bool batched) {
  const auto& info = inst.pipeline->info();
  const auto outs = family_outputs(info.output_layout);
  const auto put = [&](TRITONBACKEND_Response* resp, std::string_view name, TRITONSERVER_DataType dtype,
                                std::vector<std::int64_t> shape, const void* bytes, std::size_t size) {
    if (batched) shape.insert(shape.begin(), 1);
    return write_output(resp, name, dtype, shape, bytes, size);
  };
  if (n == kOutputJson) {
    const std::vector<std::byte> elem = encode_bytes_element(inst.pipeline->to_json(result));
    return put(response, n, TRITONSERVER_TYPE_BYTES, {1}, elem.data(), elem.size());
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
    return put(response, n, TRITONSERVER_TYPE_FP32, {static_cast<std::int64_t>(rows.size() / 6), 6},
                        rows.data(), rows.size() * sizeof(float));
  }
  if (n == kOutputMasks) {
    const auto* seg = std::get_if<pipeline::InstanceSegmentationResult>(&result.output);
    if (seg == nullptr) return Error(ErrorCode::Internal, "segment model produced no masks");
    const std::vector<std::uint8_t> dense = masks_to_dense(seg->masks, result.width, result.height);
    return put(response, n, TRITONSERVER_TYPE_UINT8,
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
    return put(response, n, TRITONSERVER_TYPE_FP32,
                        {static_cast<std::int64_t>(instances.size()), static_cast<std::int64_t>(k), 3}, rows.data(),
                        rows.size() * sizeof(float));
  }
  if (n == kOutputDepth || n == kOutputDepthColor) {
    const pipeline::DepthResult* d = result.depth();
    if (d == nullptr) return Error(ErrorCode::Internal, "depth model produced no depth map");
    if (n == kOutputDepth) {
      const vision::DepthMap& v = d->depth;
      if (v.values.size() != static_cast<std::size_t>(v.width) * static_cast<std::size_t>(v.height)) {
        return Error(ErrorCode::Internal, "depth map of " + std::to_string(v.values.size()) + " values for " +
                                              std::to_string(v.width) + "x" + std::to_string(v.height));
      }
      return put(response, n, TRITONSERVER_TYPE_FP32, {v.height, v.width}, v.values.data(),
                          v.values.size() * sizeof(float));
    }
    const vision::Image& img = d->colorized;
    return put(response, n, TRITONSERVER_TYPE_UINT8, {img.height(), img.width(), img.channels()},
                        img.data(), img.byte_size());
  }
  return Error(ErrorCode::Internal, "output '" + std::string(n) + "' is not written by the aegisrt backend");
}

/// Writes every output `request` asks for from `result`.
Result<void> write_pipeline_response(InstanceState& inst, TRITONBACKEND_Request* request,
                                     TRITONBACKEND_Response* response, const pipeline::FrameResult& result,
                                     bool batched) {
  std::uint32_t outputs = 0;
  AEGIS_TRITON_TRY(TRITONBACKEND_RequestOutputCount(request, &outputs), "counting requested outputs");
  for (std::uint32_t i = 0; i < outputs; ++i) {
    const char* name = nullptr;
    AEGIS_TRITON_TRY(TRITONBACKEND_RequestOutputName(request, i, &name), "reading requested output name");
    AEGIS_TRY(write_pipeline_output(inst, result, response, name, batched));
  }
  return {};
}

std::string request_source(TRITONBACKEND_Request* request) {
  const std::string_view id = request_id(request);
  return id.empty() ? std::string("request") : "request " + std::string(id);
}

/// One request of a pipeline-mode execute() whose image decoded.
struct PipelineRequest {
  std::size_t index = 0;  // in the execute() call
  vision::Image image;
  std::string source;
};

/// How the valid requests of one pipeline-mode execute() are run: groups of
/// indices into `valid`, each group one run_batch (one model execute), or,
/// where `one_by_one`, each index through run(). max_batch_size 0: every
/// request alone (run()). Otherwise up to Pipeline::max_batch() images per
/// group (0 = any: all in one group); with a fixed batch F > 1 a last group
/// of fewer than F images cannot be one execute and runs one by one.
struct PipelineGroup {
  std::vector<std::size_t> members;
  bool one_by_one = false;
};

std::vector<PipelineGroup> plan_pipeline_groups(std::size_t valid, int max_batch_size, std::int64_t model_batch) {
  std::vector<PipelineGroup> groups;
  if (valid == 0) return groups;
  if (max_batch_size <= 0) {
    for (std::size_t i = 0; i < valid; ++i) groups.push_back({{i}, true});
    return groups;
  }
  const std::size_t chunk = model_batch <= 0 ? valid : static_cast<std::size_t>(model_batch);
  for (std::size_t first = 0; first < valid; first += chunk) {
    PipelineGroup g;
    for (std::size_t i = first; i < std::min(valid, first + chunk); ++i) g.members.push_back(i);
    g.one_by_one = model_batch > 0 && g.members.size() != chunk;
    groups.push_back(std::move(g));
  }
  return groups;
}

// ---------------------------------------------------------------- tensor mode

/// One request of a tensor-mode execute(): its inputs in the model's input
/// order, checked, and its batch size (1 when max_batch_size is 0).
struct TensorRequest {
  std::size_t index = 0;  // in the execute() call
  std::vector<InputData> inputs;
  std::int64_t batch = 1;
  std::uint64_t exec_start = 0;
};

/// Reads and checks one request's inputs against the model. Errors are the request's own.
Result<TensorRequest> read_tensor_request(const TensorModel& m, const BackendConfig& c,
                                          TRITONBACKEND_Request* request) {
  TensorRequest out;
  std::uint32_t count = 0;
  AEGIS_TRITON_TRY(TRITONBACKEND_RequestInputCount(request, &count), "counting inputs");
  if (count != m.inputs.size()) {
    return Error(ErrorCode::InvalidArgument, "request has " + std::to_string(count) + " inputs, the model " +
                                                 std::to_string(m.inputs.size()));
  }
  for (std::size_t i = 0; i < m.inputs.size(); ++i) {
    const TensorDesc& spec = m.inputs[i];
    AEGIS_ASSIGN_OR_RETURN(std::optional<InputData> in, read_input(request, spec.name));
    if (!in) return Error(ErrorCode::InvalidArgument, "request has no input '" + spec.name + "'");
    const auto dtype = dtype_from_triton(static_cast<int>(in->dtype));
    if (!dtype || *dtype != spec.dtype) {
      return Error(ErrorCode::InvalidArgument, "input '" + spec.name + "' has data type code " +
                                                   std::to_string(static_cast<int>(in->dtype)) + ", the model takes " +
                                                   std::string(dtype_name(spec.dtype)));
    }
    bool fits = in->shape.size() == spec.shape.size();
    for (std::size_t d = 0; fits && d < spec.shape.size(); ++d) {
      fits = in->shape[d] >= 0 && (spec.shape[d] == kDynamicDim || spec.shape[d] == in->shape[d]);
    }
    if (!fits) {
      return Error(ErrorCode::InvalidArgument, "input '" + spec.name + "' has shape " + shape_text(in->shape) +
                                                   ", the model takes " + shape_to_string(spec.shape));
    }
    const auto elements = static_cast<std::uint64_t>(shape_element_count(in->shape));
    if (in->bytes.size() != elements * dtype_size(spec.dtype)) {
      return Error(ErrorCode::InvalidArgument, "input '" + spec.name + "' holds " + std::to_string(in->bytes.size()) +
                                                   " bytes, its shape " + shape_text(in->shape) + " needs " +
                                                   std::to_string(elements * dtype_size(spec.dtype)));
    }
    if (c.max_batch_size > 0) {
      const std::int64_t b = in->shape.empty() ? 0 : in->shape[0];
      if (i == 0) out.batch = b;
      if (b != out.batch || b < 1) {
        return Error(ErrorCode::InvalidArgument, "input '" + spec.name + "' has batch " + std::to_string(b) +
                                                     ", the request's first input " + std::to_string(out.batch));
      }
    }
    out.inputs.push_back(std::move(*in));
  }
  return out;
}

/// Requests of one execute() that can run as one batch: same shapes apart from the batch dimension.
std::vector<std::vector<std::size_t>> group_requests(const std::vector<TensorRequest>& reqs, bool batching) {
  std::vector<std::vector<std::size_t>> groups;
  std::vector<std::vector<std::vector<std::int64_t>>> keys;
  for (std::size_t r = 0; r < reqs.size(); ++r) {
    std::vector<std::vector<std::int64_t>> key;
    for (const auto& in : reqs[r].inputs) key.emplace_back(in.shape.begin() + (in.shape.empty() ? 0 : 1), in.shape.end());
    std::size_t g = 0;
    while (batching && g < keys.size() && keys[g] != key) ++g;
    if (!batching || g == keys.size()) {
      keys.push_back(std::move(key));
      groups.emplace_back();
      g = groups.size() - 1;
    }
    groups[g].push_back(r);
  }
  return groups;
}

/// Runs one group (concatenated along the batch dimension when it has
/// several requests) and writes each request's slice of the requested outputs.
/// Returns the execute error shared by the group, if any; per-request output
/// errors go to `errors` (by index in the execute() call).
Result<void> run_tensor_group(const TensorModel& m, const BackendConfig& c, std::vector<TensorRequest>& reqs,
                              const std::vector<std::size_t>& group, TRITONBACKEND_Request** requests,
                              std::vector<TRITONBACKEND_Response*>& responses,
                              std::vector<std::optional<Error>>& errors) {
  std::int64_t total = 0;
  for (const std::size_t r : group) total += reqs[r].batch;
  std::vector<std::vector<std::byte>> joined(m.inputs.size());
  ExecutionRequest er;
  for (std::size_t i = 0; i < m.inputs.size(); ++i) {
    const InputData& first = reqs[group.front()].inputs[i];
    Shape shape = first.shape;
    const void* data = first.bytes.data();
    if (group.size() > 1) {
      shape[0] = total;
      for (const std::size_t r : group) {
        joined[i].insert(joined[i].end(), reqs[r].inputs[i].bytes.begin(), reqs[r].inputs[i].bytes.end());
      }
      data = joined[i].data();
    }
    er.inputs.push_back({m.inputs[i].name, TensorView(data, shape, m.inputs[i].dtype)});
  }
  AEGIS_ASSIGN_OR_RETURN(ExecutionResult result, m.backend->execute(er));

  std::int64_t offset = 0;
  for (const std::size_t r : group) {
    TRITONBACKEND_Request* request = requests[reqs[r].index];
    const std::int64_t b = reqs[r].batch;
    auto write = [&]() -> Result<void> {
      std::uint32_t outputs = 0;
      AEGIS_TRITON_TRY(TRITONBACKEND_RequestOutputCount(request, &outputs), "counting requested outputs");
      for (std::uint32_t o = 0; o < outputs; ++o) {
        const char* name = nullptr;
        AEGIS_TRITON_TRY(TRITONBACKEND_RequestOutputName(request, o, &name), "reading requested output name");
        const Tensor* t = result.find(name);
        if (t == nullptr) return Error(ErrorCode::InvalidArgument, "the model has no output '" + std::string(name) + "'");
        if (t->location().is_device()) {
          return Error(ErrorCode::Unsupported, "output '" + std::string(name) + "' is in device memory");
        }
        const int code = triton_from_dtype(t->dtype());
        if (code == 0) {
          return Error(ErrorCode::Unsupported, "output '" + std::string(name) + "' has element type " +
                                                   std::string(dtype_name(t->dtype())) + ", not served in tensor mode");
        }
        std::vector<std::int64_t> shape = t->shape();
        const auto* bytes = static_cast<const std::byte*>(t->data());
        std::size_t size = t->byte_size();
        if (c.max_batch_size > 0) {
          if (shape.empty() || shape[0] != total) {
            return Error(ErrorCode::Internal, "output '" + std::string(name) + "' has shape " +
                                                  shape_to_string(shape) + ", expected the batch of " +
                                                  std::to_string(total) + " first");
          }
          const std::size_t row = total > 0 ? size / static_cast<std::size_t>(total) : 0;
          bytes += row * static_cast<std::size_t>(offset);
          size = row * static_cast<std::size_t>(b);
          shape[0] = b;
        }
        AEGIS_TRY(write_output(responses[reqs[r].index], name, static_cast<TRITONSERVER_DataType>(code), shape,
                               bytes, size));
      }
      return {};
    };
    if (auto w = write(); !w.ok()) errors[reqs[r].index] = w.error();
    offset += b;
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

/// Reports the request's statistics, sends its response (with `err`, which
/// this frees) and releases it. Statistics come before the response: once a
/// client has its answer, Triton's counters (nv_inference_count, ...) include it.
void finish_request(TRITONBACKEND_ModelInstance* instance, TRITONBACKEND_Request* request,
                    TRITONBACKEND_Response* response, TRITONSERVER_Error* err, std::uint64_t exec_start,
                    std::uint64_t compute_start, std::uint64_t compute_end, std::uint64_t exec_end) {
  if (TRITONSERVER_Error* e = TRITONBACKEND_ModelInstanceReportStatistics(instance, request, err == nullptr, exec_start,
                                                                            compute_start, compute_end, exec_end)) {
    TRITONSERVER_ErrorDelete(e);
  }
  if (response != nullptr) {
    // Sends `err` (if any) as the request's error; ownership of `err` stays with us.
    if (TRITONSERVER_Error* send = TRITONBACKEND_ResponseSend(response, kTritonResponseCompleteFinal, err)) {
      log(TRITONSERVER_LOG_ERROR, __LINE__,
          std::string("aegisrt: sending a response failed: ") + TRITONSERVER_ErrorMessage(send));
      TRITONSERVER_ErrorDelete(send);
    }
  }
  if (err != nullptr) TRITONSERVER_ErrorDelete(err);
  if (TRITONSERVER_Error* e = TRITONBACKEND_RequestRelease(request, kTritonRequestReleaseAll)) {
    TRITONSERVER_ErrorDelete(e);
  }
}

/// Tensor mode: every request is read and checked on its own (a bad one gets
/// its error); the good ones with equal shapes (batch dimension aside) run as
/// one execute when max_batch_size > 0, each getting its slice of the outputs.
TRITONSERVER_Error* execute_tensor(TRITONBACKEND_ModelInstance* instance, InstanceState& inst,
                                   TRITONBACKEND_Request** requests, std::uint32_t count) {
  const TensorModel& m = *inst.model->tensor;
  const BackendConfig& c = inst.model->config;
  const std::uint64_t exec_start = now_ns();
  std::vector<TRITONBACKEND_Response*> responses(count, nullptr);
  std::vector<std::optional<Error>> errors(count);
  std::vector<TRITONSERVER_Error*> triton_errors(count, nullptr);
  std::vector<std::uint64_t> compute_start(count, exec_start);
  std::vector<std::uint64_t> compute_end(count, exec_start);
  std::vector<TensorRequest> valid;
  for (std::uint32_t r = 0; r < count; ++r) {
    if (TRITONSERVER_Error* err = TRITONBACKEND_ResponseNew(&responses[r], requests[r])) {
      log(TRITONSERVER_LOG_ERROR, __LINE__,
          std::string("aegisrt: cannot create a response: ") + TRITONSERVER_ErrorMessage(err));
      responses[r] = nullptr;
      triton_errors[r] = err;
      continue;
    }
    triton_errors[r] = guarded("reading a request", [&]() -> TRITONSERVER_Error* {
      auto req = read_tensor_request(m, c, requests[r]);
      if (!req.ok()) return to_triton(req.error());
      req->index = r;
      valid.push_back(std::move(*req));
      return nullptr;
    });
  }
  for (const auto& group : group_requests(valid, c.max_batch_size > 0)) {
    const std::uint64_t start = now_ns();
    std::int64_t total = 0;
    for (const std::size_t g : group) total += valid[g].batch;
    TRITONSERVER_Error* group_err = guarded("execute", [&]() -> TRITONSERVER_Error* {
      auto done = run_tensor_group(m, c, valid, group, requests, responses, errors);
      return done.ok() ? nullptr : to_triton(done.error());
    });
    const std::uint64_t end = now_ns();
    for (const std::size_t g : group) {
      const std::size_t r = valid[g].index;
      compute_start[r] = start;
      compute_end[r] = end;
      if (group_err != nullptr) {
        triton_errors[r] = TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL, TRITONSERVER_ErrorMessage(group_err));
      } else if (errors[r]) {
        triton_errors[r] = to_triton(*errors[r]);
      }
    }
    if (group_err == nullptr) {
      // One model execution for the whole group: Triton's execution_count grows by one.
      if (TRITONSERVER_Error* e = TRITONBACKEND_ModelInstanceReportBatchStatistics(
              instance, static_cast<std::uint64_t>(total), exec_start, start, end, now_ns())) {
        TRITONSERVER_ErrorDelete(e);
      }
    } else {
      TRITONSERVER_ErrorDelete(group_err);
    }
  }
  const std::uint64_t exec_end = now_ns();
  for (std::uint32_t r = 0; r < count; ++r) {
    finish_request(instance, requests[r], responses[r], triton_errors[r], exec_start, compute_start[r],
                   compute_end[r], exec_end);
  }
  return nullptr;
}

/// Pipeline mode: every request's image is read and decoded first (a missing,
/// malformed or corrupt one gets its own error and is left out); the valid
/// ones run by plan_pipeline_groups(): with max_batch_size > 0 as one
/// Pipeline::run_batch (one model execute for the group; Triton's
/// execution_count grows by one), else each through run(). Each request gets
/// its own outputs, the same tensors and JSON as unbatched. If a run_batch
/// fails, its images are run again one by one, so an error that belongs to
/// one image stays with that request.
TRITONSERVER_Error* execute_pipeline(TRITONBACKEND_ModelInstance* instance, InstanceState& inst,
                                     TRITONBACKEND_Request** requests, std::uint32_t count) {
  const BackendConfig& c = inst.model->config;
  const bool batched = c.max_batch_size > 0;
  const std::uint64_t exec_start = now_ns();
  std::vector<TRITONBACKEND_Response*> responses(count, nullptr);
  std::vector<TRITONSERVER_Error*> errors(count, nullptr);
  std::vector<std::uint64_t> compute_start(count, exec_start);
  std::vector<std::uint64_t> compute_end(count, exec_start);
  std::vector<PipelineRequest> valid;
  valid.reserve(count);
  for (std::uint32_t r = 0; r < count; ++r) {
    if (TRITONSERVER_Error* err = TRITONBACKEND_ResponseNew(&responses[r], requests[r])) {
      log(TRITONSERVER_LOG_ERROR, __LINE__,
          std::string("aegisrt: cannot create a response: ") + TRITONSERVER_ErrorMessage(err));
      responses[r] = nullptr;
      errors[r] = err;
      continue;
    }
    errors[r] = guarded("reading a request", [&]() -> TRITONSERVER_Error* {
      compute_start[r] = now_ns();
      std::string source = request_source(requests[r]);
      auto image = read_image(requests[r], source, batched);
      compute_end[r] = now_ns();
      if (!image.ok()) return to_triton(image.error());
      valid.push_back({r, std::move(*image), std::move(source)});
      return nullptr;
    });
  }

  // Runs valid[i] alone and answers it (its own model execute).
  const auto run_alone = [&](std::size_t i) {
    const std::size_t r = valid[i].index;
    const std::uint64_t start = now_ns();
    errors[r] = guarded("execute", [&]() -> TRITONSERVER_Error* {
      auto result = inst.pipeline->run(valid[i].image, valid[i].source);
      if (!result.ok()) return to_triton(result.error());
      auto w = write_pipeline_response(inst, requests[r], responses[r], *result, batched);
      return w.ok() ? nullptr : to_triton(w.error());
    });
    const std::uint64_t end = now_ns();
    compute_start[r] = std::min(compute_start[r], start);
    compute_end[r] = end;
    if (errors[r] == nullptr) {
      if (TRITONSERVER_Error* e =
              TRITONBACKEND_ModelInstanceReportBatchStatistics(instance, 1, exec_start, start, end, now_ns())) {
        TRITONSERVER_ErrorDelete(e);
      }
    }
  };

  const std::int64_t model_batch = batched ? inst.pipeline->max_batch() : 1;
  for (const PipelineGroup& g : plan_pipeline_groups(valid.size(), c.max_batch_size, model_batch)) {
    if (g.one_by_one || g.members.size() == 1) {
      for (const std::size_t i : g.members) run_alone(i);
      continue;
    }
    std::vector<vision::Image> images;
    std::vector<std::string> sources;
    images.reserve(g.members.size());
    sources.reserve(g.members.size());
    for (const std::size_t i : g.members) {
      images.push_back(std::move(valid[i].image));
      sources.push_back(valid[i].source);
    }
    const std::uint64_t start = now_ns();
    std::optional<Error> batch_error;
    TRITONSERVER_Error* thrown = guarded("execute", [&]() -> TRITONSERVER_Error* {
      auto results = inst.pipeline->run_batch(images, sources);
      if (!results.ok()) {
        batch_error = results.error();
        return nullptr;
      }
      const std::uint64_t end = now_ns();
      for (std::size_t k = 0; k < g.members.size(); ++k) {
        const std::size_t r = valid[g.members[k]].index;
        compute_start[r] = std::min(compute_start[r], start);
        compute_end[r] = end;
        auto w = write_pipeline_response(inst, requests[r], responses[r], (*results)[k], batched);
        if (!w.ok()) errors[r] = to_triton(w.error());
      }
      // One model execution for the whole group.
      if (TRITONSERVER_Error* e = TRITONBACKEND_ModelInstanceReportBatchStatistics(
              instance, static_cast<std::uint64_t>(g.members.size()), exec_start, start, end, now_ns())) {
        TRITONSERVER_ErrorDelete(e);
      }
      return nullptr;
    });
    if (thrown != nullptr || batch_error) {
      const std::string why = thrown != nullptr ? std::string(TRITONSERVER_ErrorMessage(thrown))
                                                : batch_error->to_string();
      if (thrown != nullptr) TRITONSERVER_ErrorDelete(thrown);
      log(TRITONSERVER_LOG_WARN, __LINE__,
          model_context(c) + ": a batch of " + std::to_string(g.members.size()) +
              " images failed (" + why + "); running them one by one");
      for (std::size_t k = 0; k < g.members.size(); ++k) {
        const std::size_t i = g.members[k];
        valid[i].image = std::move(images[k]);
        const std::size_t r = valid[i].index;
        if (errors[r] != nullptr) {  // a half-written response cannot be reused
          continue;
        }
        run_alone(i);
      }
    }
  }
  const std::uint64_t exec_end = now_ns();
  for (std::uint32_t r = 0; r < count; ++r) {
    if (compute_end[r] < compute_start[r]) compute_end[r] = compute_start[r];
    finish_request(instance, requests[r], responses[r], errors[r], exec_start, compute_start[r], compute_end[r],
                   exec_end);
  }
  return nullptr;
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
    if (state->config.mode == as::ServingMode::Tensor) {
      auto t = as::load_tensor_model(state->config);
      if (!t.ok()) return as::load_failure(__LINE__, t.error());
      std::string desc;
      for (const auto& d : (*t)->inputs) desc += " in " + d.name + " " + aegisrt::shape_to_string(d.shape);
      for (const auto& d : (*t)->outputs) desc += " out " + d.name + " " + aegisrt::shape_to_string(d.shape);
      as::log(TRITONSERVER_LOG_INFO, __LINE__,
              as::model_context(state->config, " (tensor mode): ") +
                  state->config.options.onnx.string() + " on " + std::string((*t)->backend->name()) +
                  ", max_batch_size " + std::to_string(state->config.max_batch_size) + ":" + desc);
      state->tensor = std::move(*t);
      if (TRITONSERVER_Error* err = TRITONBACKEND_ModelSetState(model, state.get())) return err;
      state.release();
      return nullptr;
    }
    auto p = state->make_pipeline();
    if (!p.ok()) return as::load_failure(__LINE__, p.error());
    const auto& info = (*p)->info();
    as::log(TRITONSERVER_LOG_INFO, __LINE__,
            as::model_context(state->config, ": ") + info.model + "/" + info.variant + " on " +
                info.backend + " (" + info.precision + "), " + info.onnx_path.string());
    if (const int mbs = state->config.max_batch_size; mbs > 0) {
      // Dynamic batching: up to max_batch_size requests per execute, run as
      // one batch; the model must take that many images in one execute.
      const std::int64_t can = (*p)->max_batch();
      if (can != 0 && can < mbs) {
        const aegisrt::Error e(
            aegisrt::ErrorCode::Unsupported,
            as::model_context(state->config, ": max_batch_size ") + std::to_string(mbs) +
                " but the model file '" + info.onnx_path.string() + "' takes a fixed batch of " +
                std::to_string(can) + " image(s) per execute (input '" + info.input_name +
                "'); serve an export with a dynamic batch dimension, or max_batch_size <= " + std::to_string(can) +
                " (0: unbatched)");
        return as::load_failure(__LINE__, e);
      }
      as::log(TRITONSERVER_LOG_INFO, __LINE__,
              as::model_context(state->config, ": dynamic batching, max_batch_size ") +
                  std::to_string(mbs) + ", the model takes " +
                  (can == 0 ? std::string("any batch") : "a batch of " + std::to_string(can)));
    }
    state->prototype = std::move(*p);
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
    if (!ms->tensor) {
      std::lock_guard lock(ms->mu);  // Triton may initialise instances concurrently
      auto p = ms->prototype->create_instance();
      if (!p.ok()) {
        return as::to_triton(p.error().with_context(as::model_context(ms->config, ", instance '" + inst->name + "'")));
      }
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
  if (inst->model->tensor) return as::execute_tensor(instance, *inst, requests, request_count);
  return as::execute_pipeline(instance, *inst, requests, request_count);
}

}  // extern "C"
