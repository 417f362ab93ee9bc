// Element types AegisRT moves between backends, with their sizes and names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>

namespace aegisrt {

enum class DType : std::uint8_t {
  Float32,
  Float16,
  BFloat16,
  Int8,
  UInt8,
  Int32,
  Int64,
  Bool,
};

inline constexpr DType kAllDTypes[] = {DType::Float32, DType::Float16, DType::BFloat16,
                                       DType::Int8,    DType::UInt8,   DType::Int32,
                                       DType::Int64,   DType::Bool};

/// Size of one element in bytes.
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
  }
  return 0;
}

/// "float32", "float16", "bfloat16", "int8", "uint8", "int32", "int64", "bool".
std::string_view dtype_name(DType t) noexcept;

/// Inverse of dtype_name(); also accepts "fp32", "fp16", "bf16", "f32".
std::optional<DType> parse_dtype(std::string_view name) noexcept;

std::ostream& operator<<(std::ostream& os, DType t);

/// IEEE half <-> float conversion (round to nearest even), for tests and
/// host-side conversion tools.
std::uint16_t float_to_half(float f) noexcept;
float half_to_float(std::uint16_t h) noexcept;
std::uint16_t float_to_bfloat16(float f) noexcept;
float bfloat16_to_float(std::uint16_t h) noexcept;

}  // namespace aegisrt
