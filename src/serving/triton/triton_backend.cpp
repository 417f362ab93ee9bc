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

#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
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

struct ModelState {
  BackendConfig config;
  std::mutex mu;
  std::unique_ptr<pipeline::Pipeline> spare;  // loaded at model load, adopted by the first instance

  Result<std::unique_ptr<pipeline::Pipeline>> make_pipeline() const {
    auto p = pipeline::Pipeline::create(config.options, config.models_dir);
    if (!p.ok()) return p.error().with_context("aegisrt model '" + config.triton_model_name + "'");
    if ((*p)->info().output_type != models::OutputType::Detections) {
      return Error(ErrorCode::Unsupported,
                   "aegisrt model '" + config.triton_model_name + "': catalog model '" + config.options.model +
                       "' is not a detector; the Triton backend serves detection models (pipeline mode) only");
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

/// The request's IMAGE input gathered into one host buffer.
Result<std::vector<std::byte>> read_image_input(TRITONBACKEND_Request* request) {
  TRITONBACKEND_Input* input = nullptr;
  if (TRITONSERVER_Error* err = TRITONBACKEND_RequestInput(request, std::string(kInputImage).c_str(), &input)) {
    TRITONSERVER_ErrorDelete(err);
    return Error(ErrorCode::InvalidArgument, "request has no input '" + std::string(kInputImage) +
                                                 "' (an encoded PNG/JPEG image as BYTES)");
  }
  const char* name = nullptr;
  TRITONSERVER_DataType dtype = TRITONSERVER_TYPE_INVALID;
  const std::int64_t* shape = nullptr;
  std::uint32_t dims = 0;
  std::uint64_t byte_size = 0;
  std::uint32_t buffers = 0;
  AEGIS_TRITON_TRY(TRITONBACKEND_InputProperties(input, &name, &dtype, &shape, &dims, &byte_size, &buffers),
                   "reading input properties");
  if (dtype != TRITONSERVER_TYPE_BYTES) {
    return Error(ErrorCode::InvalidArgument, "input '" + std::string(kInputImage) + "' has data type code " +
                                                 std::to_string(static_cast<int>(dtype)) +
                                                 ", expected BYTES (one encoded PNG/JPEG image)");
  }
  std::int64_t elements = 1;
  std::string shape_text;
  for (std::uint32_t i = 0; i < dims; ++i) {
    elements *= shape[i];
    shape_text += (i ? "," : "") + std::to_string(shape[i]);
  }
  if (elements != 1) {
    return Error(ErrorCode::InvalidArgument, "input '" + std::string(kInputImage) + "' has shape [" + shape_text +
                                                 "], expected [1] (one encoded image per request)");
  }
  std::vector<std::byte> data;
  data.reserve(byte_size);
  for (std::uint32_t b = 0; b < buffers; ++b) {
    const void* ptr = nullptr;
    std::uint64_t size = 0;
    TRITONSERVER_MemoryType mem = TRITONSERVER_MEMORY_CPU;
    std::int64_t mem_id = 0;
    AEGIS_TRITON_TRY(TRITONBACKEND_InputBuffer(input, b, &ptr, &size, &mem, &mem_id), "reading input buffer");
    if (mem == TRITONSERVER_MEMORY_GPU) {
      return Error(ErrorCode::Unsupported,
                   "input '" + std::string(kInputImage) + "' is in GPU memory; send it in CPU memory");
    }
    const auto* p = static_cast<const std::byte*>(ptr);
    data.insert(data.end(), p, p + size);
  }
  return data;
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

/// Runs one request and fills `response`. Any error is the request's own.
Result<void> execute_one(InstanceState& inst, TRITONBACKEND_Request* request, TRITONBACKEND_Response* response,
                         std::uint64_t& compute_start, std::uint64_t& compute_end) {
  const char* id = nullptr;
  std::string source = "request";
  if (TRITONSERVER_Error* err = TRITONBACKEND_RequestId(request, &id)) {
    TRITONSERVER_ErrorDelete(err);
  } else if (id != nullptr && *id != '\0') {
    source = std::string("request ") + id;
  }
  AEGIS_ASSIGN_OR_RETURN(std::vector<std::byte> raw, read_image_input(request));
  AEGIS_ASSIGN_OR_RETURN(auto elems, split_bytes_tensor(raw, 1, kInputImage));
  compute_start = now_ns();
  AEGIS_ASSIGN_OR_RETURN(vision::Image image, vision::decode_image(elems.front(), source, 3));
  AEGIS_ASSIGN_OR_RETURN(pipeline::FrameResult result, inst.pipeline->run(image, source));
  const std::vector<float> rows = detections_to_rows(detections_of(result));
  const std::string json = inst.pipeline->to_json(result);
  compute_end = now_ns();

  std::uint32_t outputs = 0;
  AEGIS_TRITON_TRY(TRITONBACKEND_RequestOutputCount(request, &outputs), "counting requested outputs");
  for (std::uint32_t i = 0; i < outputs; ++i) {
    const char* name = nullptr;
    AEGIS_TRITON_TRY(TRITONBACKEND_RequestOutputName(request, i, &name), "reading requested output name");
    const std::string_view n(name);
    if (n == kOutputDetections) {
      AEGIS_TRY(write_output(response, n, TRITONSERVER_TYPE_FP32,
                             {static_cast<std::int64_t>(rows.size() / 6), 6}, rows.data(),
                             rows.size() * sizeof(float)));
    } else if (n == kOutputJson) {
      const std::vector<std::byte> elem = encode_bytes_element(json);
      AEGIS_TRY(write_output(response, n, TRITONSERVER_TYPE_BYTES, {1}, elem.data(), elem.size()));
    } else {
      return Error(ErrorCode::InvalidArgument, "unknown output '" + std::string(n) + "' (the aegisrt backend has " +
                                                   std::string(kOutputDetections) + " and " +
                                                   std::string(kOutputJson) + ")");
    }
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
