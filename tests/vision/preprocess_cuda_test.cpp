// Fused CUDA pre-processing kernel vs the CPU implementation. Skips (with the
// reason) when AegisRT was built without CUDA or no GPU is usable.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>

#include "aegisrt/vision/preprocess.h"
#include "aegisrt/vision/preprocess_cuda.h"

#if AEGISRT_TEST_HAVE_CUDART
#include <cuda_runtime_api.h>
#endif

namespace aegisrt::vision {
namespace {

// Stated tolerance: both paths compute sampling taps in double and
// interpolate in float with the same formula; the only difference is that
// nvcc contracts multiply-adds into FMAs (a few ulp of values <= 255, i.e.
// ~1e-6 after normalisation). Asserted with margin at 1e-4.
constexpr float kMaxAbsError = 1e-4f;

Image random_image(int w, int h, int c, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(0, 255);
  Image img = Image::create(w, h, c).value();
  for (auto& p : img.pixels()) p = static_cast<std::uint8_t>(d(rng));
  return img;
}

class CudaPreprocess : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_preprocess_compiled()) GTEST_SKIP() << "AegisRT was built without the CUDA toolkit";
#if !AEGISRT_TEST_HAVE_CUDART
    GTEST_SKIP() << "test built without the CUDA runtime";
#endif
    auto p = CudaPreprocessor::create(0);
    if (!p.ok()) GTEST_SKIP() << "no usable CUDA device: " << p.error();
    pre_.emplace(std::move(p).value());
  }

  std::vector<float> download(const Tensor& t) {
    std::vector<float> host(static_cast<std::size_t>(t.element_count()));
#if AEGISRT_TEST_HAVE_CUDART
    EXPECT_EQ(cudaMemcpy(host.data(), t.data(), t.byte_size(), cudaMemcpyDeviceToHost), cudaSuccess);
#endif
    return host;
  }

  float max_abs_diff(const Image& img, const PreprocessConfig& cfg) {
    auto cpu = preprocess(img, cfg);
    EXPECT_TRUE(cpu.ok());
    auto gpu = pre_->run(img, cfg);
    EXPECT_TRUE(gpu.ok()) << gpu.error();
    if (!cpu.ok() || !gpu.ok()) return INFINITY;
    EXPECT_TRUE(gpu->tensor.location().is_device());
    EXPECT_EQ(gpu->tensor.shape(), cpu->tensor.shape());
    const auto& a = cpu->transforms[0];
    const auto& b = gpu->transforms[0];
    EXPECT_EQ(a.pad_x, b.pad_x);
    EXPECT_EQ(a.pad_y, b.pad_y);
    EXPECT_EQ(a.scale_x, b.scale_x);
    const auto host = download(gpu->tensor);
    const auto ref = cpu->tensor.span<float>();
    float worst = 0.0f;
    for (std::size_t i = 0; i < host.size(); ++i) worst = std::max(worst, std::abs(host[i] - ref[i]));
    return worst;
  }

  std::optional<CudaPreprocessor> pre_;
};

TEST_F(CudaPreprocess, MatchesCpuAcrossConfigs) {
  struct Case {
    int w, h, c;
    PreprocessConfig cfg;
    const char* name;
  };
  PreprocessConfig yolo;  // 640x640 letterbox, /255, RGB, NCHW
  PreprocessConfig imagenet;
  imagenet.width = imagenet.height = 224;
  imagenet.resize = ResizeMode::Stretch;
  imagenet.color_order = ColorOrder::BGR;
  imagenet.mean = {0.485f, 0.456f, 0.406f};
  imagenet.std = {0.229f, 0.224f, 0.225f};
  PreprocessConfig nhwc = yolo;
  nhwc.layout = Layout::NHWC;
  nhwc.width = 320;
  nhwc.height = 256;
  const Case cases[] = {
      {640, 480, 3, yolo, "identity letterbox 640x480->640x640"},
      {1920, 1080, 3, yolo, "downscale 1920x1080->640x640"},
      {301, 199, 3, yolo, "upscale odd 301x199->640x640"},
      {500, 375, 3, imagenet, "stretch BGR imagenet 500x375->224x224"},
      {640, 480, 4, nhwc, "RGBA NHWC 640x480->320x256"},
      {123, 77, 1, yolo, "grey 123x77->640x640"},
  };
  unsigned seed = 1;
  for (const Case& c : cases) {
    const float err = max_abs_diff(random_image(c.w, c.h, c.c, seed++), c.cfg);
    EXPECT_LE(err, kMaxAbsError) << c.name;
    std::printf("[ max abs error ] %-40s %.3g\n", c.name, static_cast<double>(err));
  }
}

