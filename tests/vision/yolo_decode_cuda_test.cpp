// GPU YOLO decode (vision::CudaYoloDecoder, src/vision/yolo_decode_cuda.h)
// against vision::decode_yolo on the host copy of the same output: identical
// detections (bit for bit) on random heads and on crafted ones (ties between
// classes, scores exactly at the threshold, NaN scores, no candidate), the
// capacity overflow falling back to the full download, heads the kernel does
// not take, and a batch index. Skips (with the reason) when AegisRT was
// built without CUDA or no GPU is usable.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#if AEGISRT_TEST_HAVE_CUDART
#include "aegisrt/cuda/cuda_stream.h"
#include "aegisrt/cuda/tensor_ops.h"
#include "aegisrt/vision/detection.h"
#include "vision/yolo_decode_cuda.h"
#include "vision/yolo_head_util.h"

namespace aegisrt::vision {
namespace {

using yolo_test::expect_identical;
using yolo_test::letterbox_640x480;
using yolo_test::random_head;
using Path = CudaYoloDecoder::Path;

class CudaYoloDecode : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_yolo_decode_compiled()) GTEST_SKIP() << "AegisRT was built without the CUDA toolkit";
    auto s = cuda::CudaStream::create(0);
    if (!s.ok()) GTEST_SKIP() << "no usable CUDA device: " << s.error();
    stream_.emplace(std::move(s).value());
  }

  /// decode_yolo on the host head vs the GPU decoder on its device copy.
  void expect_gpu_equals_host(const Tensor& head, const YoloDecodeConfig& cfg, Path want_path,
                              std::uint32_t capacity = CudaYoloDecoder::kDefaultCapacity,
                              std::int64_t batch_index = 0) {
    auto want = decode_yolo(head.view(), cfg, letterbox_640x480(), batch_index);
    ASSERT_TRUE(want.ok()) << want.error();
    auto dev = cuda::copy_to_device(head.view(), 0, "head");
    ASSERT_TRUE(dev.ok()) << dev.error();
    auto decoder = CudaYoloDecoder::create(0, capacity);
    ASSERT_TRUE(decoder.ok()) << decoder.error();
    auto got = decoder->decode(dev->view(), cfg, letterbox_640x480(), *stream_, batch_index);
    ASSERT_TRUE(got.ok()) << got.error();
    EXPECT_EQ(decoder->last_path(), want_path);
    expect_identical(*want, *got);
  }

  std::optional<cuda::CudaStream> stream_;
};

TEST_F(CudaYoloDecode, RandomHeadsMatchTheHostDecode) {
  for (unsigned seed : {11u, 12u, 13u, 14u}) {
    SCOPED_TRACE(seed);
    const Tensor head = random_head(80, 8400, seed);
    YoloDecodeConfig cfg;
    for (float conf : {0.25f, 0.5f}) {
      cfg.conf_threshold = conf;
      expect_gpu_equals_host(head, cfg, Path::Gpu);
    }
    cfg.conf_threshold = 0.25f;
    cfg.class_agnostic = true;
    cfg.max_candidates = 50;
    expect_gpu_equals_host(head, cfg, Path::Gpu);
  }
}

// [1, 4+3, 6]: ties between classes, a score exactly at the threshold, one
// just below it, NaN scores, a negative score. Hand-written expectation of the
// selection (before NMS, the boxes far apart): anchors 0 (class 1 of the 1-2
// tie), 1 (exactly 0.25 passes), 3 (class 0 beside a NaN), 5 (0.9 after a NaN).
TEST_F(CudaYoloDecode, CraftedTiesThresholdAndNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float below = std::nextafter(0.25f, 0.0f);
  const int n = 6;
  Tensor head = Tensor::allocate_host(Shape{1, 7, n}, DType::Float32, "head").value();
  float* d = head.data_as<float>();
  const float rows[7][6] = {
      {50, 150, 250, 350, 450, 550},        // cx
      {100, 100, 100, 100, 100, 100},       // cy
      {20, 20, 20, 20, 20, 20},             // w
      {20, 20, 20, 20, 20, 20},             // h
      {0.1f, 0.25f, below, 0.6f, -3.0f, nan},  // class 0
      {0.7f, 0.1f, 0.1f, nan, -2.0f, 0.9f},    // class 1
      {0.7f, 0.0f, 0.2f, 0.3f, -5.0f, 0.1f},   // class 2
  };
  for (int c = 0; c < 7; ++c)
    for (int i = 0; i < n; ++i) d[c * n + i] = rows[c][i];
  YoloDecodeConfig cfg;
  cfg.conf_threshold = 0.25f;
  auto host = decode_yolo(head.view(), cfg, letterbox_640x480());
  ASSERT_TRUE(host.ok()) << host.error();
  ASSERT_EQ(host->size(), 4u);  // the hand-written expectation, by score
  EXPECT_EQ((*host)[0].score, 0.9f);
  EXPECT_EQ((*host)[0].class_id, 1);
  EXPECT_EQ((*host)[1].score, 0.7f);
  EXPECT_EQ((*host)[1].class_id, 1);
  EXPECT_EQ((*host)[2].score, 0.6f);
  EXPECT_EQ((*host)[2].class_id, 0);
  EXPECT_EQ((*host)[3].score, 0.25f);
  EXPECT_EQ((*host)[3].class_id, 0);
  expect_gpu_equals_host(head, cfg, Path::Gpu);
}

