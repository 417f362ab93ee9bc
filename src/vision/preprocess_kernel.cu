// Fused CUDA pre-processing kernel: each thread produces kPx (4) consecutive
// output pixels of one row (all three channels): bilinear sample (half-pixel
// centres, OpenCV INTER_LINEAR clamping, same as preprocess.cpp) or the pad
// value, colour mapping, (x * scale - mean) / std, and the NCHW/NHWC store.
//
// - Taps: per-column and per-row tables (i0, i1, w) computed once on the host
//   by detail::make_tap() (the CPU path's function; preprocess_cuda.cpp
//   uploads them and keeps them while the image and output sizes repeat), not
//   double arithmetic per pixel.
// - Padding rows are written without touching the source or the tables; pad
//   columns inside a content row skip the sampling.
// - Stores: when the output width is a multiple of 4 and the destination is
//   16-byte aligned (cudaMalloc'd tensors are; a batch slot of 3*W*H floats
//   keeps it), each thread writes one float4 per plane (NCHW) or three float4
//   (NHWC, 12 consecutive floats); a warp covers 128 consecutive pixels, so a
//   plane store is one contiguous 512-byte segment. Otherwise scalar stores.
// - Grid: blocks of 32x4 threads (128 px x 4 rows); at 640x640 that is 800
//   blocks of 128 threads, all resident at once on an H100/H200 (132 SMs x 16
//   blocks), so there is no tail wave.
// - Identity resize (source size = resized size, every tap i0 = index with
//   weight 0; preprocess_cuda.cpp checks the tables): content pixels are read
//   once from the source row, with no table reads and no dependent loads.
//   With weight 0 the general path's lerps return the first tap exactly, so
//   both give the same floats.
// The interpolation and normalisation are the same expressions as before
// (and as the CPU's separable passes), so the output is unchanged.
#include <cuda_runtime.h>

#include <cstdint>

#include "vision/preprocess_kernel.h"

