// DType names and half/bfloat16 conversions.
#include "aegisrt/core/dtype.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace aegisrt {

std::string_view dtype_name(DType t) noexcept {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float16: return "float16";
    case DType::BFloat16: return "bfloat16";
    case DType::Int8: return "int8";
    case DType::UInt8: return "uint8";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Bool: return "bool";
    case DType::Float64: return "float64";
    case DType::Int16: return "int16";
    case DType::UInt16: return "uint16";
    case DType::UInt32: return "uint32";
    case DType::UInt64: return "uint64";
    case DType::String: return "string";
    case DType::Float8E4M3FN: return "float8e4m3fn";
    case DType::Float8E4M3FNUZ: return "float8e4m3fnuz";
    case DType::Float8E5M2: return "float8e5m2";
    case DType::Float8E5M2FNUZ: return "float8e5m2fnuz";
    case DType::Int4: return "int4";
    case DType::UInt4: return "uint4";
  }
  return "unknown";
}

std::optional<DType> parse_dtype(std::string_view name) noexcept {
  for (DType t : kAllDTypes) {
    if (dtype_name(t) == name) return t;
  }
  struct Alias {
    std::string_view name;
    DType dtype;
  };
  static constexpr Alias kAliases[] = {
      {"fp32", DType::Float32},   {"f32", DType::Float32},
      {"float", DType::Float32},  {"fp16", DType::Float16},
      {"f16", DType::Float16},    {"half", DType::Float16},
      {"bf16", DType::BFloat16},  {"i8", DType::Int8},
      {"u8", DType::UInt8},       {"i32", DType::Int32},
      {"i64", DType::Int64},      {"fp64", DType::Float64},
      {"f64", DType::Float64},    {"double", DType::Float64},
      {"i16", DType::Int16},      {"u16", DType::UInt16},
      {"u32", DType::UInt32},     {"u64", DType::UInt64},
      {"str", DType::String},     {"float8_e4m3fn", DType::Float8E4M3FN},
      {"float8_e4m3fnuz", DType::Float8E4M3FNUZ},
      {"float8_e5m2", DType::Float8E5M2},
      {"float8_e5m2fnuz", DType::Float8E5M2FNUZ},
  };
  for (const auto& a : kAliases) {
    if (a.name == name) return a.dtype;
  }
  return std::nullopt;
}

namespace {

// ONNX TensorProto.DataType codes (onnx.proto3), also ORT's ONNXTensorElementDataType.
struct OnnxType {
  std::int32_t code;
  const char* name;
  std::optional<DType> dtype;
};

constexpr OnnxType kOnnxTypes[] = {
    {0, "UNDEFINED", std::nullopt},
    {1, "FLOAT", DType::Float32},
    {2, "UINT8", DType::UInt8},
    {3, "INT8", DType::Int8},
    {4, "UINT16", DType::UInt16},
    {5, "INT16", DType::Int16},
    {6, "INT32", DType::Int32},
    {7, "INT64", DType::Int64},
    {8, "STRING", DType::String},
    {9, "BOOL", DType::Bool},
    {10, "FLOAT16", DType::Float16},
    {11, "DOUBLE", DType::Float64},
    {12, "UINT32", DType::UInt32},
    {13, "UINT64", DType::UInt64},
    {14, "COMPLEX64", std::nullopt},
    {15, "COMPLEX128", std::nullopt},
    {16, "BFLOAT16", DType::BFloat16},
    {17, "FLOAT8E4M3FN", DType::Float8E4M3FN},
    {18, "FLOAT8E4M3FNUZ", DType::Float8E4M3FNUZ},
    {19, "FLOAT8E5M2", DType::Float8E5M2},
    {20, "FLOAT8E5M2FNUZ", DType::Float8E5M2FNUZ},
    {21, "UINT4", DType::UInt4},
    {22, "INT4", DType::Int4},
    {23, "FLOAT4E2M1", std::nullopt},
};

constexpr bool onnx_table_is_complete() {
  for (DType t : kAllDTypes) {
    int hits = 0;
    for (const auto& o : kOnnxTypes) hits += (o.dtype && *o.dtype == t) ? 1 : 0;
    if (hits != 1) return false;
  }
  for (std::size_t i = 0; i < std::size(kOnnxTypes); ++i) {
    if (kOnnxTypes[i].code != static_cast<std::int32_t>(i)) return false;
  }
  return true;
}
static_assert(onnx_table_is_complete(), "every DType needs exactly one ONNX data type");

}  // namespace

