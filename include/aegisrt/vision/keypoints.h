// Keypoint post-processing for SimCC heads (RTMPose): per keypoint, the
// argmax of a 1-D x distribution and of a 1-D y distribution, divided by the
// split ratio, gives the location in model-input pixels; it is mapped back to
// the original image through the letterbox (or a general affine) inverse.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/vision/geometry.h"

namespace aegisrt::vision {

struct Keypoint {
  float x = 0.0f;  // original-image pixels; -1 when score <= 0 (not found)
  float y = 0.0f;
  float score = 0.0f;
};

struct SimccConfig {
  float split_ratio = 2.0f;  // bins per input pixel (RTMPose: 2.0)
};

/// simcc_x: [B, K, Wx], simcc_y: [B, K, Hy] (float32/float16 host views).
/// score = min(max_x, max_y) (mmpose's get_simcc_maximum); location =
/// (argmax_x, argmax_y) / split_ratio, mapped through `model_to_original`.
Result<std::vector<Keypoint>> decode_simcc(const TensorView& simcc_x, const TensorView& simcc_y,
                                           const SimccConfig& config,
                                           const AffineTransform& model_to_original,
                                           std::int64_t batch_index = 0);
/// Same, through a letterbox inverse.
Result<std::vector<Keypoint>> decode_simcc(const TensorView& simcc_x, const TensorView& simcc_y,
                                           const SimccConfig& config,
                                           const LetterboxTransform& transform,
                                           std::int64_t batch_index = 0);

/// COCO-17 skeleton (pairs of keypoint indices) for drawing.
const std::vector<std::pair<int, int>>& coco17_skeleton();

}  // namespace aegisrt::vision
