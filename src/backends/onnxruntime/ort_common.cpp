// Process-wide ORT environment, error and type mapping (see ort_common.h).
#include "backends/onnxruntime/ort_common.h"

#include <memory>

namespace aegisrt::ort {

namespace {

std::string_view error_code_name(OrtErrorCode code) noexcept {
  switch (code) {
    case ORT_OK: return "OK";
    case ORT_FAIL: return "FAIL";
    case ORT_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case ORT_NO_SUCHFILE: return "NO_SUCHFILE";
    case ORT_NO_MODEL: return "NO_MODEL";
    case ORT_ENGINE_ERROR: return "ENGINE_ERROR";
    case ORT_RUNTIME_EXCEPTION: return "RUNTIME_EXCEPTION";
    case ORT_INVALID_PROTOBUF: return "INVALID_PROTOBUF";
    case ORT_MODEL_LOADED: return "MODEL_LOADED";
    case ORT_NOT_IMPLEMENTED: return "NOT_IMPLEMENTED";
    case ORT_INVALID_GRAPH: return "INVALID_GRAPH";
    case ORT_EP_FAIL: return "EP_FAIL";
  }
  return "UNKNOWN";  // codes newer than our headers
}

Error make_error(OrtErrorCode code, std::string_view message, std::string_view what) {
  std::string text(what);
  text += ": ";
  text += message;
  text += " (ORT code ";
  text += error_code_name(code);
  text += ")";
  return Error(map_error_code(code), std::move(text));
}

}  // namespace

Result<Ort::Env*> env() {
  struct Holder {
    // Deliberately never destroyed: tearing the environment down during static
    // destruction, after the CUDA provider's runtime has begun unloading,
    // aborts the process on exit (seen on the H200 with onnxruntime-gpu).
    Ort::Env* env = nullptr;
    std::optional<Error> error;
  };
  // Function-local: created on first use, thread-safe, one per process.
  static Holder holder = [] {
    Holder h;
    const OrtApiBase* base = OrtGetApiBase();
    if (base == nullptr || base->GetApi(ORT_API_VERSION) == nullptr) {
      h.error = Error(ErrorCode::Unsupported,
                      std::string("the ONNX Runtime library (") +
                          (base ? base->GetVersionString() : "unknown") +
                          ") does not provide C API version " + std::to_string(ORT_API_VERSION) +
                          " that AegisRT was compiled against; install a newer onnxruntime");
      return h;
    }
    try {
      h.env = new Ort::Env(ORT_LOGGING_LEVEL_WARNING, "aegisrt");  // NOLINT(owning-memory)
    } catch (const Ort::Exception& e) {
      h.error = to_error(e, "creating the ONNX Runtime environment");
    }
    return h;
  }();
  if (holder.error) return *holder.error;
  return holder.env;
}

ErrorCode map_error_code(OrtErrorCode code) noexcept {
  switch (code) {
    case ORT_INVALID_ARGUMENT: return ErrorCode::InvalidArgument;
    case ORT_NO_SUCHFILE: return ErrorCode::NotFound;
    case ORT_INVALID_PROTOBUF:
    case ORT_INVALID_GRAPH: return ErrorCode::Corrupt;
    case ORT_NOT_IMPLEMENTED: return ErrorCode::Unsupported;
    default: return ErrorCode::BackendError;
  }
}

Error to_error(const Ort::Exception& e, std::string_view what) {
  return make_error(e.GetOrtErrorCode(), e.what(), what);
}

Error status_to_error(OrtStatus* status, std::string_view what) {
  const OrtApi& api = Ort::GetApi();
  Error err = make_error(api.GetErrorCode(status), api.GetErrorMessage(status), what);
  api.ReleaseStatus(status);
  return err;
}

// ORT's element type enum has ONNX's TensorProto.DataType values: the mapping
// is core's one ONNX type table (dtype_from_onnx / dtype_to_onnx).
static_assert(ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT == 1 && ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING == 8 &&
                  ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE == 11 &&
                  ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 == 16 &&
                  ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E5M2FNUZ == 20 &&
                  ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT4 == 21 && ONNX_TENSOR_ELEMENT_DATA_TYPE_INT4 == 22,
              "ONNXTensorElementDataType no longer follows TensorProto.DataType");

std::optional<DType> from_onnx(ONNXTensorElementDataType t) noexcept {
  return dtype_from_onnx(static_cast<std::int64_t>(t));
}

ONNXTensorElementDataType to_onnx(DType t) noexcept {
  return static_cast<ONNXTensorElementDataType>(dtype_to_onnx(t));
}

std::string onnx_type_name(ONNXTensorElementDataType t) {
  return aegisrt::onnx_type_name(static_cast<std::int64_t>(t));
}

std::string_view ort_provider_name(std::string_view ours) noexcept {
  if (ours == "cpu") return "CPUExecutionProvider";
  if (ours == "cuda") return "CUDAExecutionProvider";
  if (ours == "tensorrt") return "TensorrtExecutionProvider";
  if (ours == "openvino") return "OpenVINOExecutionProvider";
  return {};
}

std::string our_provider_name(std::string_view ort_name) {
  for (std::string_view ours : {"cpu", "cuda", "tensorrt", "openvino"}) {
    if (ort_provider_name(ours) == ort_name) return std::string(ours);
  }
  return std::string(ort_name);
}

}  // namespace aegisrt::ort
