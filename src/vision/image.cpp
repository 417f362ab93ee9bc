// Image storage, conversion and PNG/JPEG I/O through stb_image and
// stb_image_write (the one translation unit that holds their implementations).
#include "aegisrt/vision/image.h"

#include <atomic>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <system_error>

#include <unistd.h>

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO  // we read files ourselves to tell NotFound/IoError from Corrupt
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb_image.h>
#include <stb_image_write.h>

namespace aegisrt::vision {
namespace {

bool valid_channels(int c) { return c == 1 || c == 3 || c == 4; }

Result<std::size_t> checked_size(int width, int height, int channels) {
  if (width <= 0 || height <= 0) {
    return Error(ErrorCode::InvalidArgument,
                 "image size " + std::to_string(width) + "x" + std::to_string(height) +
                     " is not positive");
  }
  if (!valid_channels(channels)) {
    return Error(ErrorCode::InvalidArgument,
                 "image channel count " + std::to_string(channels) + " is not 1, 3 or 4");
  }
  const auto w = static_cast<std::size_t>(width);
  const auto h = static_cast<std::size_t>(height);
  const auto c = static_cast<std::size_t>(channels);
  constexpr std::size_t kMax = std::size_t{1} << 34;  // 16 GiB: far beyond any real image
  if (w > kMax / h || w * h > kMax / c) {
    return Error(ErrorCode::InvalidArgument, "image size " + std::to_string(width) + "x" +
                                                 std::to_string(height) + " is too large");
  }
  return w * h * c;
}

}  // namespace

Result<Image> Image::create(int width, int height, int channels) {
  AEGIS_ASSIGN_OR_RETURN(const std::size_t bytes, checked_size(width, height, channels));
  return Image(width, height, channels, std::vector<std::uint8_t>(bytes, 0));
}

Result<Image> Image::from_pixels(int width, int height, int channels,
                                 std::span<const std::uint8_t> pixels) {
  AEGIS_ASSIGN_OR_RETURN(const std::size_t bytes, checked_size(width, height, channels));
  if (pixels.size() != bytes) {
    return Error(ErrorCode::InvalidArgument, "image pixels hold " + std::to_string(pixels.size()) +
                                                 " bytes, expected " + std::to_string(bytes));
  }
  return Image(width, height, channels, std::vector<std::uint8_t>(pixels.begin(), pixels.end()));
}

std::uint8_t* Image::at(int x, int y) noexcept {
  assert(x >= 0 && x < width_ && y >= 0 && y < height_);
  return pixels_.data() + static_cast<std::size_t>(y) * row_bytes() +
         static_cast<std::size_t>(x) * static_cast<std::size_t>(channels_);
}

const std::uint8_t* Image::at(int x, int y) const noexcept {
  return const_cast<Image*>(this)->at(x, y);
}

TensorView Image::view() const {
  return TensorView(pixels_.data(), Shape{height_, width_, channels_}, DType::UInt8);
}

Result<Image> Image::convert(int channels) const {
  if (!valid_channels(channels)) {
    return Error(ErrorCode::InvalidArgument,
                 "cannot convert to " + std::to_string(channels) + " channels (1, 3 or 4)");
  }
  if (empty()) return Error(ErrorCode::InvalidArgument, "cannot convert an empty image");
  if (channels == channels_) return *this;
  AEGIS_ASSIGN_OR_RETURN(Image out, create(width_, height_, channels));
  const std::size_t n = static_cast<std::size_t>(width_) * static_cast<std::size_t>(height_);
  const std::uint8_t* s = pixels_.data();
  std::uint8_t* d = out.data();
  const auto sc = static_cast<std::size_t>(channels_);
  const auto dc = static_cast<std::size_t>(channels);
  for (std::size_t i = 0; i < n; ++i, s += sc, d += dc) {
    std::uint8_t r = s[0], g = s[0], b = s[0];
    if (sc >= 3) {
      g = s[1];
      b = s[2];
    }
    if (dc == 1) {
      // BT.601 luma in fixed point (weights sum to 1 << 16).
      d[0] = static_cast<std::uint8_t>((19595u * r + 38470u * g + 7471u * b + 32768u) >> 16);
    } else {
      d[0] = r;
      d[1] = g;
      d[2] = b;
      if (dc == 4) d[3] = sc == 4 ? s[3] : 255;
    }
  }
  return out;
}

Result<Image> decode_image(std::span<const std::byte> bytes, std::string_view name, int channels) {
  if (channels != 0 && !valid_channels(channels)) {
    return Error(ErrorCode::InvalidArgument,
                 "requested channel count " + std::to_string(channels) + " is not 0, 1, 3 or 4",
                 std::string(name));
  }
  if (bytes.empty()) {
    return Error(ErrorCode::Corrupt, "image file '" + std::string(name) + "' is empty");
  }
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return Error(ErrorCode::InvalidArgument, "image file '" + std::string(name) + "' is too large");
  }
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, file_channels = 0;
  if (stbi_info_from_memory(data, len, &w, &h, &file_channels) == 0) {
    return Error(ErrorCode::Corrupt, "'" + std::string(name) + "' is not a PNG/JPEG/BMP image (" +
                                         stbi_failure_reason() + ")");
  }
  int want = channels;
  if (want == 0) want = file_channels == 2 ? 4 : file_channels;
  stbi_uc* pixels = stbi_load_from_memory(data, len, &w, &h, &file_channels, want);
  if (pixels == nullptr) {
    return Error(ErrorCode::Corrupt, "cannot decode image '" + std::string(name) + "': " +
                                         stbi_failure_reason());
  }
  const std::size_t n = static_cast<std::size_t>(w) * static_cast<std::size_t>(h) *
                        static_cast<std::size_t>(want);
  auto image = Image::from_pixels(w, h, want, std::span<const std::uint8_t>(pixels, n));
  stbi_image_free(pixels);
  if (!image.ok()) return image.error().with_context("decoding '" + std::string(name) + "'");
  return image;
}

