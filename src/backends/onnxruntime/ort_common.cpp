// Process-wide ORT environment, error and type mapping (see ort_common.h).
#include "backends/onnxruntime/ort_common.h"

#include <atomic>
#include <cstring>
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

// --- GetTensorElementTypeAndShapeDataReference (ORT C API 24) -----------------
// ORT >= 1.24 has
//   OrtStatus* GetTensorElementTypeAndShapeDataReference(const OrtValue* value,
//       ONNXTensorElementDataType* elem_type, const int64_t** shape_data, size_t* shape_data_count);
// (the shape pointer refers to the value's own dims, valid while it lives).
// Our headers are Debian's ORT 1.21 (API 21) and are not replaced, so the
// entry is declared here and read from its slot in the OrtApi table: the C API
// table is append-only (ORT static_asserts every slot), and this entry is the
// last of API 24, slot 414 (byte offset 3312 on 64-bit; the API 24 table is
// 415 pointers, the API 21 table of our headers 285). Only used when
// GetApi(24) succeeds and the entry answers a probe tensor correctly.
using TypeAndShapeRefFn = OrtStatus*(ORT_API_CALL*)(const OrtValue*, ONNXTensorElementDataType*, const int64_t**,
                                                     size_t*);
constexpr std::size_t kTypeAndShapeRefSlot = 414;
static_assert(sizeof(OrtApi) / sizeof(void*) <= kTypeAndShapeRefSlot,
              "our ORT headers declare GetTensorElementTypeAndShapeDataReference: use the member instead");

TypeAndShapeRefFn resolve_type_and_shape_ref() noexcept {
  const OrtApiBase* base = OrtGetApiBase();
  if (base == nullptr || sizeof(void*) != 8) return nullptr;
  const OrtApi* api24 = base->GetApi(24);
  if (api24 == nullptr) return nullptr;  // ORT < 1.24
  TypeAndShapeRefFn fn = nullptr;
  std::memcpy(&fn, reinterpret_cast<const unsigned char*>(api24) + kTypeAndShapeRefSlot * sizeof(void*), sizeof fn);
  if (fn == nullptr) return nullptr;
  // Probe: a float tensor of shape [2, 3, 5] over our own buffer.
  const OrtApi* api = base->GetApi(ORT_API_VERSION);
  if (api == nullptr) return nullptr;
  OrtMemoryInfo* mem = nullptr;
  if (OrtStatus* s = api->CreateCpuMemoryInfo(OrtDeviceAllocator, OrtMemTypeDefault, &mem)) {
    api->ReleaseStatus(s);
    return nullptr;
  }
  static float probe_data[30] = {};
  const std::int64_t probe_shape[3] = {2, 3, 5};
  OrtValue* value = nullptr;
  OrtStatus* s = api->CreateTensorWithDataAsOrtValue(mem, probe_data, sizeof probe_data, probe_shape, 3,
                                                     ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &value);
  api->ReleaseMemoryInfo(mem);
  if (s != nullptr) {
    api->ReleaseStatus(s);
    return nullptr;
  }
  ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  const std::int64_t* dims = nullptr;
  std::size_t rank = 0;
  s = fn(value, &type, &dims, &rank);
  const bool ok = s == nullptr && type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT && rank == 3 && dims != nullptr &&
                  dims[0] == 2 && dims[1] == 3 && dims[2] == 5;
  if (s != nullptr) api->ReleaseStatus(s);
  api->ReleaseValue(value);
  return ok ? fn : nullptr;
}

TypeAndShapeRefFn type_and_shape_ref() noexcept {
  static const TypeAndShapeRefFn fn = resolve_type_and_shape_ref();
  return fn;
}

std::atomic<bool> g_use_type_and_shape_ref{true};

}  // namespace

bool tensor_shape_reference_available() noexcept { return type_and_shape_ref() != nullptr; }

void use_tensor_shape_reference(bool enabled) noexcept {
  g_use_type_and_shape_ref.store(enabled, std::memory_order_relaxed);
}

Result<void> read_type_and_shape(const OrtValue* value, ONNXTensorElementDataType& type,
                                 std::vector<std::int64_t>& shape, std::string_view what) {
  const OrtApi& api = Ort::GetApi();
  if (g_use_type_and_shape_ref.load(std::memory_order_relaxed)) {
    if (const TypeAndShapeRefFn fn = type_and_shape_ref()) {
      const std::int64_t* dims = nullptr;
      std::size_t rank = 0;
      if (OrtStatus* s = fn(value, &type, &dims, &rank)) return status_to_error(s, what);
      if (rank != 0 && dims == nullptr) {
        return Error(ErrorCode::BackendError, std::string(what) + ": ONNX Runtime gave a rank but no dimensions");
      }
      shape.assign(dims, dims + rank);
      return {};
    }
  }
  OrtTensorTypeAndShapeInfo* info = nullptr;
  if (OrtStatus* s = api.GetTensorTypeAndShape(value, &info)) return status_to_error(s, what);
  std::size_t rank = 0;
  OrtStatus* s = api.GetDimensionsCount(info, &rank);
  if (s == nullptr) {
    shape.resize(rank);
    s = api.GetDimensions(info, shape.data(), rank);
  }
  if (s == nullptr) s = api.GetTensorElementType(info, &type);
  api.ReleaseTensorTypeAndShapeInfo(info);
  if (s != nullptr) return status_to_error(s, what);
  return {};
}

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
