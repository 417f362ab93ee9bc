// Image storage, conversion and PNG/JPEG I/O: JPEG through libjpeg-turbo's
// TurboJPEG API (its own error handling: a bad file returns -1 with a message,
// never exit()s), PNG through libpng (errors longjmp back into the two small
// setjmp frames below, which hold no C++ objects). EXIF orientation is parsed
// here from the JPEG's APP1 segment by a bounded reader.
#include "aegisrt/vision/image.h"

#include <algorithm>
#include <cassert>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>
#include <system_error>

#include <png.h>
#include <turbojpeg.h>

#include "aegisrt/core/file_util.h"

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
  out.set_exif_orientation(exif_orientation_, orientation_applied_);
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


namespace {

std::string in_quotes(std::string_view name) { return "'" + std::string(name) + "'"; }

Error corrupt(std::string_view name, std::string_view format, const std::string& what) {
  return Error(ErrorCode::Corrupt,
               "cannot decode " + std::string(format) + " image " + in_quotes(name) + ": " + what);
}

enum class Format { Png, Jpeg, Bmp, Gif, Webp, Tiff, Unknown };

Format sniff(std::span<const std::byte> b) {
  const auto at = [&b](std::size_t i) { return i < b.size() ? std::to_integer<unsigned>(b[i]) : 0x100u; };
  static constexpr unsigned kPng[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  bool png = b.size() >= 8;
  for (std::size_t i = 0; png && i < 8; ++i) png = at(i) == kPng[i];
  if (png) return Format::Png;
  if (at(0) == 0xFF && at(1) == 0xD8 && at(2) == 0xFF) return Format::Jpeg;
  if (at(0) == 'B' && at(1) == 'M') return Format::Bmp;
  if (at(0) == 'G' && at(1) == 'I' && at(2) == 'F' && at(3) == '8') return Format::Gif;
  if (at(0) == 'R' && at(1) == 'I' && at(2) == 'F' && at(3) == 'F' && at(8) == 'W' && at(9) == 'E' &&
      at(10) == 'B' && at(11) == 'P') {
    return Format::Webp;
  }
  if ((at(0) == 'I' && at(1) == 'I' && at(2) == 42 && at(3) == 0) ||
      (at(0) == 'M' && at(1) == 'M' && at(2) == 0 && at(3) == 42)) {
    return Format::Tiff;
  }
  return Format::Unknown;
}

/// Refuses empty and oversized images from their header, before any pixel
/// buffer exists.
Result<void> check_dimensions(std::uint64_t w, std::uint64_t h, const DecodeOptions& o,
                              std::string_view name, std::string_view format) {
  if (w == 0 || h == 0) {
    return corrupt(name, format, "its header gives a size of " + std::to_string(w) + "x" + std::to_string(h));
  }
  constexpr auto kIntMax = static_cast<std::uint64_t>(std::numeric_limits<int>::max());
  // w, h <= 2^32 here (PNG and JPEG store 32/16-bit sizes), so w * h cannot overflow.
  if (w > kIntMax || h > kIntMax || w * h > o.max_pixels) {
    return Error(ErrorCode::Unsupported,
                 std::string(format) + " image " + in_quotes(name) + " is " + std::to_string(w) + "x" +
                     std::to_string(h) + " = " + std::to_string(w * h) + " pixels, more than the limit of " +
                     std::to_string(o.max_pixels) + " pixels; refused before decoding");
  }
  return {};
}

/// Image::create, with an allocation failure turned into an error.
Result<Image> new_image(int w, int h, int channels, std::string_view name) {
  try {
    return Image::create(w, h, channels);
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::IoError, "cannot allocate " + std::to_string(w) + "x" + std::to_string(h) + "x" +
                                         std::to_string(channels) + " bytes to decode image " + in_quotes(name));
  }
}

/// Grey+alpha pixels (2 bytes each) to 1, 3 or 4 channels (alpha dropped or kept).
Result<Image> from_grey_alpha(const Image& ga2, int w, int h, int dst, std::string_view name) {
  AEGIS_ASSIGN_OR_RETURN(Image out, new_image(w, h, dst, name));
  const std::size_t n = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  const std::uint8_t* s = ga2.data();
  std::uint8_t* d = out.data();
  const auto dc = static_cast<std::size_t>(dst);
  for (std::size_t i = 0; i < n; ++i, s += 2, d += dc) {
    d[0] = s[0];
    if (dc >= 3) d[1] = d[2] = s[0];
    if (dc == 4) d[3] = s[1];
  }
  return out;
}

// ---------------------------------------------------------------- JPEG (TurboJPEG)

struct TjHandle {
  tjhandle h = nullptr;
  TjHandle() : h(tjInitDecompress()) {}
  ~TjHandle() {
    if (h != nullptr) tjDestroy(h);
  }
  TjHandle(const TjHandle&) = delete;
  TjHandle& operator=(const TjHandle&) = delete;
};

Result<Image> decode_jpeg(std::span<const std::byte> bytes, std::string_view name, const DecodeOptions& o) {
  constexpr std::string_view kFormat = "JPEG";
  TjHandle tj;
  if (tj.h == nullptr) {
    return Error(ErrorCode::Internal, std::string("cannot create a TurboJPEG decompressor: ") +
                                          tjGetErrorStr2(nullptr));
  }
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto size = static_cast<unsigned long>(bytes.size());
  int w = 0, h = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(tj.h, data, size, &w, &h, &subsamp, &colorspace) != 0) {
    return corrupt(name, kFormat, tjGetErrorStr2(tj.h));
  }
  AEGIS_TRY(check_dimensions(static_cast<std::uint64_t>(std::max(w, 0)),
                                         static_cast<std::uint64_t>(std::max(h, 0)), o, name, kFormat));
  const bool grey = colorspace == TJCS_GRAY;
  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  const int want = o.channels == 0 ? (grey ? 1 : 3) : o.channels;
  // libjpeg cannot convert CMYK/YCCK to RGB: take CMYK and convert below.
  const int decoded_channels = cmyk ? 4 : want;
  int pixel_format = TJPF_RGB;
  if (cmyk) {
    pixel_format = TJPF_CMYK;
  } else if (want == 1) {
    pixel_format = TJPF_GRAY;
  } else if (want == 4) {
    pixel_format = TJPF_RGBA;  // alpha filled with 0xFF
  }
  AEGIS_ASSIGN_OR_RETURN(Image img, new_image(w, h, decoded_channels, name));
  // STOPONWARNING: a truncated or damaged stream is an error, not a grey
  // half-image; LIMITSCANS: a progressive JPEG with > 500 scans is refused
  // (a tiny file could otherwise take minutes).
  const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
  if (tjDecompress2(tj.h, data, size, img.data(), w, static_cast<int>(img.row_bytes()), h, pixel_format,
                    flags) != 0) {
    return corrupt(name, kFormat, tjGetErrorStr2(tj.h));
  }
  if (!cmyk) return img;
  // Adobe-style (inverted) CMYK, as Photoshop writes it and stb_image and
  // OpenCV read it: channel = ink * K / 255.
  AEGIS_ASSIGN_OR_RETURN(Image rgb, new_image(w, h, 3, name));
  const std::size_t n = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  const std::uint8_t* s = img.data();
  std::uint8_t* d = rgb.data();
  for (std::size_t i = 0; i < n; ++i, s += 4, d += 3) {
    const unsigned k = s[3];
    for (std::size_t c = 0; c < 3; ++c) d[c] = static_cast<std::uint8_t>((s[c] * k + 127u) / 255u);
  }
  if (want == 3) return rgb;
  return rgb.convert(want);
}

