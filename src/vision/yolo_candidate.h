// Private: one YOLO candidate as the GPU decode kernel (yolo_decode_kernel.cu)
// writes it and the host part of the decode (detection.cpp) reads it. Plain
// C++17 with no CUDA dependency, so both the CUDA sources and the host code
// of every build (with or without the toolkit) include it.
#pragma once

#include <cstdint>

namespace aegisrt::vision::detail {

/// An anchor whose best class score passed the confidence threshold: the raw
/// model-space box (cx, cy, w, h as the model wrote them; the host turns them
/// into corners with Box::from_center, so no device arithmetic touches them),
/// the best score, its class and the anchor's index (the kernel's atomic
/// compaction leaves candidates in any order; the host sorts by anchor).
struct YoloCandidate {
  float cx;
  float cy;
  float w;
  float h;
  float score;
  std::int32_t class_id;
  std::int32_t anchor;
};

/// The kernel's output buffer: the number of passing anchors (may exceed
/// the capacity: then only `capacity` were written), then the candidates.
struct YoloCandidateHeader {
  std::uint32_t count;
  std::uint32_t reserved[3];  // keeps the candidates 16-byte aligned
};

static_assert(sizeof(YoloCandidate) == 28, "YoloCandidate is read back as raw bytes");
static_assert(sizeof(YoloCandidateHeader) == 16, "YoloCandidateHeader is read back as raw bytes");

}  // namespace aegisrt::vision::detail
