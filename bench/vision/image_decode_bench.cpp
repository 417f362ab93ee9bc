// Image decode time: AegisRT's vision::decode_image (libjpeg-turbo for JPEG,
// libpng for PNG) vs stb_image (the decoder the library used before; Debian
// libstb-dev, compiled into this benchmark only), same bytes, same output
// (RGB, 3 channels), side by side in one run:
//   - a 1920x1080 JPEG (quality 90, 4:2:0, a smooth pattern with noise),
//   - a 640x480 PNG like the demo images (noisy grey background),
//   - a 1920x1080 PNG,
//   - optionally a file: AEGISRT_BENCH_IMAGE=path/to/image.{jpg,png}.
// The ratio is stb time / AegisRT time per input. Timings depend on the
// machine and its load: compare only rows of one run.
#include <benchmark/benchmark.h>
#include "aegisrt/core/file_util.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <turbojpeg.h>

#include "aegisrt/vision/image.h"

#if AEGISRT_BENCH_STB
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#include <stb_image.h>
#endif

namespace {

using aegisrt::vision::Image;
using Bytes = std::vector<std::byte>;

Image make_image(int w, int h, int noise_amp) {
  Image img = Image::create(w, h, 3).value();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> noise(-noise_amp, noise_amp);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const int v = 128 + (x * (c + 1) / 8 + y / 4) % 96 - 48 + noise(rng);
        img.at(x, y)[c] = static_cast<std::uint8_t>(std::clamp(v, 0, 255));
      }
  return img;
}

Bytes jpeg_of(const Image& img) {
  tjhandle tj = tjInitCompress();
  unsigned char* out = nullptr;
  unsigned long size = 0;
  if (tjCompress2(tj, img.data(), img.width(), static_cast<int>(img.row_bytes()), img.height(), TJPF_RGB, &out,
                  &size, TJSAMP_420, 90, 0) != 0) {
    std::abort();
  }
  Bytes b(reinterpret_cast<std::byte*>(out), reinterpret_cast<std::byte*>(out) + size);
  tjFree(out);
  tjDestroy(tj);
  return b;
}

const Bytes& input(int which) {
  static const Bytes jpeg1080 = jpeg_of(make_image(1920, 1080, 12));
  static const Bytes png480 = aegisrt::vision::encode_png(make_image(640, 480, 20)).value();
  static const Bytes png1080 = aegisrt::vision::encode_png(make_image(1920, 1080, 12)).value();
  static const Bytes file = [] {
    const char* p = std::getenv("AEGISRT_BENCH_IMAGE");
    if (p == nullptr) return Bytes{};
    auto r = aegisrt::read_file(p, "benchmark image");
    std::vector<char> c;
    if (r.ok()) c.assign(r->begin(), r->end());
    return Bytes(reinterpret_cast<const std::byte*>(c.data()), reinterpret_cast<const std::byte*>(c.data()) + c.size());
  }();
  switch (which) {
    case 0: return jpeg1080;
    case 1: return png480;
    case 2: return png1080;
    default: return file;
  }
}

const char* kNames[] = {"jpeg_1920x1080", "png_640x480_demo_like", "png_1920x1080", "AEGISRT_BENCH_IMAGE"};

void BM_AegisDecode(benchmark::State& state) {
  const Bytes& b = input(static_cast<int>(state.range(0)));
  if (b.empty()) {
    state.SkipWithError("AEGISRT_BENCH_IMAGE not set or unreadable");
    return;
  }
  state.SetLabel(kNames[state.range(0)]);
  for (auto _ : state) {
    auto img = aegisrt::vision::decode_image(b, "bench", 3);
    if (!img.ok()) {
      state.SkipWithError(img.error().to_string().c_str());
      return;
    }
    benchmark::DoNotOptimize(img->data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(b.size()));
}
BENCHMARK(BM_AegisDecode)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);

#if AEGISRT_BENCH_STB
void BM_StbDecode(benchmark::State& state) {
  const Bytes& b = input(static_cast<int>(state.range(0)));
  if (b.empty()) {
    state.SkipWithError("AEGISRT_BENCH_IMAGE not set or unreadable");
    return;
  }
  state.SetLabel(kNames[state.range(0)]);
  for (auto _ : state) {
    int w = 0, h = 0, c = 0;
    stbi_uc* px = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(b.data()), static_cast<int>(b.size()), &w,
                                        &h, &c, 3);
    if (px == nullptr) {
      state.SkipWithError(stbi_failure_reason());
      return;
    }
    // The old path copied the pixels into an Image: count that too.
    auto img = Image::from_pixels(w, h, 3, std::span<const std::uint8_t>(px, static_cast<std::size_t>(w) * h * 3));
    stbi_image_free(px);
    benchmark::DoNotOptimize(img->data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(b.size()));
}
BENCHMARK(BM_StbDecode)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);
#endif

}  // namespace
BENCHMARK_MAIN();
