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

std::optional<DType> from_onnx(ONNXTensorElementDataType t) noexcept {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return DType::Float32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return DType::Float16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: return DType::BFloat16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return DType::Int8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return DType::UInt8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return DType::Int32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return DType::Int64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return DType::Bool;
    default: return std::nullopt;
  }
}

ONNXTensorElementDataType to_onnx(DType t) noexcept {
  switch (t) {
    case DType::Float32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case DType::Float16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    case DType::BFloat16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16;
    case DType::Int8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8;
    case DType::UInt8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
    case DType::Int32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
    case DType::Int64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
    case DType::Bool: return ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL;
  }
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

std::string_view onnx_type_name(ONNXTensorElementDataType t) noexcept {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return "uint8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return "int8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16: return "uint16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16: return "int16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING: return "string";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return "bool";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return "double";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32: return "uint32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64: return "uint64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX64: return "complex64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX128: return "complex128";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: return "bfloat16";
    default: return "an ONNX element type AegisRT does not know";
  }
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
