// keep_aspect_input_size: transformers' get_resize_output_image_size with
// keep_aspect_ratio=True (models/dpt/image_processing_dpt.py,
// models/zoedepth/image_processing_zoedepth.py), replicated operation for
// operation in double precision.
#include "aegisrt/vision/keep_aspect.h"

#include <cmath>
#include <string>

namespace aegisrt::vision {
namespace {

/// Python's round(x) / numpy's np.round(x) for a finite double: nearest
/// integer, halves to the even neighbour. x - floor(x) is exact here.
double round_half_even(double x) {
  double r = std::floor(x);
  const double frac = x - r;
  if (frac > 0.5 || (frac == 0.5 && std::fmod(r, 2.0) != 0.0)) r += 1.0;
  return r;
}

std::string size_text(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

}  // namespace

Result<InputSize> keep_aspect_input_size(int src_width, int src_height, int target_width, int target_height,
                                         int multiple_of) {
  if (src_width <= 0 || src_height <= 0 || target_width <= 0 || target_height <= 0 || multiple_of <= 0) {
    return Error(ErrorCode::InvalidArgument,
                 "keep-aspect input size of a " + size_text(src_width, src_height) + " image for target " +
                     size_text(target_width, target_height) + ", multiple of " + std::to_string(multiple_of) +
                     ": sizes and multiple must be positive",
                 "preprocess.keep_aspect");
  }
  double scale_h = static_cast<double>(target_height) / src_height;
  double scale_w = static_cast<double>(target_width) / src_width;
  // Scale as little as possible.
  if (std::abs(1.0 - scale_w) < std::abs(1.0 - scale_h)) {
    scale_h = scale_w;  // fit width
  } else {
    scale_w = scale_h;  // fit height
  }
  const double m = multiple_of;
  const double h = round_half_even(scale_h * src_height / m) * m;
  const double w = round_half_even(scale_w * src_width / m) * m;
  if (h < 1.0 || w < 1.0 || h > kMaxKeepAspectSide || w > kMaxKeepAspectSide) {
    return Error(ErrorCode::InvalidArgument,
                 "a " + size_text(src_width, src_height) + " image keeps its aspect at " +
                     std::to_string(static_cast<long long>(w)) + "x" + std::to_string(static_cast<long long>(h)) +
                     " (target " + size_text(target_width, target_height) + ", multiple of " +
                     std::to_string(multiple_of) + "), which is not a usable model input size (1.." +
                     std::to_string(kMaxKeepAspectSide) + " per side)",
                 "preprocess.keep_aspect");
  }
  return InputSize{static_cast<int>(w), static_cast<int>(h)};
}

Result<PreprocessConfig> keep_aspect_config(int src_width, int src_height, const PreprocessConfig& config,
                                            int multiple_of) {
  if (config.resize != ResizeMode::Stretch) {
    return Error(ErrorCode::InvalidArgument, "the keep-aspect input size applies to a plain resize, not a letterbox",
                 "preprocess.keep_aspect");
  }
  int w = src_width;
  int h = src_height;
  if (config.border == BorderMode::Reflect && src_width > 0 && src_height > 0) {
    w += 2 * border_size(src_width, config.border_factor);
    h += 2 * border_size(src_height, config.border_factor);
  }
  AEGIS_ASSIGN_OR_RETURN(const InputSize size,
                         keep_aspect_input_size(w, h, config.width, config.height, multiple_of));
  PreprocessConfig out = config;
  out.width = size.width;
  out.height = size.height;
  return out;
}

}  // namespace aegisrt::vision