namespace aegisrt::vision::detail {
namespace {

constexpr int kPx = 4;        // output pixels per thread along x
constexpr int kBlockX = 32;   // threads along x (one warp)
constexpr int kBlockY = 4;    // rows per block

template <int C>
__device__ __forceinline__ void sample(const PreprocessKernelParams& p, const std::uint8_t* r0,
                                       const std::uint8_t* r1, float fy, int cx, float* v) {
  const int x0 = __ldg(p.x_taps.i0 + cx) * C;
  const int x1 = __ldg(p.x_taps.i1 + cx) * C;
  const float fx = __ldg(p.x_taps.w + cx);
#pragma unroll
  for (int k = 0; k < 3; ++k) {
    const int c = p.ch[k];
    const float a = __ldg(r0 + x0 + c), b = __ldg(r0 + x1 + c);
    const float e = __ldg(r1 + x0 + c), f = __ldg(r1 + x1 + c);
    const float top = a + (b - a) * fx;
    const float bot = e + (f - e) * fx;
    v[k] = (top + (bot - top) * fy) * p.mul[k] + p.add[k];
  }
}

// kVec: dst_w % 4 == 0 and dst 16-byte aligned (checked by the launcher).
// kIdentity: PreprocessKernelParams::identity.
template <int C, bool kNchw, bool kVec, bool kIdentity>
__global__ void __launch_bounds__(kBlockX * kBlockY) preprocess_kernel(const PreprocessKernelParams p) {
  const int x = (blockIdx.x * kBlockX + threadIdx.x) * kPx;
  const int y = blockIdx.y * kBlockY + threadIdx.y;
  if (x >= p.dst_w || y >= p.dst_h) return;
  float v[kPx][3];
  const int cy = y - p.pad_y;
  if (cy < 0 || cy >= p.resized_h) {
    // Padding row: no source or table reads.
#pragma unroll
    for (int i = 0; i < kPx; ++i) {
      v[i][0] = p.pad[0];
      v[i][1] = p.pad[1];
      v[i][2] = p.pad[2];
    }
  } else if constexpr (kIdentity) {
    const std::uint8_t* row = p.src + static_cast<long long>(cy) * p.src_stride;
#pragma unroll
    for (int i = 0; i < kPx; ++i) {
      const int cx = x + i - p.pad_x;
      if (cx >= 0 && cx < p.resized_w) {
#pragma unroll
        for (int k = 0; k < 3; ++k) {
          const float a = __ldg(row + cx * C + p.ch[k]);
          v[i][k] = a * p.mul[k] + p.add[k];
        }
      } else {
        v[i][0] = p.pad[0];
        v[i][1] = p.pad[1];
        v[i][2] = p.pad[2];
      }
    }
  } else {
    const int y0 = __ldg(p.y_taps.i0 + cy);
    const int y1 = __ldg(p.y_taps.i1 + cy);
    const float fy = __ldg(p.y_taps.w + cy);
    const std::uint8_t* r0 = p.src + static_cast<long long>(y0) * p.src_stride;
    const std::uint8_t* r1 = p.src + static_cast<long long>(y1) * p.src_stride;
#pragma unroll
    for (int i = 0; i < kPx; ++i) {
      // Columns past dst_w (scalar path only) are never inside the content:
      // pad_x + resized_w <= dst_w, so the tables are not read out of range.
      const int cx = x + i - p.pad_x;
      if (cx >= 0 && cx < p.resized_w) {
        sample<C>(p, r0, r1, fy, cx, v[i]);
      } else {
        v[i][0] = p.pad[0];
        v[i][1] = p.pad[1];
        v[i][2] = p.pad[2];
      }
    }
  }
  const long long pix = static_cast<long long>(y) * p.dst_w + x;
  if constexpr (kVec) {
    if constexpr (kNchw) {
      const long long plane = static_cast<long long>(p.dst_w) * p.dst_h;
#pragma unroll
      for (int k = 0; k < 3; ++k) {
        *reinterpret_cast<float4*>(p.dst + k * plane + pix) = make_float4(v[0][k], v[1][k], v[2][k], v[3][k]);
      }
    } else {
      float4* o = reinterpret_cast<float4*>(p.dst + 3 * pix);
      o[0] = make_float4(v[0][0], v[0][1], v[0][2], v[1][0]);
      o[1] = make_float4(v[1][1], v[1][2], v[2][0], v[2][1]);
      o[2] = make_float4(v[2][2], v[3][0], v[3][1], v[3][2]);
    }
  } else {
    const long long plane = static_cast<long long>(p.dst_w) * p.dst_h;
#pragma unroll
    for (int i = 0; i < kPx; ++i) {
      if (x + i >= p.dst_w) break;
      if constexpr (kNchw) {
        p.dst[pix + i] = v[i][0];
        p.dst[plane + pix + i] = v[i][1];
        p.dst[2 * plane + pix + i] = v[i][2];
      } else {
        p.dst[3 * (pix + i)] = v[i][0];
        p.dst[3 * (pix + i) + 1] = v[i][1];
        p.dst[3 * (pix + i) + 2] = v[i][2];
      }
    }
  }
}

template <int C, bool kNchw>
void launch_layout(const PreprocessKernelParams& p, bool vec, cudaStream_t stream) {
  const dim3 block(kBlockX, kBlockY);
  const int threads_x = (p.dst_w + kPx - 1) / kPx;
  const dim3 grid((threads_x + kBlockX - 1) / kBlockX, (p.dst_h + kBlockY - 1) / kBlockY);
  if (p.identity) {
    if (vec) preprocess_kernel<C, kNchw, true, true><<<grid, block, 0, stream>>>(p);
    else preprocess_kernel<C, kNchw, false, true><<<grid, block, 0, stream>>>(p);
  } else {
    if (vec) preprocess_kernel<C, kNchw, true, false><<<grid, block, 0, stream>>>(p);
    else preprocess_kernel<C, kNchw, false, false><<<grid, block, 0, stream>>>(p);
  }
}

template <int C>
void launch_for_channels(const PreprocessKernelParams& p, bool nchw, cudaStream_t stream) {
  const bool vec = p.dst_w % kPx == 0 && reinterpret_cast<std::uintptr_t>(p.dst) % 16 == 0;
  if (nchw) launch_layout<C, true>(p, vec, stream);
  else launch_layout<C, false>(p, vec, stream);
}

}  // namespace

cudaError_t launch_preprocess_kernel(const PreprocessKernelParams& p, int channels, bool nchw,
                                     cudaStream_t stream) {
  if (p.dst_w <= 0 || p.dst_h <= 0) return cudaErrorInvalidValue;
  switch (channels) {
    case 1: launch_for_channels<1>(p, nchw, stream); break;
    case 3: launch_for_channels<3>(p, nchw, stream); break;
    case 4: launch_for_channels<4>(p, nchw, stream); break;
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace aegisrt::vision::detail
