// Limits and conversions shared by the tensor-file readers (.npy, .npz, .pb):
// a file can never make AegisRT allocate more than max_tensor_bytes.
#pragma once

#include <cstdint>

namespace aegisrt::io {

struct ReadOptions {
  /// Largest tensor (decoded bytes) a reader will allocate; a file claiming
  /// more is rejected with ErrorCode::Unsupported before anything is read.
  std::uint64_t max_tensor_bytes = std::uint64_t{4} << 30;  // 4 GiB
  /// Largest rank accepted (numpy's own limit is 64).
  std::uint32_t max_rank = 32;
  /// float64 is not an AegisRT DType. false: reject float64 data with
  /// ErrorCode::Unsupported; true: convert it to float32 (round to nearest).
  bool float64_to_float32 = false;
};

}  // namespace aegisrt::io
