// Element types AegisRT moves between backends, with their sizes and names,
// and the one mapping between them and ONNX's TensorProto.DataType codes.
//
// Storage of the less common types (what a host Tensor of that dtype holds):
//  * float8 (e4m3fn, e4m3fnuz, e5m2, e5m2fnuz): one byte per element, the raw
//    8-bit pattern (as ONNX, ONNX Runtime and ml_dtypes store them).
//  * int4 / uint4: UNPACKED, one byte per element (int4 as a sign-extended
//    int8 in [-8, 7], uint4 as a uint8 in [0, 15]), like ml_dtypes.int4. ONNX
//    and ONNX Runtime pack two elements per byte (first element in the low
//    nibble); the backends and the .pb reader pack/unpack at their edge, so
//    strides, views and element access stay the same as for every other type.
//  * string: host-only, one std::string per element (dtype_size() is
//    sizeof(std::string)). A string Tensor constructs and destroys its
//    std::string objects; such tensors are never raw bytes (from_bytes,
//    memcpy-style copies and device copies refuse them). Strings hold bytes;
//    ONNX expects UTF-8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace aegisrt {

// New values are appended: the numeric values are not part of any file format.
enum class DType : std::uint8_t {
  Float32,
  Float16,
  BFloat16,
  Int8,
  UInt8,
  Int32,
  Int64,
  Bool,
  Float64,
  Int16,
  UInt16,
  UInt32,
  UInt64,
  String,
  Float8E4M3FN,
  Float8E4M3FNUZ,
  Float8E5M2,
  Float8E5M2FNUZ,
  Int4,
  UInt4,
};

inline constexpr DType kAllDTypes[] = {
    DType::Float32,      DType::Float16,        DType::BFloat16,   DType::Int8,
    DType::UInt8,        DType::Int32,          DType::Int64,      DType::Bool,
    DType::Float64,      DType::Int16,          DType::UInt16,     DType::UInt32,
    DType::UInt64,       DType::String,         DType::Float8E4M3FN, DType::Float8E4M3FNUZ,
    DType::Float8E5M2,   DType::Float8E5M2FNUZ, DType::Int4,       DType::UInt4};

/// Size of one element in host memory, in bytes (int4/uint4: 1, unpacked;
/// string: sizeof(std::string)).
constexpr std::size_t dtype_size(DType t) noexcept {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float16: return 2;
    case DType::BFloat16: return 2;
    case DType::Int8: return 1;
    case DType::UInt8: return 1;
    case DType::Int32: return 4;
    case DType::Int64: return 8;
    case DType::Bool: return 1;
    case DType::Float64: return 8;
    case DType::Int16: return 2;
    case DType::UInt16: return 2;
    case DType::UInt32: return 4;
    case DType::UInt64: return 8;
    case DType::String: return sizeof(std::string);
    case DType::Float8E4M3FN:
    case DType::Float8E4M3FNUZ:
    case DType::Float8E5M2:
    case DType::Float8E5M2FNUZ: return 1;
    case DType::Int4:
    case DType::UInt4: return 1;
  }
  return 0;
}

/// String tensors hold std::string objects, not raw bytes.
constexpr bool dtype_is_string(DType t) noexcept { return t == DType::String; }
/// Element bytes may be copied with memcpy (every dtype but string).
constexpr bool dtype_is_pod(DType t) noexcept { return t != DType::String; }
constexpr bool dtype_is_float8(DType t) noexcept {
  return t == DType::Float8E4M3FN || t == DType::Float8E4M3FNUZ || t == DType::Float8E5M2 ||
         t == DType::Float8E5M2FNUZ;
}
constexpr bool dtype_is_int4(DType t) noexcept { return t == DType::Int4 || t == DType::UInt4; }

/// "float32", "float16", "bfloat16", "int8", "uint8", "int32", "int64", "bool",
/// "float64", "int16", "uint16", "uint32", "uint64", "string", "float8e4m3fn",
/// "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "int4", "uint4".
std::string_view dtype_name(DType t) noexcept;

/// Inverse of dtype_name(); also accepts "fp32", "fp16", "bf16", "f32",
/// "double", "fp64", ml_dtypes' names ("float8_e4m3fn", ...) and the short
/// forms i8/u8/i16/u16/i32/u32/i64/u64.
std::optional<DType> parse_dtype(std::string_view name) noexcept;

std::ostream& operator<<(std::ostream& os, DType t);

// --- ONNX (TensorProto.DataType; ONNX Runtime's ONNXTensorElementDataType has
// the same values). The one table AegisRT uses for ONNX element types.

/// The DType for an ONNX data type code; nullopt for codes AegisRT has no
/// DType for (complex64/128, float4e2m1, undefined, unknown codes).
std::optional<DType> dtype_from_onnx(std::int64_t onnx_type) noexcept;
/// The ONNX data type code of a DType (always defined).
std::int32_t dtype_to_onnx(DType t) noexcept;
/// ONNX's name for a data type code ("FLOAT", "DOUBLE", "STRING",
/// "FLOAT8E4M3FN", "COMPLEX64", ...), or "ONNX data type <n>" for codes
/// ONNX does not define (as of ONNX 1.17).
std::string onnx_type_name(std::int64_t onnx_type);

/// IEEE half <-> float conversion (round to nearest even), for tests and
/// host-side conversion tools.
std::uint16_t float_to_half(float f) noexcept;
float half_to_float(std::uint16_t h) noexcept;
std::uint16_t float_to_bfloat16(float f) noexcept;
float bfloat16_to_float(std::uint16_t h) noexcept;

/// The value of an 8-bit float pattern of the given float8 dtype (ONNX's
/// definitions: e4m3fn and the fnuz types have no infinities; e5m2 has).
/// Returns NaN for a non-float8 dtype.
float float8_to_float(DType t, std::uint8_t bits) noexcept;

}  // namespace aegisrt
