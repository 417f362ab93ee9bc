// Image: an owning 8-bit HWC image (1, 3 or 4 channels, RGB(A) order), with
// PNG/JPEG loading and PNG saving. JPEG is decoded by libjpeg-turbo (TurboJPEG
// API), PNG is read and written by libpng, both behind this interface; no
// third-party type appears here. JPEG EXIF orientation is applied by default,
// as OpenCV's imread does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
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
  /// RGB->grey uses BT.601 luma, alpha is dropped or set to 255. Keeps the
  /// EXIF orientation record.
  [[nodiscard]] Result<Image> convert(int channels) const;

  /// The JPEG's EXIF orientation tag (IFD0 0x0112) found when this image was
  /// decoded: 1..8, or 0 when there was none (PNG, no Exif, invalid value).
  [[nodiscard]] int exif_orientation() const noexcept { return exif_orientation_; }
  /// Whether decoding rotated/flipped the pixels by that tag (false when the
  /// tag was 0 or 1, or DecodeOptions::apply_exif_orientation was off).
  [[nodiscard]] bool orientation_applied() const noexcept { return orientation_applied_; }
  void set_exif_orientation(int tag, bool applied) noexcept {
    exif_orientation_ = tag;
    orientation_applied_ = applied;
  }

 private:
  Image(int width, int height, int channels, std::vector<std::uint8_t> pixels)
      : width_(width), height_(height), channels_(channels), pixels_(std::move(pixels)) {}

  int width_ = 0;
  int height_ = 0;
  int channels_ = 0;
  std::vector<std::uint8_t> pixels_;
  int exif_orientation_ = 0;
  bool orientation_applied_ = false;
};

/// Largest image decode_image()/load_image() accept by default: 2^28 pixels
/// (16384 x 16384), refused from the header before any pixel buffer exists.
inline constexpr std::uint64_t kMaxImagePixels = std::uint64_t{1} << 28;
/// Largest image file load_image() reads: 256 MiB.
inline constexpr std::uint64_t kMaxImageFileBytes = std::uint64_t{256} << 20;

/// How to decode.
struct DecodeOptions {
  /// 0 keeps the file's channel count (grey+alpha becomes RGBA); 1/3/4 converts.
  int channels = 3;
  /// Rotate/flip a JPEG by its EXIF orientation tag (as OpenCV's imread
  /// does). Off: pixels stay in stored order; the tag is still recorded.
  bool apply_exif_orientation = true;
  /// Images with more pixels than this are refused (Unsupported) from the
  /// header, before the pixel buffer is allocated.
  std::uint64_t max_pixels = kMaxImagePixels;
};

/// Loads a PNG or JPEG (baseline/progressive, 8-bit; grey, YCbCr, RGB, CMYK
/// or YCCK) with DecodeOptions{channels} (EXIF orientation applied).
/// Errors, all naming the file: NotFound (no such file), IoError (unreadable,
/// a directory), InvalidArgument (a FIFO, socket or device; a file over
/// kMaxImageFileBytes), Corrupt (not a PNG/JPEG, truncated, bad data or CRC,
/// any libjpeg warning), Unsupported (a BMP/GIF/WebP/TIFF file, more than
/// max_pixels pixels). Never exits, throws or crashes on bad input.
Result<Image> load_image(const std::filesystem::path& path, int channels = 3);
Result<Image> load_image(const std::filesystem::path& path, const DecodeOptions& options);

/// Decodes an in-memory PNG/JPEG; `name` is used in error messages.
Result<Image> decode_image(std::span<const std::byte> bytes, std::string_view name = "<memory>",
                           int channels = 3);
Result<Image> decode_image(std::span<const std::byte> bytes, std::string_view name,
                           const DecodeOptions& options);

/// The EXIF orientation tag of a JPEG: the first APP1 "Exif" segment before
/// the first scan, its TIFF IFD0 entry 0x0112 (SHORT). 1..8, or 0 when the
/// bytes are not a JPEG, have no such tag, or it is malformed or out of range.
/// Bounded: reads only inside the given bytes and each segment's length.
int jpeg_exif_orientation(std::span<const std::byte> jpeg) noexcept;

/// `image` turned upright by EXIF orientation `tag` (1..8, as in the Exif
/// spec: 2 mirror left-right, 3 rotate 180, 4 mirror top-bottom, 5 transpose,
/// 6 rotate 90 clockwise, 7 transverse, 8 rotate 90 counter-clockwise; 5..8
/// swap width and height). Tag 0 or 1 returns a copy. InvalidArgument for
/// other tags. The result records (tag, applied = true).
Result<Image> apply_exif_orientation(const Image& image, int tag);

/// Encodes as PNG in memory (libpng; 8-bit grey, RGB or RGBA).
Result<std::vector<std::byte>> encode_png(const Image& image);

/// Writes a PNG atomically (temporary file in the same folder, then rename).
/// IoError naming the file if it cannot be written.
Result<void> save_png(const Image& image, const std::filesystem::path& path);

}  // namespace aegisrt::vision