// ---------------------------------------------------------------- PNG (libpng)

struct PngErrorState {
  char message[256] = {};
};

struct PngMemory {
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  std::size_t pos = 0;
};

void aegis_png_error(png_structp png, png_const_charp msg) {
  auto* e = static_cast<PngErrorState*>(png_get_error_ptr(png));
  std::snprintf(e->message, sizeof e->message, "%s", msg != nullptr ? msg : "libpng error");
  png_longjmp(png, 1);
}

void aegis_png_warning(png_structp, png_const_charp) {}  // ancillary problems: ignored

void aegis_png_read(png_structp png, png_bytep out, std::size_t n) {
  auto* m = static_cast<PngMemory*>(png_get_io_ptr(png));
  if (n > m->size - m->pos) png_error(png, "file is truncated");
  std::memcpy(out, m->data + m->pos, n);
  m->pos += n;
}

struct PngReadStruct {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngReadStruct() {
    if (png != nullptr) png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
  }
};

struct PngHeader {
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  int channels = 0;  // after expansion: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA
  std::size_t rowbytes = 0;
};

// The two setjmp frames: only trivially destructible locals, nothing read
// after a longjmp but the error state (in memory the caller owns).
bool png_read_header(png_structp png, png_infop info, PngHeader* hdr) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  hdr->width = png_get_image_width(png, info);
  hdr->height = png_get_image_height(png, info);
  return true;
}