std::optional<DType> dtype_from_onnx(std::int64_t onnx_type) noexcept {
  if (onnx_type < 0 || onnx_type >= static_cast<std::int64_t>(std::size(kOnnxTypes))) {
    return std::nullopt;
  }
  return kOnnxTypes[static_cast<std::size_t>(onnx_type)].dtype;
}

std::int32_t dtype_to_onnx(DType t) noexcept {
  for (const auto& o : kOnnxTypes) {
    if (o.dtype && *o.dtype == t) return o.code;
  }
  return 0;  // unreachable: the table is complete (static_assert above)
}

std::string onnx_type_name(std::int64_t onnx_type) {
  if (onnx_type >= 0 && onnx_type < static_cast<std::int64_t>(std::size(kOnnxTypes))) {
    return kOnnxTypes[static_cast<std::size_t>(onnx_type)].name;
  }
  return "ONNX data type " + std::to_string(onnx_type);
}

std::ostream& operator<<(std::ostream& os, DType t) { return os << dtype_name(t); }

std::uint16_t float_to_half(float f) noexcept {
  const auto x = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t exp = (x >> 23) & 0xFFu;
  std::uint32_t mant = x & 0x7FFFFFu;
  if (exp == 0xFFu) {  // inf / nan
    return static_cast<std::uint16_t>(sign | 0x7C00u | (mant ? 0x200u : 0u));
  }
  const int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 0x1F) return static_cast<std::uint16_t>(sign | 0x7C00u);  // overflow -> inf
  if (e <= 0) {                                                       // subnormal or zero
    if (e < -10) return static_cast<std::uint16_t>(sign);
    mant |= 0x800000u;
    const int shift = 14 - e;
    std::uint32_t half_mant = mant >> shift;
    const std::uint32_t rem = mant & ((1u << shift) - 1u);
    const std::uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half_mant & 1u))) ++half_mant;
    return static_cast<std::uint16_t>(sign | half_mant);
  }
  std::uint32_t h = sign | (static_cast<std::uint32_t>(e) << 10) | (mant >> 13);
  const std::uint32_t rem = mant & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // may carry into exponent: correct
  return static_cast<std::uint16_t>(h);
}

float half_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = (static_cast<std::uint32_t>(h) & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1Fu;
  std::uint32_t mant = h & 0x3FFu;
  std::uint32_t out = 0;
  if (exp == 0) {
    if (mant == 0) {
      out = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      mant &= 0x3FFu;
      out = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | (mant << 13);
    }
  } else if (exp == 0x1F) {
    out = sign | 0x7F800000u | (mant << 13);
  } else {
    out = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(out);
}

std::uint16_t float_to_bfloat16(float f) noexcept {
  std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7F800000u) == 0x7F800000u && (x & 0x7FFFFFu)) {
    return static_cast<std::uint16_t>((x >> 16) | 0x40u);  // quiet nan
  }
  const std::uint32_t lsb = (x >> 16) & 1u;
  x += 0x7FFFu + lsb;
  return static_cast<std::uint16_t>(x >> 16);
}

float bfloat16_to_float(std::uint16_t h) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
}

float float8_to_float(DType t, std::uint8_t bits) noexcept {
  const float sign = (bits & 0x80u) ? -1.0f : 1.0f;
  const auto decode = [sign](unsigned e, unsigned m, int mant_bits, int bias) {
    const float frac = static_cast<float>(m) / static_cast<float>(1u << mant_bits);
    if (e == 0) return sign * std::ldexp(frac, 1 - bias);  // subnormal
    return sign * std::ldexp(1.0f + frac, static_cast<int>(e) - bias);
  };
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  switch (t) {
    case DType::Float8E4M3FN: {
      const unsigned e = (bits >> 3) & 0xFu, m = bits & 0x7u;
      if (e == 0xF && m == 0x7) return kNaN;
      return decode(e, m, 3, 7);
    }
    case DType::Float8E4M3FNUZ: {
      if (bits == 0x80u) return kNaN;
      return decode((bits >> 3) & 0xFu, bits & 0x7u, 3, 8);
    }
    case DType::Float8E5M2: {
      const unsigned e = (bits >> 2) & 0x1Fu, m = bits & 0x3u;
      if (e == 0x1F) return m == 0 ? sign * std::numeric_limits<float>::infinity() : kNaN;
      return decode(e, m, 2, 15);
    }
    case DType::Float8E5M2FNUZ: {
      if (bits == 0x80u) return kNaN;
      return decode((bits >> 2) & 0x1Fu, bits & 0x3u, 2, 16);
    }
    default: return kNaN;
  }
}

}  // namespace aegisrt
