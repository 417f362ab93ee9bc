// Private to src/cuda/: launcher for the N-d strided gather kernel
// (non-contiguous device view -> contiguous device buffer).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace aegisrt::cuda::detail {

inline constexpr int kMaxGatherRank = 8;

struct GatherParams {
  int rank = 0;
  std::int64_t shape[kMaxGatherRank] = {};
  std::int64_t strides[kMaxGatherRank] = {};  // in elements
};

/// dst[i] = src[offset(i)] for i in [0, count), elements of elem_size bytes
/// (1, 2, 4 or 8). Launch errors are returned; the caller synchronises.
cudaError_t launch_strided_gather(const void* src, void* dst, std::size_t elem_size,
                                  std::int64_t count, const GatherParams& params,
                                  cudaStream_t stream);

}  // namespace aegisrt::cuda::detail