bool png_setup_transforms(png_structp png, png_infop info, PngHeader* hdr) {
  if (setjmp(png_jmpbuf(png))) return false;
  // Palette -> RGB, grey < 8 bits -> 8 bits, tRNS -> alpha; 16 -> 8 bits by
  // the high byte (as OpenCV and stb_image do). No gamma or colour changes.
  png_set_expand(png);
  png_set_strip_16(png);
  (void)png_set_interlace_handling(png);
  png_read_update_info(png, info);
  hdr->channels = png_get_channels(png, info);
  hdr->rowbytes = png_get_rowbytes(png, info);
  return true;
}

bool png_read_pixels(png_structp png, png_infop info, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, info);
  return true;
}

Result<Image> decode_png(std::span<const std::byte> bytes, std::string_view name, const DecodeOptions& o) {
  constexpr std::string_view kFormat = "PNG";
  PngErrorState err;
  PngMemory mem{reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), 0};
  PngReadStruct r;
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, aegis_png_error, aegis_png_warning);
  if (r.png == nullptr) return Error(ErrorCode::Internal, "cannot create a libpng read struct");
  r.info = png_create_info_struct(r.png);
  if (r.info == nullptr) return Error(ErrorCode::Internal, "cannot create a libpng info struct");
  png_set_read_fn(r.png, &mem, aegis_png_read);
  // Our own pixel limit decides (below); libpng's per-side default would
  // refuse > 1,000,000 with a less helpful message. Ancillary chunks are
  // capped (text, ICC profiles) so a small file cannot inflate to gigabytes.
  png_set_user_limits(r.png, 0x7fffffffu, 0x7fffffffu);
  png_set_chunk_malloc_max(r.png, 8u << 20);
  png_set_chunk_cache_max(r.png, 1000);
  PngHeader hdr;
  if (!png_read_header(r.png, r.info, &hdr)) return corrupt(name, kFormat, err.message);
  AEGIS_TRY(check_dimensions(hdr.width, hdr.height, o, name, kFormat));
  if (!png_setup_transforms(r.png, r.info, &hdr)) return corrupt(name, kFormat, err.message);
  const int w = static_cast<int>(hdr.width);
  const int h = static_cast<int>(hdr.height);
  if (hdr.channels < 1 || hdr.channels > 4 ||
      hdr.rowbytes != static_cast<std::size_t>(w) * static_cast<std::size_t>(hdr.channels)) {
    return Error(ErrorCode::Internal, "libpng gave an unexpected layout for " + in_quotes(name) + " (" +
                                          std::to_string(hdr.channels) + " channels, " +
                                          std::to_string(hdr.rowbytes) + " bytes per row)");
  }
  // Decoded as the file's channels (grey+alpha held as a 2-channel buffer
  // in a 1-channel image twice as wide), converted after.
  const bool grey_alpha = hdr.channels == 2;
  AEGIS_ASSIGN_OR_RETURN(Image img, new_image(grey_alpha ? 2 * w : w, h, grey_alpha ? 1 : hdr.channels, name));
  std::vector<png_bytep> rows;
  try {
    rows.resize(static_cast<std::size_t>(h));
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::IoError, "cannot allocate row pointers to decode image " + in_quotes(name));
  }
  for (std::size_t y = 0; y < rows.size(); ++y) rows[y] = img.data() + y * hdr.rowbytes;
  if (!png_read_pixels(r.png, r.info, rows.data())) return corrupt(name, kFormat, err.message);
  int want = o.channels;
  if (want == 0) want = grey_alpha ? 4 : hdr.channels;
  if (grey_alpha) return from_grey_alpha(img, w, h, want, name);
  if (want == hdr.channels) return img;
  return img.convert(want);
}

