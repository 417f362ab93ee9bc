// The rough memory figure backends give estimate_memory(): a model's weight
// bytes plus one set of inputs and outputs, dynamic dims counted as 1. Shared
// so that every backend admits models into a budget the same way.
#pragma once

#include <cstddef>
#include <vector>

#include "aegisrt/core/tensor.h"

namespace aegisrt {

/// `weight_bytes` plus the bytes of every tensor in `inputs` and `outputs`
/// (dynamic dims count as 1). Not an exact arena size.
inline std::size_t estimate_io_bytes(std::size_t weight_bytes, const std::vector<TensorDesc>& inputs,
                                     const std::vector<TensorDesc>& outputs) {
  std::size_t bytes = weight_bytes;
  for (const auto* specs : {&inputs, &outputs}) {
    for (const auto& d : *specs) {
      std::size_t n = dtype_size(d.dtype);
      for (auto dim : d.shape) n *= static_cast<std::size_t>(dim > 0 ? dim : 1);
      bytes += n;
    }
  }
  return bytes;
}

}  // namespace aegisrt