// Every code path of the kernel (preprocess_kernel.cu): 1/3/4 source
// channels, NCHW/NHWC, RGB/BGR, output widths that are a multiple of 4 (float4
// stores) and not (odd, even but not a multiple of 4: scalar stores, last
// thread of a row partly outside), letterbox padding left/right (tall source)
// and top/bottom (wide source), upscale and downscale, stretch (no padding),
// and mean/std normalisation. The reference is the CPU path.
TEST_F(CudaPreprocess, MatchesCpuOnEveryKernelPath) {
  struct Dst {
    int w, h;
  };
  struct Src {
    int w, h;
    ResizeMode mode;
  };
  const Dst dsts[] = {{640, 640}, {321, 243}, {322, 200}, {100, 64}, {7, 5}};
  const Src srcs[] = {{311, 97, ResizeMode::Letterbox},   // wide: pad rows
                      {97, 311, ResizeMode::Letterbox},   // tall: pad columns
                      {601, 587, ResizeMode::Letterbox},  // near square downscale
                      {53, 41, ResizeMode::Stretch}};
  unsigned seed = 100;
  int cases = 0;
  for (const int ch : {1, 3, 4}) {
    for (const Layout layout : {Layout::NCHW, Layout::NHWC}) {
      for (const ColorOrder order : {ColorOrder::RGB, ColorOrder::BGR}) {
        for (const Dst& d : dsts) {
          for (const Src& s : srcs) {
            PreprocessConfig cfg;
            cfg.width = d.w;
            cfg.height = d.h;
            cfg.layout = layout;
            cfg.color_order = order;
            cfg.resize = s.mode;
            if (order == ColorOrder::BGR) {
              cfg.mean = {0.485f, 0.456f, 0.406f};
              cfg.std = {0.229f, 0.224f, 0.225f};
              cfg.pad_value = 0;
            }
            const float err = max_abs_diff(random_image(s.w, s.h, ch, seed++), cfg);
            EXPECT_LE(err, kMaxAbsError)
                << "C=" << ch << " " << to_string(layout) << " " << to_string(order) << " " << s.w << "x"
                << s.h << " " << to_string(s.mode) << " -> " << d.w << "x" << d.h;
            ++cases;
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 3 * 2 * 2 * 5 * 4);
}

// The identity kernel (source already at the resized size: no resampling, no
// tap tables) against the CPU path, on every store path: 640x480 letterboxed
// into 640x640 (the common camera case: pad rows, float4 stores), a tall
// source (pad columns, even and odd pad), a width that is not a multiple of 4
// (scalar stores) and a stretch to the same size. A resampling geometry (a source
// twice the size) right after must leave the identity kernel again.
TEST_F(CudaPreprocess, IdentityResizeMatchesCpuAndIsTakenOnlyWithoutResampling) {
  struct Case {
    int src_w, src_h, dst_w, dst_h;
    ResizeMode mode;
  };
  const Case cases[] = {{640, 480, 640, 640, ResizeMode::Letterbox},
                        {40, 100, 64, 100, ResizeMode::Letterbox},
                        {39, 100, 64, 100, ResizeMode::Letterbox},
                        {322, 120, 322, 200, ResizeMode::Letterbox},
                        {100, 64, 100, 64, ResizeMode::Stretch}};
  unsigned seed = 900;
  for (const int ch : {1, 3, 4}) {
    for (const Layout layout : {Layout::NCHW, Layout::NHWC}) {
      for (const ColorOrder order : {ColorOrder::RGB, ColorOrder::BGR}) {
        for (const Case& c : cases) {
          PreprocessConfig cfg;
          cfg.width = c.dst_w;
          cfg.height = c.dst_h;
          cfg.layout = layout;
          cfg.color_order = order;
          cfg.resize = c.mode;
          cfg.mean = {0.485f, 0.456f, 0.406f};
          cfg.std = {0.229f, 0.224f, 0.225f};
          const std::string what = "C=" + std::to_string(ch) + " " + std::string(to_string(layout)) + " " +
                                   std::string(to_string(order)) + " " + std::to_string(c.src_w) + "x" +
                                   std::to_string(c.src_h) + " -> " + std::to_string(c.dst_w) + "x" +
                                   std::to_string(c.dst_h);
          const float err = max_abs_diff(random_image(c.src_w, c.src_h, ch, seed++), cfg);
          EXPECT_LE(err, kMaxAbsError) << what;
          EXPECT_TRUE(pre_->last_run_was_identity()) << what;
          // The same content from a source twice the size: resampled (2:1),
          // the general kernel.
          const float err2 = max_abs_diff(random_image(2 * c.src_w, 2 * c.src_h, ch, seed++), cfg);
          EXPECT_LE(err2, kMaxAbsError) << what << " (2x source)";
          EXPECT_FALSE(pre_->last_run_was_identity()) << what << " (2x source)";
        }
      }
    }
  }
}

// The pad value against a hand computation (not the CPU path): a 64x16 grey
// image letterboxed into 64x64 leaves rows [0, 24) and [40, 64) padded with
// (114 / 255 - mean) / std; the content rows of a constant image are
// (v / 255 - mean) / std.
TEST_F(CudaPreprocess, PadAndConstantContentMatchHandComputedValues) {
  Image img = Image::create(64, 16, 3).value();
  for (auto& p : img.pixels()) p = 200;
  for (const Layout layout : {Layout::NCHW, Layout::NHWC}) {
    PreprocessConfig cfg;
    cfg.width = cfg.height = 64;
    cfg.layout = layout;
    cfg.mean = {0.5f, 0.25f, 0.0f};
    cfg.std = {0.5f, 0.25f, 2.0f};
    auto gpu = pre_->run(img, cfg);
    ASSERT_TRUE(gpu.ok()) << gpu.error();
    EXPECT_EQ(gpu->transforms[0].pad_y, 24);
    const auto host = download(gpu->tensor);
    for (int y = 0; y < 64; ++y) {
      for (int x = 0; x < 64; ++x) {
        for (int k = 0; k < 3; ++k) {
          const auto uk = static_cast<std::size_t>(k);
          const double raw = (y < 24 || y >= 40) ? 114.0 : 200.0;
          const double want = (raw / 255.0 - cfg.mean[uk]) / cfg.std[uk];
          const std::size_t i = layout == Layout::NCHW
                                    ? static_cast<std::size_t>((k * 64 + y) * 64 + x)
                                    : static_cast<std::size_t>((y * 64 + x) * 3 + k);
          ASSERT_NEAR(host[i], want, 1e-5) << to_string(layout) << " y=" << y << " x=" << x << " k=" << k;
        }
      }
    }
  }
}

// The tap tables are cached per geometry: alternating source and output sizes
// on one preprocessor (table re-uploaded, grown, shrunk) must each match the
// CPU, including a geometry change while earlier work is still queued.
TEST_F(CudaPreprocess, GeometryChangesReuseOrRebuildTaps) {
  PreprocessConfig small;
  small.width = small.height = 96;
  PreprocessConfig big;  // 640x640
  const Image a = random_image(200, 120, 3, 7);
  const Image b = random_image(1280, 720, 3, 8);
  EXPECT_LE(max_abs_diff(a, small), kMaxAbsError);
  EXPECT_LE(max_abs_diff(b, big), kMaxAbsError);    // grows the table
  EXPECT_LE(max_abs_diff(a, small), kMaxAbsError);  // smaller again
  EXPECT_LE(max_abs_diff(a, small), kMaxAbsError);  // cached
  EXPECT_LE(max_abs_diff(b, small), kMaxAbsError);  // same output, other source
  EXPECT_LE(max_abs_diff(a, big), kMaxAbsError);
}

#if AEGISRT_TEST_HAVE_CUDART
TEST_F(CudaPreprocess, RunIntoDeviceSourceFillsBatchSlot) {
  const Image img = random_image(200, 100, 3, 42);
  PreprocessConfig cfg;
  cfg.width = cfg.height = 128;
  void* src = nullptr;
  ASSERT_EQ(cudaMalloc(&src, img.byte_size()), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(src, img.data(), img.byte_size(), cudaMemcpyHostToDevice), cudaSuccess);
  void* dst = nullptr;
  const Shape shape = cfg.tensor_shape(2);
  const std::size_t bytes = 2 * cfg.elements_per_image() * sizeof(float);
  ASSERT_EQ(cudaMalloc(&dst, bytes), cudaSuccess);
  ASSERT_EQ(cudaMemset(dst, 0, bytes), cudaSuccess);
  Tensor out = Tensor::adopt(dst, shape, DType::Float32, Location::device(0), [](void* p) { cudaFree(p); });
  TensorView src_view(src, {100, 200, 3}, DType::UInt8, Location::device(0));
  auto t = pre_->run_into(src_view, cfg, out, 1, /*synchronize=*/false);
  ASSERT_TRUE(t.ok()) << t.error();
  ASSERT_TRUE(pre_->synchronize().ok());
  const auto host = download(out);
  auto cpu = preprocess(img, cfg);
  ASSERT_TRUE(cpu.ok());
  const std::size_t per = cfg.elements_per_image();
  for (std::size_t i = 0; i < per; ++i) {
    ASSERT_EQ(host[i], 0.0f) << "slot 0 must stay untouched";
    ASSERT_NEAR(host[per + i], cpu->tensor.span<float>()[i], kMaxAbsError) << i;
  }
  cudaFree(src);
}
#endif

#if AEGISRT_TEST_HAVE_CUDART
// Two asynchronous run_into() calls of different geometries back to back
// (the second rebuilds the tap table while the first may still be queued),
// and a destination that is not 16-byte aligned (float4 stores must fall
// back to scalar ones: a tensor adopted one float into an allocation).
TEST_F(CudaPreprocess, AsyncGeometryChangeAndUnalignedDestination) {
  PreprocessConfig cfg;
  cfg.width = cfg.height = 128;  // width % 4 == 0: the float4 path when aligned
  const Image a = random_image(300, 100, 3, 21);
  const Image b = random_image(90, 250, 3, 22);
  const std::size_t per = cfg.elements_per_image();
  float* raw = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&raw), (2 * per + 1) * sizeof(float)), cudaSuccess);
  Tensor out = Tensor::adopt(raw + 1, cfg.tensor_shape(2), DType::Float32, Location::device(0),
                             [raw](void*) { cudaFree(raw); });
  ASSERT_TRUE(pre_->run_into(a.view(), cfg, out, 0, /*synchronize=*/false).ok());
  ASSERT_TRUE(pre_->run_into(b.view(), cfg, out, 1, /*synchronize=*/false).ok());
  ASSERT_TRUE(pre_->synchronize().ok());
  const auto host = download(out);
  const auto ra = preprocess(a, cfg);
  const auto rb = preprocess(b, cfg);
  ASSERT_TRUE(ra.ok() && rb.ok());
  for (std::size_t i = 0; i < per; ++i) {
    ASSERT_NEAR(host[i], ra->tensor.span<float>()[i], kMaxAbsError) << "slot 0, element " << i;
    ASSERT_NEAR(host[per + i], rb->tensor.span<float>()[i], kMaxAbsError) << "slot 1, element " << i;
  }
}
#endif

TEST_F(CudaPreprocess, RejectsBadDestination) {
  const Image img = random_image(8, 8, 3, 3);
  PreprocessConfig cfg;
  cfg.width = cfg.height = 16;
  auto host_dst = Tensor::allocate_host(cfg.tensor_shape(1), DType::Float32).value();
  auto r = pre_->run_into(img.view(), cfg, host_dst, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
}

TEST(CudaPreprocessAvailability, CreateReportsWhyNot) {
  auto p = CudaPreprocessor::create(0);
  if (!cuda_preprocess_compiled()) {
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code(), ErrorCode::Unsupported);
  } else if (!p.ok()) {
    EXPECT_EQ(p.error().code(), ErrorCode::CudaError);
  } else {
    EXPECT_EQ(p->device(), 0);
  }
  EXPECT_FALSE(CudaPreprocessor::create(-1).ok());
}

}  // namespace
}  // namespace aegisrt::vision