// ---------------------------------------------------------------- EXIF

struct Reader {
  std::span<const std::byte> b;
  bool little = false;
  [[nodiscard]] bool has(std::size_t off, std::size_t n) const noexcept {
    return off <= b.size() && n <= b.size() - off;
  }
  [[nodiscard]] unsigned u8(std::size_t off) const noexcept { return std::to_integer<unsigned>(b[off]); }
  [[nodiscard]] unsigned u16(std::size_t off) const noexcept {
    return little ? (u8(off) | (u8(off + 1) << 8)) : ((u8(off) << 8) | u8(off + 1));
  }
  [[nodiscard]] std::uint32_t u32(std::size_t off) const noexcept {
    const std::uint32_t a = u16(off), c = u16(off + 2);
    return little ? (a | (c << 16)) : ((a << 16) | c);
  }
};

// -1: not a TIFF block (keep looking); 0: no valid orientation; 1..8.
int tiff_orientation(std::span<const std::byte> tiff) noexcept {
  Reader r{tiff};
  if (!r.has(0, 8)) return -1;
  if (r.u8(0) == 'I' && r.u8(1) == 'I') {
    r.little = true;
  } else if (!(r.u8(0) == 'M' && r.u8(1) == 'M')) {
    return -1;
  }
  if (r.u16(2) != 42) return -1;
  const std::uint32_t ifd0 = r.u32(4);
  if (!r.has(ifd0, 2)) return 0;
  const unsigned count = r.u16(ifd0);
  for (unsigned i = 0; i < count; ++i) {
    const std::size_t entry = std::size_t{ifd0} + 2 + std::size_t{i} * 12;
    if (!r.has(entry, 12)) return 0;
    if (r.u16(entry) != 0x0112) continue;
    // type SHORT (3), count >= 1: the value sits in the entry's first 2 bytes.
    if (r.u16(entry + 2) != 3 || r.u32(entry + 4) < 1) return 0;
    const unsigned v = r.u16(entry + 8);
    return v >= 1 && v <= 8 ? static_cast<int>(v) : 0;
  }
  return 0;
}

}  // namespace

