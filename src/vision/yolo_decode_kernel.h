// Private: the GPU YOLO decode kernel's parameters and launcher, in plain
// C++17 (the CUDA sources of the aegisrt target compile as CUDA 17, see
// src/cuda/CMakeLists.txt), shared by yolo_decode_kernel.cu and
// yolo_decode_cuda.cpp.
#pragma once

#include <cuda_runtime_api.h>

#include "vision/yolo_candidate.h"

namespace aegisrt::vision::detail {

struct YoloDecodeKernelParams {
  const float* output;       // element [b, 0, 0] of a float32 [B, 4+C, N] head, anchors contiguous
  long long channel_stride;  // elements between channel rows
  int anchors;               // N
  int classes;               // C = channels - 4
  float conf_threshold;      // kept: best score >= this (NaN never)
  YoloCandidateHeader* header;   // count, zeroed by the launcher
  YoloCandidate* candidates;     // `capacity` slots
  unsigned int capacity;
};

/// Enqueues on `stream`: zero the count, then one thread per anchor finds
/// its best class (first maximum, strict >, from -1 / class 0 like the CPU
/// scan), and an anchor passing the threshold takes a slot with an atomic
/// add (written only while the slot is < capacity; the count goes on
/// counting). Returns the launch status.
cudaError_t launch_yolo_decode_kernel(const YoloDecodeKernelParams& p, cudaStream_t stream);

}  // namespace aegisrt::vision::detail
