// A small read-only look into an ONNX model file (protobuf wire format, no
// protobuf library): opsets, I/O tensors with their dims, how many nodes are
// Q/DQ or casts to float16, initializer element types and metadata_props.
// Not tied to one backend: ONNX Runtime, TVM and OpenVINO use it for I/O specs
// and external-data files, TensorRT build planning (trt_plan/) to decide which
// build path a model needs and to tell an ONNX file from an engine. Always
// compiled; needs no ONNX library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"

namespace aegisrt::onnx {

/// How a model is typed, which decides the TensorRT build path.
enum class OnnxModelKind : std::uint8_t {
  Float32,  // plain float32 model
  Float16,  // weights/activations float16 (e.g. tools/onnx_convert/convert_fp16.py)
  QDQ,      // explicit quantisation: QuantizeLinear/DequantizeLinear nodes
};
std::string_view to_string(OnnxModelKind k) noexcept;

/// metadata_props key our conversion tools set: "float16" or "int8-qdq".
inline constexpr std::string_view kOnnxPrecisionMetadataKey = "aegisrt.precision";

struct OnnxSummary {
  std::int64_t ir_version = 0;
  std::map<std::string, std::int64_t> opsets;  // domain ("" = ai.onnx) -> version
  std::string producer_name;
  std::size_t node_count = 0;
  std::size_t qdq_node_count = 0;      // QuantizeLinear + DequantizeLinear
  std::size_t cast_to_fp16_count = 0;  // Cast(to=FLOAT16)
  std::size_t fp32_initializers = 0;
  std::size_t fp16_initializers = 0;
  std::map<std::string, std::string> metadata;
  /// Graph inputs that are not initializers, and graph outputs. Symbolic or
  /// missing dims are kDynamicDim. Element types AegisRT has no DType for
  /// make the summary fail (InvalidArgument naming the tensor).
  std::vector<TensorDesc> inputs;
  std::vector<TensorDesc> outputs;

  /// QDQ if any Q/DQ node; else Float16 if metadata says so or float16
  /// initializers outnumber float32 ones; else Float32.
  [[nodiscard]] OnnxModelKind kind() const noexcept;
};

/// Parses the bytes of an ONNX ModelProto. Corrupt naming `what` for bytes
/// that are not a well-formed ModelProto with a graph.
Result<OnnxSummary> summarize_onnx(std::span<const std::byte> bytes, std::string_view what);
/// Reads and parses a file (NotFound / IoError / Corrupt naming it).
Result<OnnxSummary> summarize_onnx_file(const std::filesystem::path& path);

/// Largest ONNX protobuf read to find its external data (protobuf's own 2 GiB limit).
inline constexpr std::uint64_t kMaxOnnxModelBytes = 2ull << 30;

/// The distinct TensorProto.external_data "location" values anywhere in a
/// ModelProto (graph initializers, sparse initializers, Constant/attribute
/// tensors, subgraphs, functions), sorted. Corrupt naming `what` for bytes
/// that are not protobuf.
Result<std::vector<std::string>> onnx_external_data_locations(std::span<const std::byte> bytes,
                                                              std::string_view what);
/// The external data files `model` reads: its locations resolved against the
/// model's folder (Corrupt for absolute paths or ".." ones, which ONNX
/// refuses too). The files are not checked for existence here.
Result<std::vector<std::filesystem::path>> onnx_external_data_files(const std::filesystem::path& model);

/// Cheap check used on load(): do these bytes parse as an ONNX ModelProto?
bool looks_like_onnx(std::span<const std::byte> bytes);

/// A backend's check, before a slow build or compile, that every input and
/// output of `model` has an element type it binds (`bound`). Unsupported naming
/// the tensor, the file, its element type (ours and ONNX's) and `backend`
/// ("TVM") with the bound types; Unsupported too for a value AegisRT has no
/// DType for (a non-tensor value or an unknown element type). Other summary
/// failures (unreadable, not ONNX) pass: the backend's own load reports them.
Result<void> check_onnx_value_types(const std::filesystem::path& model, std::string_view backend,
                                    std::span<const DType> bound);

}  // namespace aegisrt::onnx
