// Depth-map post-processing: bring a model's depth/disparity output back to
// the original image (undo the letterbox, bilinear resize), min-max
// normalise, and colourise (turbo, inferno, grey) into an RGB Image.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/vision/geometry.h"
#include "aegisrt/vision/image.h"
#include "aegisrt/vision/preprocess.h"

namespace aegisrt::vision {

enum class ColorMap : std::uint8_t { Turbo, Inferno, Grey };

std::string_view to_string(ColorMap m) noexcept;
/// "turbo", "inferno", "grey"/"gray"; InvalidArgument otherwise.
Result<ColorMap> parse_colormap(std::string_view name);

/// Colour of t in [0, 1] (clamped). Turbo: Google's polynomial fit of the
/// turbo map; inferno: polynomial fit of matplotlib's inferno; grey: t*255.
Rgb colormap_color(ColorMap map, float t) noexcept;

/// A float image (row-major, width * height values).
struct DepthMap {
  int width = 0;
  int height = 0;
  std::vector<float> values;
};

/// Resamples image `batch_index` of a depth output (float32/float16 host view
/// of shape [H,W], [B,H,W] or [B,1,H,W], covering the whole model input, any
/// resolution) onto the original image grid of `transform`, bilinearly,
/// ignoring the letterbox padding. Bilinear: half-pixel centres, samples
/// clamped to the content area. Bicubic: PyTorch's
/// interpolate(mode="bicubic", align_corners=False) of the content area
/// (a = -0.75, no antialiasing, taps clamped to the content's edge pixels),
/// what transformers' post_process_depth_estimation does.
Result<DepthMap> depth_to_original(const TensorView& depth, const LetterboxTransform& transform,
                                   std::int64_t batch_index = 0,
                                   Interpolation interpolation = Interpolation::Bilinear);

/// For a model input made by a plain resize of the image with a border of
/// border_x columns left and right and border_y rows above and below
/// (PreprocessConfig::border, ZoeDepth): the whole map is resampled to the
/// padded image size (src + 2 * border) and the border is cropped away, what
/// transformers' ZoeDepthImageProcessor.post_process_depth_estimation does
/// (with `interpolation` bicubic). `transform` is the one pre-processing
/// returned (the stretch of the image without the border).
Result<DepthMap> depth_to_original_unpadded(const TensorView& depth, const LetterboxTransform& transform,
                                            int border_x, int border_y, std::int64_t batch_index = 0,
                                            Interpolation interpolation = Interpolation::Bilinear);

/// Maps values to [0, 1] in place; returns the original (min, max). A
/// constant map becomes all 0. Non-finite values are treated as the minimum.
std::pair<float, float> normalize_min_max(std::span<float> values) noexcept;

/// Colourises a map whose values are already in [0, 1]; `invert` uses 1 - t.
Result<Image> colorize(const DepthMap& normalized, ColorMap map, bool invert = false);

/// depth_to_original + normalize_min_max + colorize in one call.
Result<Image> colorize_depth(const TensorView& depth, const LetterboxTransform& transform,
                             ColorMap map = ColorMap::Turbo, bool invert = false,
                             std::int64_t batch_index = 0);

}  // namespace aegisrt::vision
