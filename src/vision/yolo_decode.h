// Private: the parts of vision::decode_yolo (detection.cpp) that the GPU
// decode (vision::CudaYoloDecoder, yolo_decode_cuda.cpp) shares with it, so
// both give bit-identical detections: the letterbox check, and everything
// after the per-anchor best-class scan and confidence filter (max_candidates,
// NMS in model space, letterbox inverse, clipping).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/vision/detection.h"
#include "aegisrt/vision/geometry.h"
#include "vision/yolo_candidate.h"

namespace aegisrt::vision::detail {

/// InvalidArgument when the letterbox transform cannot be inverted (a
/// non-positive scale), as decode_yolo reports it.
Result<void> check_yolo_transform(const LetterboxTransform& transform);

/// decode_yolo after the confidence filter: `candidates` (model-space boxes,
/// in anchor order) -> the max_candidates best by score (stable) -> NMS ->
/// boxes mapped to the original image and clipped.
std::vector<Detection> finish_yolo_decode(std::vector<Detection> candidates, const YoloDecodeConfig& config,
                                          const LetterboxTransform& transform);

/// The GPU kernel's candidates -> the detections decode_yolo gives for the
/// same output. `written` is the kernel's buffer (its capacity), `count` the
/// number of anchors that passed. nullopt when count > written.size(): the
/// kernel had to drop some, so the caller decodes the whole output on the
/// host instead (never a silently truncated result). Otherwise the first
/// `count` candidates are sorted by anchor (the atomic compaction's order is
/// arbitrary) and finished as decode_yolo finishes its own.
std::optional<std::vector<Detection>> decode_yolo_candidates(std::span<YoloCandidate> written, std::uint32_t count,
                                                             const YoloDecodeConfig& config,
                                                             const LetterboxTransform& transform);

}  // namespace aegisrt::vision::detail
