// Shared pieces of the ONNX Runtime backend: the process-wide Ort::Env, the
// mapping of ORT errors and element types to ours. Private to src/backends/onnxruntime.
#pragma once

#include <onnxruntime_cxx_api.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/core/dtype.h"
#include "aegisrt/core/result.h"

namespace aegisrt::ort {

/// The one Ort::Env of the process (created on first use, never destroyed
/// before exit). Unsupported if the loaded library cannot serve the C API
/// version our headers were written against.
Result<Ort::Env*> env();

/// INVALID_ARGUMENT -> InvalidArgument, NO_SUCHFILE -> NotFound,
/// INVALID_PROTOBUF / INVALID_GRAPH -> Corrupt, NOT_IMPLEMENTED -> Unsupported,
/// everything else -> BackendError.
ErrorCode map_error_code(OrtErrorCode code) noexcept;

/// "<what>: <ORT's message> (ORT code <name>)" with the mapped ErrorCode.
Error to_error(const Ort::Exception& e, std::string_view what);
/// Same for a C API status; releases `status` (which must be non-null).
Error status_to_error(OrtStatus* status, std::string_view what);

std::optional<DType> from_onnx(ONNXTensorElementDataType t) noexcept;
ONNXTensorElementDataType to_onnx(DType t) noexcept;
/// Through core's ONNX type table (dtype_from_onnx / dtype_to_onnx).
/// "FLOAT", "DOUBLE", "COMPLEX64", ... (ONNX's names) for messages.
std::string onnx_type_name(ONNXTensorElementDataType t);

/// Element type and shape (copied into `shape`) of a tensor OrtValue, for
/// reading outputs after Run. Uses ORT C API 24's
/// GetTensorElementTypeAndShapeDataReference (reads the value's own shape, no
/// allocation) when the loaded library has it and it passed a self-check
/// (tensor_shape_reference_available()); otherwise GetTensorTypeAndShape and
/// friends (ORT allocates and frees an OrtTensorTypeAndShapeInfo per call).
/// Both give the same answer; the first costs about 1,000 fewer instructions.
/// Errors name `what`.
Result<void> read_type_and_shape(const OrtValue* value, ONNXTensorElementDataType& type,
                                 std::vector<std::int64_t>& shape, std::string_view what);

/// True when read_type_and_shape() takes the API 24 path: the library serves
/// C API 24 and the entry, read from its slot in the OrtApi table (our ORT
/// headers are API 21 and do not declare it), answered a probe tensor of
/// known type and shape correctly. Resolved once per process.
bool tensor_shape_reference_available() noexcept;

/// Tests only: false makes read_type_and_shape() use the pre-API-24 calls
/// even where the reference is available (default true).
void use_tensor_shape_reference(bool enabled) noexcept;

/// ORT's provider name for ours ("cuda" -> "CUDAExecutionProvider") and back.
std::string_view ort_provider_name(std::string_view ours) noexcept;
std::string our_provider_name(std::string_view ort_name);

}  // namespace aegisrt::ort
