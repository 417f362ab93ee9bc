// CPU pre-processing: letterbox or plain resize (bilinear, half-pixel
// centres like OpenCV INTER_LINEAR), colour order, (x * scale - mean) / std
// and NCHW/NHWC layout, in one pass per output pixel, into float32 tensors.
// The pipeline maps a manifest's `input` section onto PreprocessConfig.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/vision/geometry.h"
#include "aegisrt/vision/image.h"

namespace aegisrt::vision {

enum class ResizeMode : std::uint8_t {
  Letterbox,  // keep aspect ratio, centre, pad the rest with pad_value
  Stretch,    // plain resize to the target size (aspect not kept)
};
/// Resampling filter of the resize. Bilinear: half-pixel centres (OpenCV
/// INTER_LINEAR, float). Bicubic: exactly Pillow's Image.resize(BICUBIC)
/// (antialiased when shrinking, a = -0.5, 8-bit fixed point, horizontal
/// pass first), the resize of transformers' PIL image processors.
enum class Interpolation : std::uint8_t { Bilinear, Bicubic };
/// A border added around the source image before a plain resize (ZoeDepth):
/// None, or Reflect (mirrored about the edge pixel, which is not repeated:
/// numpy/PyTorch "reflect").
enum class BorderMode : std::uint8_t { None, Reflect };
enum class ColorOrder : std::uint8_t { RGB, BGR };
enum class Layout : std::uint8_t { NCHW, NHWC };

std::string_view to_string(ResizeMode m) noexcept;
std::string_view to_string(ColorOrder c) noexcept;
std::string_view to_string(Layout l) noexcept;
/// Manifest spellings: "letterbox" | "stretch"/"resize"; "rgb" | "bgr";
/// "nchw"/"chw" | "nhwc"/"hwc". InvalidArgument listing the choices otherwise.
Result<ResizeMode> parse_resize_mode(std::string_view s);
Result<ColorOrder> parse_color_order(std::string_view s);
Result<Layout> parse_layout(std::string_view s);

/// Everything pre-processing needs; defaults are YOLO's (640x640 letterbox,
/// pad 114, RGB, x / 255, NCHW).
struct PreprocessConfig {
  int width = 640;   // model input width
  int height = 640;  // model input height
  ResizeMode resize = ResizeMode::Letterbox;
  Interpolation interpolation = Interpolation::Bilinear;
  /// Bilinear only: PyTorch interpolate(align_corners=True), source
  /// coordinate = dst * (in - 1) / (out - 1), instead of half-pixel centres.
  bool align_corners = false;
  /// Stretch only: border_size(h, border_factor) rows above and below and
  /// border_size(w, border_factor) columns left and right are added to the
  /// source before the resize (transformers' ZoeDepthImageProcessor do_pad).
  /// The returned LetterboxTransform describes the stretch of the image
  /// WITHOUT the border; vision::depth_to_original_unpadded removes it from
  /// a depth output. The CUDA pre-processing refuses a border and
  /// align_corners (Unsupported).
  BorderMode border = BorderMode::None;
  double border_factor = 3.0;
  std::uint8_t pad_value = 114;  // raw 0..255 value; normalised like pixels
  ColorOrder color_order = ColorOrder::RGB;
  float scale = 1.0f / 255.0f;
  /// Per OUTPUT channel (i.e. after colour ordering), applied as
  /// (x * scale - mean[c]) / std[c].
  std::array<float, 3> mean{0.0f, 0.0f, 0.0f};
  std::array<float, 3> std{1.0f, 1.0f, 1.0f};
  Layout layout = Layout::NCHW;

  /// InvalidArgument naming the field for non-positive sizes, zero/NaN std, etc.
  [[nodiscard]] Result<void> validate() const;
  /// Shape of one batch of `batch` images: [N,3,H,W] or [N,H,W,3].
  [[nodiscard]] Shape tensor_shape(std::int64_t batch = 1) const;
  [[nodiscard]] std::size_t elements_per_image() const noexcept {
    return static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3u;
  }
};

/// ZoeDepth's border for one side of `side` pixels: int(sqrt(side / 2) *
/// factor) (transformers' ZoeDepthImageProcessor, factor 3).
int border_size(int side, double factor) noexcept;

/// Geometry of placing a src_width x src_height image per `config` (no pixels
/// touched). Letterbox: scale = min(W/w, H/h), resized = round(w*scale),
/// pad = floor((W - resized) / 2) (Ultralytics' convention).
Result<LetterboxTransform> compute_transform(int src_width, int src_height,
                                             const PreprocessConfig& config);

/// Output of pre-processing one image or a batch.
struct PreprocessResult {
  Tensor tensor;                              // float32, config.tensor_shape(N)
  std::vector<LetterboxTransform> transforms;  // one per image
};

/// One image -> [1,3,H,W] (or NHWC) float32 host tensor.
Result<PreprocessResult> preprocess(const Image& image, const PreprocessConfig& config);
/// Several images (any sizes) -> one [N,3,H,W] float32 host tensor.
Result<PreprocessResult> preprocess_batch(std::span<const Image* const> images,
                                          const PreprocessConfig& config);
/// Writes one image's elements (config.elements_per_image() floats) into
/// caller memory, e.g. slot i of a batch tensor. No allocation.
Result<LetterboxTransform> preprocess_into(const Image& image, const PreprocessConfig& config,
                                           std::span<float> out);

/// Bilinear uint8 resize (same half-pixel convention); channels preserved.
Result<Image> resize_bilinear(const Image& image, int width, int height);
/// Pillow's Image.resize(size, Image.BICUBIC) on a uint8 image, bit for bit
/// (Pillow's Resample.c: support 2 scaled by the shrink factor, weights
/// normalised per output pixel then rounded to 22-bit fixed point, the
/// horizontal pass into a uint8 image first, then the vertical pass; a pass
/// whose size does not change is skipped). Channels preserved.
Result<Image> resize_bicubic(const Image& image, int width, int height);

}  // namespace aegisrt::vision
