// Private: reading float32/float16 elements from host TensorViews with any
// strides, and the common checks post-processing does on model outputs.
#pragma once

#include <cstdint>
#include <string>

#include "aegisrt/core/tensor.h"

namespace aegisrt::vision::detail {

/// Accepts float32 / float16 / bfloat16 host views that validate().
inline Result<void> check_float_output(const TensorView& v, std::string_view what) {
  AEGIS_TRY(v.validate(what));
  if (!v.location().is_host()) {
    return Error(ErrorCode::InvalidArgument,
                 std::string(what) + " is on " + to_string(v.location()) +
                     "; post-processing needs host memory");
  }
  if (v.dtype() != DType::Float32 && v.dtype() != DType::Float16 && v.dtype() != DType::BFloat16) {
    return Error(ErrorCode::InvalidArgument, std::string(what) + " has dtype " +
                                                 std::string(dtype_name(v.dtype())) +
                                                 ", expected float32 or float16");
  }
  return {};
}

/// Element at linear element offset `off` (already stride-resolved).
inline float load(const TensorView& v, std::int64_t off) noexcept {
  switch (v.dtype()) {
    case DType::Float16: return half_to_float(v.data_as<std::uint16_t>()[off]);
    case DType::BFloat16: return bfloat16_to_float(v.data_as<std::uint16_t>()[off]);
    default: return v.data_as<float>()[off];
  }
}

}  // namespace aegisrt::vision::detail
