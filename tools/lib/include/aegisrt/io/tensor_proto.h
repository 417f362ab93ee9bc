// ONNX TensorProto files (.pb, the layout of ONNX's own test data:
// test_data_set_0/input_0.pb), read through the ONNX protobuf library when the
// build found it (Debian libonnx-dev + libprotobuf-dev).
//
// Data may be in raw_data (little-endian) or in the typed fields (float_data,
// int32_data for 8/16-bit types, float16 and bfloat16 bit patterns and bool,
// int64_data, double_data). External data and segments are Unsupported.
#pragma once

#include <filesystem>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/io/read_options.h"

namespace aegisrt::io {

/// True when this build can read .pb files (AEGISRT_HAVE_ONNX_PROTO).
bool tensor_proto_supported() noexcept;

/// Reads one serialized onnx.TensorProto. The tensor is named by the proto's
/// `name` field, or by the file stem when that is empty. Errors: NotFound,
/// IoError, Corrupt (not a TensorProto, data size not matching dims),
/// Unsupported (data type without an AegisRT DType, external data, over the
/// size limit, or .pb support not compiled in).
Result<Tensor> read_tensor_proto(const std::filesystem::path& path,
                                 const ReadOptions& options = {});

}  // namespace aegisrt::io
