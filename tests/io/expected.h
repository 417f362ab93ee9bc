// The values tests/io/gen_io_files.py writes, recomputed by hand in C++:
// element i of a 2x3x4 tensor per dtype (see the script's docstring).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "aegisrt/core/dtype.h"
#include "aegisrt/core/tensor.h"

namespace aegisrt::testing {

inline const Shape kIoShape{2, 3, 4};

inline std::string expected_string(std::int64_t i) {
  return "s" + std::to_string(i) + (i % 5 == 0 ? "\xC3\xA9" : "");  // "é" in UTF-8
}

inline Tensor expected_tensor(DType dtype, const std::string& name = "t") {
  Tensor t = Tensor::allocate_host(kIoShape, dtype, name).value();
  for (std::int64_t i = 0; i < 24; ++i) {
    const float f = static_cast<float>(i - 7) * 0.25f;
    switch (dtype) {
      case DType::Float32: t.data_as<float>()[i] = f; break;
      case DType::Float16: t.data_as<std::uint16_t>()[i] = float_to_half(f); break;
      case DType::BFloat16: t.data_as<std::uint16_t>()[i] = float_to_bfloat16(f); break;
      case DType::Int8: t.data_as<std::int8_t>()[i] = static_cast<std::int8_t>((i % 11) - 5); break;
      case DType::UInt8: t.data_as<std::uint8_t>()[i] = static_cast<std::uint8_t>((i * 7) % 256); break;
      case DType::Int32: t.data_as<std::int32_t>()[i] = static_cast<std::int32_t>(i * 1000 - 5000); break;
      case DType::Int64: t.data_as<std::int64_t>()[i] = i * 10'000'000'000LL - 3; break;
      case DType::Bool: t.data_as<std::uint8_t>()[i] = i % 3 == 0 ? 1 : 0; break;
      case DType::Float64: t.data_as<double>()[i] = static_cast<double>(i - 7) * 0.25; break;
      case DType::Int16: t.data_as<std::int16_t>()[i] = static_cast<std::int16_t>(i * 1000 - 12000); break;
      case DType::UInt16: t.data_as<std::uint16_t>()[i] = static_cast<std::uint16_t>(i * 2000 + 7); break;
      case DType::UInt32: t.data_as<std::uint32_t>()[i] = static_cast<std::uint32_t>(i * 150'000'000 + 1); break;
      case DType::UInt64:
        t.data_as<std::uint64_t>()[i] = (std::uint64_t{1} << 63) + static_cast<std::uint64_t>(i) * 1'000'000'000'000'000ULL + 1;
        break;
      case DType::String: t.data_as<std::string>()[i] = expected_string(i); break;
      case DType::Float8E4M3FN:
      case DType::Float8E4M3FNUZ:
      case DType::Float8E5M2:
      case DType::Float8E5M2FNUZ:  // bit patterns, never NaN/inf in any of the four
        t.data_as<std::uint8_t>()[i] = static_cast<std::uint8_t>(((i * 5) % 0x70) | (i % 2 ? 0x80 : 0));
        break;
      case DType::Int4: t.data_as<std::int8_t>()[i] = static_cast<std::int8_t>((i % 16) - 8); break;
      case DType::UInt4: t.data_as<std::uint8_t>()[i] = static_cast<std::uint8_t>(i % 16); break;
    }
  }
  return t;
}

/// Same dtype, shape and elements (bytes; strings compared as strings).
inline bool same_bytes(const Tensor& a, const Tensor& b) {
  if (a.dtype() == DType::String || b.dtype() == DType::String) {
    if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
    const auto x = a.span<std::string>();
    const auto y = b.span<std::string>();
    for (std::size_t i = 0; i < x.size(); ++i)
      if (x[i] != y[i]) return false;
    return true;
  }
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.byte_size() == b.byte_size() &&
         std::memcmp(a.data(), b.data(), a.byte_size()) == 0;
}

}  // namespace aegisrt::testing
