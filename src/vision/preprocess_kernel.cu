// Fused CUDA pre-processing kernel: each thread produces one output pixel
// (all three channels): bilinear sample (half-pixel centres, OpenCV
// INTER_LINEAR clamping, same as preprocess.cpp) or the pad value, colour
// mapping, (x * scale - mean) / std, and the NCHW/NHWC store.
#include <cuda_runtime.h>

#include "vision/preprocess_kernel.h"

namespace aegisrt::vision::detail {
namespace {

// Same arithmetic as detail::make_tap() on the CPU (double coordinates), so
// both paths pick the same taps and weights; two double ops per pixel row/col.
__device__ __forceinline__ void tap(int d, double inv, int size, int& i0, int& i1, float& w) {
  const double s = (static_cast<double>(d) + 0.5) * inv - 0.5;
  const double f = floor(s);
  i0 = static_cast<int>(f);
  w = static_cast<float>(s - f);
  if (i0 < 0) {
    i0 = 0;
    w = 0.0f;
  }
  if (i0 >= size - 1) {
    i0 = size - 1;
    w = 0.0f;
  }
  i1 = w > 0.0f ? i0 + 1 : i0;
}

template <int C, bool kNchw>
__global__ void preprocess_kernel(const PreprocessKernelParams p) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= p.dst_w || y >= p.dst_h) return;
  const int cx = x - p.pad_x;
  const int cy = y - p.pad_y;
  float v[3];
  if (cx < 0 || cy < 0 || cx >= p.resized_w || cy >= p.resized_h) {
    v[0] = p.pad[0];
    v[1] = p.pad[1];
    v[2] = p.pad[2];
  } else {
    int x0, x1, y0, y1;
    float fx, fy;
    tap(cx, p.inv_x, p.src_w, x0, x1, fx);
    tap(cy, p.inv_y, p.src_h, y0, y1, fy);
    const std::uint8_t* r0 = p.src + static_cast<long long>(y0) * p.src_stride;
    const std::uint8_t* r1 = p.src + static_cast<long long>(y1) * p.src_stride;
#pragma unroll
    for (int k = 0; k < 3; ++k) {
      const int c = p.ch[k];
      const float a = r0[x0 * C + c], b = r0[x1 * C + c];
      const float e = r1[x0 * C + c], f = r1[x1 * C + c];
      const float top = a + (b - a) * fx;
      const float bot = e + (f - e) * fx;
      v[k] = (top + (bot - top) * fy) * p.mul[k] + p.add[k];
    }
  }
  const long long pix = static_cast<long long>(y) * p.dst_w + x;
  if constexpr (kNchw) {
    const long long plane = static_cast<long long>(p.dst_w) * p.dst_h;
    p.dst[pix] = v[0];
    p.dst[plane + pix] = v[1];
    p.dst[2 * plane + pix] = v[2];
  } else {
    p.dst[3 * pix] = v[0];
    p.dst[3 * pix + 1] = v[1];
    p.dst[3 * pix + 2] = v[2];
  }
}

template <int C>
void launch_for_channels(const PreprocessKernelParams& p, bool nchw, cudaStream_t stream) {
  const dim3 block(32, 8);
  const dim3 grid((p.dst_w + block.x - 1) / block.x, (p.dst_h + block.y - 1) / block.y);
  if (nchw) preprocess_kernel<C, true><<<grid, block, 0, stream>>>(p);
  else preprocess_kernel<C, false><<<grid, block, 0, stream>>>(p);
}

}  // namespace

cudaError_t launch_preprocess_kernel(const PreprocessKernelParams& p, int channels, bool nchw,
                                     cudaStream_t stream) {
  switch (channels) {
    case 1: launch_for_channels<1>(p, nchw, stream); break;
    case 3: launch_for_channels<3>(p, nchw, stream); break;
    case 4: launch_for_channels<4>(p, nchw, stream); break;
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace aegisrt::vision::detail