TEST_F(CudaYoloDecode, NoCandidateGivesNoDetections) {
  const Tensor head = random_head(80, 8400, 21, /*hot=*/0);  // every score < 0.2
  YoloDecodeConfig cfg;
  cfg.conf_threshold = 0.25f;
  expect_gpu_equals_host(head, cfg, Path::Gpu);
}

// More passing anchors than the buffer holds: the whole output is downloaded
// and decoded on the host (same detections), never a truncated result.
TEST_F(CudaYoloDecode, CapacityOverflowFallsBackToTheHostDecode) {
  const Tensor head = random_head(80, 8400, 31);
  YoloDecodeConfig cfg;
  cfg.conf_threshold = 0.25f;
  const auto passing = yolo_test::expected_candidates(head, cfg.conf_threshold).size();
  ASSERT_GT(passing, 16u);
  expect_gpu_equals_host(head, cfg, Path::DownloadOverflow, /*capacity=*/16);
  // Exactly full still decodes on the GPU.
  expect_gpu_equals_host(head, cfg, Path::Gpu, static_cast<std::uint32_t>(passing));
}

TEST_F(CudaYoloDecode, HeadsTheKernelDoesNotTakeAreDecodedOnTheHost) {
  const Tensor head = random_head(8, 300, 41, 40);
  YoloDecodeConfig cfg;
  cfg.layout = YoloLayout::ChannelsLast;  // [B, N, 4+C] read as such: still decode_yolo's answer
  expect_gpu_equals_host(head, cfg, Path::DownloadLayout);
  // A host output is decode_yolo itself.
  auto decoder = CudaYoloDecoder::create(0);
  ASSERT_TRUE(decoder.ok()) << decoder.error();
  auto got = decoder->decode(head.view(), YoloDecodeConfig{}, letterbox_640x480(), *stream_);
  ASSERT_TRUE(got.ok()) << got.error();
  EXPECT_EQ(decoder->last_path(), Path::HostOutput);
  // decode_yolo's errors come through unchanged (4 channels: no class score).
  Tensor bad = Tensor::allocate_host(Shape{1, 4, 10}, DType::Float32, "bad").value();
  auto bad_dev = cuda::copy_to_device(bad.view(), 0, "bad");
  ASSERT_TRUE(bad_dev.ok()) << bad_dev.error();
  auto err = decoder->decode(bad_dev->view(), YoloDecodeConfig{}, letterbox_640x480(), *stream_);
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().code(), ErrorCode::InvalidArgument);
}

TEST_F(CudaYoloDecode, SecondImageOfABatch) {
  const Tensor head = random_head(80, 2100, 51, 300, /*batch=*/2);
  YoloDecodeConfig cfg;
  expect_gpu_equals_host(head, cfg, Path::Gpu, CudaYoloDecoder::kDefaultCapacity, /*batch_index=*/1);
}

TEST_F(CudaYoloDecode, ZeroCapacityIsInvalidArgument) {
  auto d = CudaYoloDecoder::create(0, 0);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace aegisrt::vision
#else  // built without the CUDA toolkit: libaegisrt has no CUDA stream or tensor ops to link

#include "vision/yolo_decode_cuda.h"

namespace aegisrt::vision {
namespace {

TEST(CudaYoloDecodeWithoutCuda, TheKernelIsNotCompiledIn) {
  // The pipeline decides on GPU post-processing from this (gpu_postprocess_refusal).
  EXPECT_FALSE(cuda_yolo_decode_compiled());
}

}  // namespace
}  // namespace aegisrt::vision
#endif  // AEGISRT_TEST_HAVE_CUDART

