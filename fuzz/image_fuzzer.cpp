// libFuzzer entry point for image decoding (libjpeg-turbo, libpng and our
// EXIF reader). Any bytes must give either a well-formed image or a typed
// Corrupt/Unsupported error naming the input; a crash, sanitizer report,
// exception or broken invariant is a finding (abort()).
// Built with clang -fsanitize=fuzzer (fuzz/CMakeLists.txt) and, as a plain
// program with fuzz_driver_main.cpp, by g++ for the CTest smoke run
// (tests/vision: image_fuzz_smoke). Seeds: fuzz/image_seeds/.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "aegisrt/vision/image.h"

namespace {

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "image_fuzzer: invariant broken: %s\n", what);
  std::abort();
}

void check(bool cond, const char* what) {
  if (!cond) finding(what);
}

// Small enough that libFuzzer's RSS limit is never the reason an input stops.
constexpr std::uint64_t kFuzzMaxPixels = std::uint64_t{1} << 22;

void decode_and_check(std::span<const std::byte> bytes, int channels, bool orient) {
  using namespace aegisrt;
  using namespace aegisrt::vision;
  DecodeOptions o;
  o.channels = channels;
  o.apply_exif_orientation = orient;
  o.max_pixels = kFuzzMaxPixels;
  auto r = decode_image(bytes, "fuzz.img", o);
  if (!r.ok()) {
    const ErrorCode c = r.error().code();
    check(c == ErrorCode::Corrupt || c == ErrorCode::Unsupported, "error of an unexpected code");
    check(r.error().to_string().find("fuzz.img") != std::string::npos, "error does not name the input");
    return;
  }
  const Image& img = *r;
  check(img.width() > 0 && img.height() > 0, "empty image accepted");
  check(channels == 0 ? (img.channels() == 1 || img.channels() == 3 || img.channels() == 4)
                      : img.channels() == channels,
        "wrong channel count");
  check(static_cast<std::uint64_t>(img.width()) * static_cast<std::uint64_t>(img.height()) <= kFuzzMaxPixels,
        "image over the pixel limit decoded");
  check(img.byte_size() == static_cast<std::size_t>(img.width()) * static_cast<std::size_t>(img.height()) *
                               static_cast<std::size_t>(img.channels()),
        "pixel buffer size disagrees with the shape");
  check(img.exif_orientation() >= 0 && img.exif_orientation() <= 8, "orientation outside 0..8");
  check(img.orientation_applied() == (orient && img.exif_orientation() > 1), "orientation_applied wrong");
  // Touch every byte so a short buffer shows under ASan.
  unsigned sum = 0;
  for (std::uint8_t v : img.pixels()) sum += v;
  (void)sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  const int tag = aegisrt::vision::jpeg_exif_orientation(bytes);
  check(tag >= 0 && tag <= 8, "jpeg_exif_orientation outside 0..8");
  decode_and_check(bytes, 0, true);
  decode_and_check(bytes, 3, false);
  return 0;
}