Result<Image> load_image(const std::filesystem::path& path, int channels) {
  const std::string name = path.string();
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) {
    return Error(ErrorCode::NotFound, "image file '" + name + "' does not exist");
  }
  if (std::filesystem::is_directory(status)) {
    return Error(ErrorCode::IoError, "'" + name + "' is a directory, not an image file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorCode::IoError,
                 "cannot open image file '" + name + "': " + std::strerror(errno));
  }
  std::vector<std::byte> bytes;
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size < 0) return Error(ErrorCode::IoError, "cannot read image file '" + name + "'");
  in.seekg(0, std::ios::beg);
  bytes.resize(static_cast<std::size_t>(size));
  if (!bytes.empty() && !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    return Error(ErrorCode::IoError, "cannot read image file '" + name + "'");
  }
  return decode_image(bytes, name, channels);
}

Result<std::vector<std::byte>> encode_png(const Image& image) {
  if (image.empty()) return Error(ErrorCode::InvalidArgument, "cannot encode an empty image");
  std::vector<std::byte> out;
  auto sink = [](void* ctx, void* data, int size) {
    auto* v = static_cast<std::vector<std::byte>*>(ctx);
    const auto* p = static_cast<const std::byte*>(data);
    v->insert(v->end(), p, p + size);
  };
  const int ok = stbi_write_png_to_func(sink, &out, image.width(), image.height(), image.channels(),
                                        image.data(), static_cast<int>(image.row_bytes()));
  if (ok == 0) return Error(ErrorCode::Internal, "PNG encoding failed");
  return out;
}

Result<void> save_png(const Image& image, const std::filesystem::path& path) {
  AEGIS_ASSIGN_OR_RETURN(const std::vector<std::byte> png, encode_png(image));
  const std::string name = path.string();
  std::filesystem::path tmp = path;
  static std::atomic<unsigned> counter{0};
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return Error(ErrorCode::IoError,
                   "cannot write image file '" + name + "': " + std::strerror(errno));
    }
    out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      return Error(ErrorCode::IoError, "cannot write image file '" + name + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    return Error(ErrorCode::IoError, "cannot write image file '" + name + "': " + ec.message());
  }
  return {};
}

}  // namespace aegisrt::vision
