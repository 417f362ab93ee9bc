// GPU YOLO decode (the selection half of vision::decode_yolo): per anchor the
// best class score, the confidence filter, and compaction of the passing
// anchors into a small buffer with an atomic counter. No arithmetic on the
// values: comparisons and copies only, so the host finishes with exactly the
// floats the CPU decode would read (box corners, NMS and the letterbox
// inverse run on the host, detection.cpp).
#include <cuda_runtime.h>

#include "vision/yolo_decode_kernel.h"

namespace aegisrt::vision::detail {
namespace {

__global__ void yolo_select_kernel(YoloDecodeKernelParams p) {
  const long long index = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= p.anchors) return;
  const int i = static_cast<int>(index);
  const float* column = p.output + i;  // channel k of this anchor: column[k * channel_stride]
  // As detection.cpp's scan: start at -1 / class 0, take a class only when
  // strictly greater (the first of equal maxima wins, NaN never does).
  float best = -1.0f;
  int best_class = 0;
  const float* row = column + 4 * p.channel_stride;
  for (int c = 0; c < p.classes; ++c, row += p.channel_stride) {
    const float v = *row;
    if (v > best) {
      best = v;
      best_class = c;
    }
  }
  if (!(best >= p.conf_threshold)) return;  // the CPU's comparison; drops NaN
  const unsigned int slot = atomicAdd(&p.header->count, 1u);
  if (slot >= p.capacity) return;  // counted, not written: the host falls back
  YoloCandidate c;
  c.cx = column[0];
  c.cy = column[p.channel_stride];
  c.w = column[2 * p.channel_stride];
  c.h = column[3 * p.channel_stride];
  c.score = best;
  c.class_id = best_class;
  c.anchor = i;
  p.candidates[slot] = c;
}

}  // namespace

cudaError_t launch_yolo_decode_kernel(const YoloDecodeKernelParams& p, cudaStream_t stream) {
  if (const cudaError_t e = cudaMemsetAsync(p.header, 0, sizeof(YoloCandidateHeader), stream); e != cudaSuccess) {
    return e;
  }
  if (p.anchors <= 0) return cudaSuccess;
  constexpr int kThreads = 256;
  const auto blocks = static_cast<unsigned int>((static_cast<long long>(p.anchors) + kThreads - 1) / kThreads);
  yolo_select_kernel<<<blocks, kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace aegisrt::vision::detail
