// The N-d strided gather kernel: one thread per output element (grid-stride),
// the element's source offset computed from its row-major index.
#include "strided_gather.h"

namespace aegisrt::cuda::detail {
namespace {

template <typename T>
__global__ void strided_gather_kernel(const T* __restrict__ src, T* __restrict__ dst,
                                      std::int64_t count, GatherParams p) {
  const std::int64_t step = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       i < count; i += step) {
    std::int64_t rem = i;
    std::int64_t offset = 0;
    for (int d = p.rank - 1; d >= 0; --d) {
      const std::int64_t idx = rem % p.shape[d];
      rem /= p.shape[d];
      offset += idx * p.strides[d];
    }
    dst[i] = src[offset];
  }
}

template <typename T>
cudaError_t launch(const void* src, void* dst, std::int64_t count, const GatherParams& p,
                   cudaStream_t stream) {
  constexpr int kThreads = 256;
  const std::int64_t wanted = (count + kThreads - 1) / kThreads;
  const unsigned blocks = static_cast<unsigned>(wanted < 65535 ? wanted : 65535);
  strided_gather_kernel<T><<<blocks, kThreads, 0, stream>>>(static_cast<const T*>(src),
                                                            static_cast<T*>(dst), count, p);
  return cudaGetLastError();
}

}  // namespace

cudaError_t launch_strided_gather(const void* src, void* dst, std::size_t elem_size,
                                  std::int64_t count, const GatherParams& params,
                                  cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  switch (elem_size) {
    case 1: return launch<unsigned char>(src, dst, count, params, stream);
    case 2: return launch<unsigned short>(src, dst, count, params, stream);
    case 4: return launch<unsigned int>(src, dst, count, params, stream);
    case 8: return launch<unsigned long long>(src, dst, count, params, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace aegisrt::cuda::detail
