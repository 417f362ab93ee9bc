// Shared pieces of the ONNX Runtime backend: the process-wide Ort::Env, the
// mapping of ORT errors and element types to ours. Private to src/backends/onnxruntime.
#pragma once

#include <onnxruntime_cxx_api.h>

#include <optional>
#include <string>
#include <string_view>

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

/// ORT's provider name for ours ("cuda" -> "CUDAExecutionProvider") and back.
std::string_view ort_provider_name(std::string_view ours) noexcept;
std::string our_provider_name(std::string_view ort_name);

}  // namespace aegisrt::ort
