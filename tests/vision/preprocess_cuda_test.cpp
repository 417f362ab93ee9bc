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
