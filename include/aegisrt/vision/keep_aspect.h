// Per-image model input size of the reference image processors'
// aspect-keeping resize (transformers' DPTImageProcessor / Depth Anything and
// ZoeDepthImageProcessor with keep_aspect_ratio=True and ensure_multiple_of),
// for exports whose input height and width are dynamic. The manifest names
// the policy as input.preprocessing.keep_aspect (docs/MANIFEST.md).
#pragma once

#include "aegisrt/core/result.h"
#include "aegisrt/vision/preprocess.h"

namespace aegisrt::vision {

/// Largest side keep_aspect_input_size() returns; beyond it InvalidArgument.
inline constexpr int kMaxKeepAspectSide = 1 << 15;

struct InputSize {
  int width = 0;
  int height = 0;
  friend bool operator==(const InputSize&, const InputSize&) = default;
};

/// transformers' get_resize_output_image_size(keep_aspect_ratio=True,
/// multiple=multiple_of) for a src_width x src_height image and the target
/// target_width x target_height, in the same double arithmetic:
///   scale_h = target_h / src_h, scale_w = target_w / src_w;
///   "scale as little as possible": if |1 - scale_w| < |1 - scale_h| both
///   use scale_w (fit width), else both use scale_h (fit height);
///   each side = round(scale * side / multiple_of) * multiple_of, round half
///   to even (Python's round / numpy's np.round).
/// InvalidArgument (field "preprocess.keep_aspect") for non-positive sizes or
/// multiple, and for a side that rounds to 0 (the reference refuses those
/// images too) or exceeds kMaxKeepAspectSide.
Result<InputSize> keep_aspect_input_size(int src_width, int src_height, int target_width, int target_height,
                                         int multiple_of);

/// `config` with width/height set to one image's keep-aspect input size:
/// config.width/height are the target; with a reflect border the size is
/// computed from the bordered image (src + 2 * border_size(src, factor) per
/// side), as ZoeDepthImageProcessor pads before it resizes. Letterbox
/// configs are refused (InvalidArgument): the policy sizes a plain resize.
Result<PreprocessConfig> keep_aspect_config(int src_width, int src_height, const PreprocessConfig& config,
                                            int multiple_of);

}  // namespace aegisrt::vision