int jpeg_exif_orientation(std::span<const std::byte> jpeg) noexcept {
  Reader r{jpeg};
  if (!r.has(0, 2) || r.u8(0) != 0xFF || r.u8(1) != 0xD8) return 0;
  std::size_t pos = 2;
  while (r.has(pos, 2)) {
    if (r.u8(pos) != 0xFF) return 0;  // markers must follow each other before the scan
    const unsigned marker = r.u8(pos + 1);
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {  // no length field
      pos += 2;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return 0;  // scan or end: no Exif before it
    if (!r.has(pos + 2, 2)) return 0;
    const std::size_t len = r.u16(pos + 2);  // includes its own 2 bytes
    if (len < 2 || !r.has(pos + 2, len)) return 0;
    if (marker == 0xE1 && len >= 2 + 6) {
      const auto seg = jpeg.subspan(pos + 4, len - 2);
      static constexpr unsigned char kExif[6] = {'E', 'x', 'i', 'f', 0, 0};
      bool exif = true;
      for (std::size_t i = 0; exif && i < 6; ++i) exif = std::to_integer<unsigned>(seg[i]) == kExif[i];
      if (exif) {
        const int v = tiff_orientation(seg.subspan(6));
        if (v >= 0) return v;  // the first Exif block decides
      }
    }
    pos += 2 + len;
  }
  return 0;
}

Result<Image> apply_exif_orientation(const Image& image, int tag) {
  if (tag < 0 || tag > 8) {
    return Error(ErrorCode::InvalidArgument, "EXIF orientation " + std::to_string(tag) + " is not 0..8");
  }
  if (tag <= 1) {
    Image copy = image;
    copy.set_exif_orientation(tag, false);
    return copy;
  }
  if (image.empty()) return Error(ErrorCode::InvalidArgument, "cannot orient an empty image");
  const int w = image.width(), h = image.height(), c = image.channels();
  const bool swap = tag >= 5;
  AEGIS_ASSIGN_OR_RETURN(Image out, Image::create(swap ? h : w, swap ? w : h, c));
  const auto pc = static_cast<std::size_t>(c);
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* src = image.at(0, y);
    for (int x = 0; x < w; ++x, src += pc) {
      int dx = x, dy = y;
      switch (tag) {
        case 2: dx = w - 1 - x; break;                  // mirror left-right
        case 3: dx = w - 1 - x; dy = h - 1 - y; break;  // rotate 180
        case 4: dy = h - 1 - y; break;                  // mirror top-bottom
        case 5: dx = y; dy = x; break;                  // transpose
        case 6: dx = h - 1 - y; dy = x; break;          // rotate 90 clockwise
        case 7: dx = h - 1 - y; dy = w - 1 - x; break;  // transverse
        default: dx = y; dy = w - 1 - x; break;         // 8: rotate 90 counter-clockwise
      }
      std::memcpy(out.at(dx, dy), src, pc);
    }
  }
  out.set_exif_orientation(tag, true);
  return out;
}

Result<Image> decode_image(std::span<const std::byte> bytes, std::string_view name, int channels) {
  DecodeOptions o;
  o.channels = channels;
  return decode_image(bytes, name, o);
}

Result<Image> decode_image(std::span<const std::byte> bytes, std::string_view name, const DecodeOptions& o) {
  if (o.channels != 0 && !valid_channels(o.channels)) {
    return Error(ErrorCode::InvalidArgument,
                 "requested channel count " + std::to_string(o.channels) + " is not 0, 1, 3 or 4",
                 std::string(name));
  }
  if (bytes.empty()) return Error(ErrorCode::Corrupt, "image file " + in_quotes(name) + " is empty");
  if (bytes.size() > std::numeric_limits<unsigned long>::max() / 2) {
    return Error(ErrorCode::InvalidArgument, "image file " + in_quotes(name) + " is too large");
  }
  switch (sniff(bytes)) {
    case Format::Png:
      return decode_png(bytes, name, o);
    case Format::Jpeg: {
      AEGIS_ASSIGN_OR_RETURN(Image img, decode_jpeg(bytes, name, o));
      const int tag = jpeg_exif_orientation(bytes);
      if (o.apply_exif_orientation && tag > 1) return apply_exif_orientation(img, tag);
      img.set_exif_orientation(tag, false);
      return img;
    }
    case Format::Bmp:
      return Error(ErrorCode::Unsupported, "image " + in_quotes(name) + " is a BMP file; only PNG and JPEG are supported");
    case Format::Gif:
      return Error(ErrorCode::Unsupported, "image " + in_quotes(name) + " is a GIF file; only PNG and JPEG are supported");
    case Format::Webp:
      return Error(ErrorCode::Unsupported, "image " + in_quotes(name) + " is a WebP file; only PNG and JPEG are supported");
    case Format::Tiff:
      return Error(ErrorCode::Unsupported, "image " + in_quotes(name) + " is a TIFF file; only PNG and JPEG are supported");
    case Format::Unknown:
      break;
  }
  return Error(ErrorCode::Corrupt, "image file " + in_quotes(name) + " is not a PNG or JPEG image");
}

