// Image: an owning 8-bit HWC image (1, 3 or 4 channels, RGB(A) order), with
// PNG/JPEG loading and PNG saving. Decoding is done by stb_image behind this
// interface; no third-party type appears here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"

namespace aegisrt::vision {

/// One 8-bit pixel colour, RGB order (alpha only used by blending helpers).
struct Rgb {
  std::uint8_t r = 0;
  std::uint8_t g = 0;
  std::uint8_t b = 0;
  friend bool operator==(const Rgb&, const Rgb&) = default;
};

/// Owning, tightly packed (row stride = width * channels) 8-bit image in HWC
/// order. Channels: 1 (grey), 3 (RGB) or 4 (RGBA). Copyable (deep copy).
class Image {
 public:
  Image() = default;

  /// Zero-filled image. InvalidArgument for non-positive sizes, unsupported
  /// channel counts or sizes whose byte count overflows.
  static Result<Image> create(int width, int height, int channels);
  /// Copies `pixels` (exactly width*height*channels bytes) into a new image.
  static Result<Image> from_pixels(int width, int height, int channels,
                                   std::span<const std::uint8_t> pixels);

  [[nodiscard]] int width() const noexcept { return width_; }
  [[nodiscard]] int height() const noexcept { return height_; }
  [[nodiscard]] int channels() const noexcept { return channels_; }
  [[nodiscard]] bool empty() const noexcept { return pixels_.empty(); }
  [[nodiscard]] std::size_t row_bytes() const noexcept {
    return static_cast<std::size_t>(width_) * static_cast<std::size_t>(channels_);
  }
  [[nodiscard]] std::size_t byte_size() const noexcept { return pixels_.size(); }

  [[nodiscard]] std::uint8_t* data() noexcept { return pixels_.data(); }
  [[nodiscard]] const std::uint8_t* data() const noexcept { return pixels_.data(); }
  [[nodiscard]] std::span<std::uint8_t> pixels() noexcept { return pixels_; }
  [[nodiscard]] std::span<const std::uint8_t> pixels() const noexcept { return pixels_; }

  /// Pointer to pixel (x, y); no bounds check beyond a debug assert.
  [[nodiscard]] std::uint8_t* at(int x, int y) noexcept;
  [[nodiscard]] const std::uint8_t* at(int x, int y) const noexcept;

  /// Host uint8 view of shape [H, W, C] over this image's pixels.
  [[nodiscard]] TensorView view() const;

  /// Same pixels converted to `channels` (1, 3 or 4): grey is replicated,
  /// RGB->grey uses BT.601 luma, alpha is dropped or set to 255.
  [[nodiscard]] Result<Image> convert(int channels) const;

 private:
  Image(int width, int height, int channels, std::vector<std::uint8_t> pixels)
      : width_(width), height_(height), channels_(channels), pixels_(std::move(pixels)) {}

  int width_ = 0;
  int height_ = 0;
  int channels_ = 0;
  std::vector<std::uint8_t> pixels_;
};

/// Loads a PNG or JPEG (anything stb_image decodes). `channels` = 0 keeps the
/// file's channel count (grey+alpha becomes RGBA); 1/3/4 converts.
/// Errors: NotFound (no such file), IoError (unreadable, a directory),
/// Corrupt (not an image, truncated); all name the file.
Result<Image> load_image(const std::filesystem::path& path, int channels = 3);

/// Decodes an in-memory PNG/JPEG; `name` is used in error messages.
Result<Image> decode_image(std::span<const std::byte> bytes, std::string_view name = "<memory>",
                           int channels = 3);

/// Encodes as PNG in memory.
Result<std::vector<std::byte>> encode_png(const Image& image);

/// Writes a PNG atomically (temporary file in the same folder, then rename).
/// IoError naming the file if it cannot be written.
Result<void> save_png(const Image& image, const std::filesystem::path& path);

}  // namespace aegisrt::vision
