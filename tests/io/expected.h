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
    }
  }
  return t;
}

inline bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.byte_size() == b.byte_size() &&
         std::memcmp(a.data(), b.data(), a.byte_size()) == 0;
}

}  // namespace aegisrt::testing