Result<Image> load_image(const std::filesystem::path& path, int channels) {
  DecodeOptions o;
  o.channels = channels;
  return load_image(path, o);
}

Result<Image> load_image(const std::filesystem::path& path, const DecodeOptions& options) {
  const std::string name = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Error(ErrorCode::IoError, in_quotes(name) + " is a directory, not an image file");
  }
  AEGIS_ASSIGN_OR_RETURN(const std::string bytes, read_file(path, "image file", kMaxImageFileBytes));
  return decode_image(std::as_bytes(std::span<const char>(bytes)), name, options);
}

// ---------------------------------------------------------------- PNG writing

namespace {

struct PngWriteStruct {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngWriteStruct() {
    if (png != nullptr) png_destroy_write_struct(&png, info != nullptr ? &info : nullptr);
  }
};

void aegis_png_write(png_structp png, png_bytep data, std::size_t n) {
  auto* out = static_cast<std::vector<std::byte>*>(png_get_io_ptr(png));
  // No C++ exception may cross libpng: a failed append becomes a png_error.
  bool ok = true;
  try {
    const auto* p = reinterpret_cast<const std::byte*>(data);
    out->insert(out->end(), p, p + n);
  } catch (...) {
    ok = false;
  }
  if (!ok) png_error(png, "out of memory while encoding");
}

void aegis_png_flush(png_structp) {}

bool png_write_all(png_structp png, png_infop info, int w, int h, int color_type, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_IHDR(png, info, static_cast<png_uint_32>(w), static_cast<png_uint_32>(h), 8, color_type,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, info);
  return true;
}

}  // namespace

Result<std::vector<std::byte>> encode_png(const Image& image) {
  if (image.empty()) return Error(ErrorCode::InvalidArgument, "cannot encode an empty image");
  int color_type = PNG_COLOR_TYPE_RGB;
  if (image.channels() == 1) color_type = PNG_COLOR_TYPE_GRAY;
  if (image.channels() == 4) color_type = PNG_COLOR_TYPE_RGB_ALPHA;
  PngErrorState err;
  PngWriteStruct s;
  s.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, aegis_png_error, aegis_png_warning);
  if (s.png == nullptr) return Error(ErrorCode::Internal, "cannot create a libpng write struct");
  s.info = png_create_info_struct(s.png);
  if (s.info == nullptr) return Error(ErrorCode::Internal, "cannot create a libpng info struct");
  std::vector<std::byte> out;
  std::vector<png_bytep> rows(static_cast<std::size_t>(image.height()));
  for (int y = 0; y < image.height(); ++y) {
    rows[static_cast<std::size_t>(y)] = const_cast<png_bytep>(image.at(0, y));  // libpng only reads them
  }
  png_set_write_fn(s.png, &out, aegis_png_write, aegis_png_flush);
  if (!png_write_all(s.png, s.info, image.width(), image.height(), color_type, rows.data())) {
    return Error(ErrorCode::Internal, std::string("PNG encoding failed: ") + err.message);
  }
  return out;
}

Result<void> save_png(const Image& image, const std::filesystem::path& path) {
  AEGIS_ASSIGN_OR_RETURN(const std::vector<std::byte> png, encode_png(image));
  return write_file_atomic(path, png);
}

}  // namespace aegisrt::vision
