// Private: the fused pre-processing kernel's parameters and launcher, in
// plain C++17 (the CUDA sources of the aegisrt target compile as CUDA 17, see
// src/cuda/CMakeLists.txt), shared by preprocess_kernel.cu and
// preprocess_cuda.cpp.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace aegisrt::vision::detail {

/// Sampling taps of one axis in device memory, one entry per resized pixel
/// (resized_w entries for x, resized_h for y): source indices i0/i1 (pixels,
/// not bytes) and the weight of i1. Computed on the host by detail::make_tap()
/// (preprocess_plan.h), the very function the CPU path uses, so both paths
/// sample the same source pixels with the same weights.
struct DeviceTaps {
  const int* i0;
  const int* i1;
  const float* w;
};

struct PreprocessKernelParams {
  const std::uint8_t* src;
  int src_w, src_h;
  long long src_stride;  // bytes per source row
  float* dst;            // first element of this image's slot
  int dst_w, dst_h;
  int resized_w, resized_h, pad_x, pad_y;
  DeviceTaps x_taps;  // resized_w entries (all null when identity: no table is uploaded)
  DeviceTaps y_taps;  // resized_h entries (the same)
  float mul[3], add[3], pad[3];
  int ch[3];  // source channel feeding output channel k
  /// Every tap is i0 = index, weight 0 (the source is already the resized
  /// size, e.g. a 640x480 frame letterboxed into 640x640): the kernel reads
  /// each content pixel once, straight from the source row, without the
  /// tables. Same values as the general path: with weight 0 its lerps return
  /// the first tap exactly.
  bool identity;
};

/// Enqueues the kernel on `stream`; `channels` is 1, 3 or 4. Returns the
/// launch status (cudaGetLastError()).
cudaError_t launch_preprocess_kernel(const PreprocessKernelParams& p, int channels, bool nchw,
                                     cudaStream_t stream);

}  // namespace aegisrt::vision::detail
