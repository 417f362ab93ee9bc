#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "aegisrt/vision/detection.h"
#include "aegisrt/vision/preprocess.h"

namespace aegisrt::vision {
namespace {

TEST(Iou, HandComputed) {
  EXPECT_FLOAT_EQ(iou({0, 0, 3, 1}, {1, 0, 4, 1}), 0.5f);   // inter 2, union 4
  EXPECT_FLOAT_EQ(iou({0, 0, 10, 10}, {5, 5, 15, 15}), 25.0f / 175.0f);
  EXPECT_EQ(iou({0, 0, 1, 1}, {2, 2, 3, 3}), 0.0f);
  EXPECT_EQ(iou({0, 0, 0, 0}, {0, 0, 0, 0}), 0.0f);
}

TEST(Nms, SameClassSuppressedOtherClassKept) {
  std::vector<Detection> d{
      {{0, 0, 10, 10}, 0.9f, 0},
      {{1, 0, 11, 10}, 0.8f, 0},    // IoU 90/110 = 0.82 with the first: suppressed
      {{1, 0, 11, 10}, 0.7f, 1},    // same box, other class: kept
      {{50, 50, 60, 60}, 0.6f, 0},  // far away: kept
  };
  const auto kept = nms(d, 0.5f, 100);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].score, 0.9f);
  EXPECT_EQ(kept[1].class_id, 1);
  EXPECT_EQ(kept[2].score, 0.6f);
  // Class-agnostic: the class-1 box is suppressed too.
  EXPECT_EQ(nms(d, 0.5f, 100, true).size(), 2u);
}

TEST(Nms, ThresholdBoundaryIsStrict) {
  std::vector<Detection> d{{{0, 0, 3, 1}, 0.9f, 0}, {{1, 0, 4, 1}, 0.8f, 0}};  // IoU exactly 0.5
  EXPECT_EQ(nms(d, 0.5f, 10).size(), 2u);   // not > 0.5: kept
  EXPECT_EQ(nms(d, 0.49f, 10).size(), 1u);  // > 0.49: suppressed
}

TEST(Nms, MaxDetectionsKeepsBest) {
  std::vector<Detection> d;
  for (int i = 0; i < 5; ++i) d.push_back({{i * 20.0f, 0, i * 20.0f + 10, 10}, 0.1f * (i + 1), 0});
  const auto kept = nms(d, 0.5f, 2);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.5f);
  EXPECT_FLOAT_EQ(kept[1].score, 0.4f);
}

// [1, 4+2, 5] YOLO head output, channels first. Letterbox 640x480 -> 320x320
// (scale 0.5, pad_y 40): original = (x / 0.5, (y - 40) / 0.5).
std::vector<float> crafted_channels_first() {
  const int n = 5;
  // anchor:         0      1      2      3      4
  const float cx[] = {100, 102, 200, 300, 5};
  const float cy[] = {140, 140, 200, 300, 45};
  const float w[] = {40, 40, 20, 10, 20};
  const float h[] = {20, 20, 20, 10, 20};
  const float s0[] = {0.9f, 0.8f, 0.1f, 0.2f, 0.0f};
  const float s1[] = {0.1f, 0.05f, 0.3f, 0.1f, 0.7f};
  std::vector<float> t(6 * n);
  for (int i = 0; i < n; ++i) {
    t[static_cast<std::size_t>(0 * n + i)] = cx[i];
    t[static_cast<std::size_t>(1 * n + i)] = cy[i];
    t[static_cast<std::size_t>(2 * n + i)] = w[i];
    t[static_cast<std::size_t>(3 * n + i)] = h[i];
    t[static_cast<std::size_t>(4 * n + i)] = s0[i];
    t[static_cast<std::size_t>(5 * n + i)] = s1[i];
  }
  return t;
}

LetterboxTransform transform_640x480_to_320() {
  PreprocessConfig c;
  c.width = c.height = 320;
  return compute_transform(640, 480, c).value();
}

void expect_crafted_result(const std::vector<Detection>& d) {
  ASSERT_EQ(d.size(), 3u);
  // anchor 0 (anchor 1 suppressed by NMS, anchor 3 below confidence)
  EXPECT_EQ(d[0].class_id, 0);
  EXPECT_FLOAT_EQ(d[0].score, 0.9f);
  EXPECT_EQ(d[0].box, (Box{160, 180, 240, 220}));  // model (80,130,120,150)
  // anchor 4: model (-5,35,15,55) -> (-10,-10,30,30) -> clipped
  EXPECT_EQ(d[1].class_id, 1);
  EXPECT_EQ(d[1].box, (Box{0, 0, 30, 30}));
  // anchor 2: model (190,190,210,210) -> (380,300,420,340)
  EXPECT_EQ(d[2].class_id, 1);
  EXPECT_FLOAT_EQ(d[2].score, 0.3f);
  EXPECT_EQ(d[2].box, (Box{380, 300, 420, 340}));
}

TEST(DecodeYolo, CraftedTensorChannelsFirst) {
  auto data = crafted_channels_first();
  TensorView v(data.data(), {1, 6, 5}, DType::Float32);
  auto d = decode_yolo(v, {}, transform_640x480_to_320());
  ASSERT_TRUE(d.ok()) << d.error();
  expect_crafted_result(*d);
}

TEST(DecodeYolo, TransposedViewAndChannelsLastAgree) {
  auto data = crafted_channels_first();
  // Strided view of the same memory as [1, 5, 6] (N, 4+C).
  TensorView strided(data.data(), {1, 5, 6}, {30, 1, 5}, DType::Float32);
  YoloDecodeConfig cfg;
  cfg.layout = YoloLayout::ChannelsLast;
  auto d = decode_yolo(strided, cfg, transform_640x480_to_320());
  ASSERT_TRUE(d.ok()) << d.error();
  expect_crafted_result(*d);
}

// The class-major scan (float32, contiguous anchors) and the anchor-major one
// (any other layout: here a channels-last copy, anchor stride 4+C) pick the
// same class per anchor, ties to the first class, NaN never: identical output
// on random scores with many ties and some NaNs.
TEST(DecodeYolo, ClassMajorScanEqualsAnchorMajorScan) {
  constexpr std::int64_t kClasses = 80, kCh = 4 + kClasses, kN = 700;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> pos(20.0f, 300.0f), size(4.0f, 40.0f);
  std::uniform_int_distribution<int> level(0, 9);
  std::vector<float> first(static_cast<std::size_t>(kCh * kN));
  auto at = [&](std::int64_t c, std::int64_t i) -> float& { return first[static_cast<std::size_t>(c * kN + i)]; };
  for (std::int64_t i = 0; i < kN; ++i) {
    at(0, i) = pos(rng);
    at(1, i) = pos(rng);
    at(2, i) = size(rng);
    at(3, i) = size(rng);
    for (std::int64_t c = 0; c < kClasses; ++c) at(4 + c, i) = 0.1f * static_cast<float>(level(rng));  // ties
    if (i % 37 == 0) at(4 + (i % kClasses), i) = std::numeric_limits<float>::quiet_NaN();
  }
  std::vector<float> last(first.size());
  for (std::int64_t i = 0; i < kN; ++i) {
    for (std::int64_t c = 0; c < kCh; ++c) last[static_cast<std::size_t>(i * kCh + c)] = at(c, i);
  }
  YoloDecodeConfig cfg;
  cfg.conf_threshold = 0.75f;
  cfg.max_detections = 1000;
  YoloDecodeConfig cfg_last = cfg;
  cfg_last.layout = YoloLayout::ChannelsLast;
  auto a = decode_yolo(TensorView(first.data(), {1, kCh, kN}, DType::Float32), cfg, transform_640x480_to_320());
  auto b = decode_yolo(TensorView(last.data(), {1, kN, kCh}, DType::Float32), cfg_last, transform_640x480_to_320());
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  ASSERT_GT(a->size(), 20u);
  ASSERT_EQ(a->size(), b->size());
  for (std::size_t k = 0; k < a->size(); ++k) {
    EXPECT_EQ((*a)[k].class_id, (*b)[k].class_id) << k;
    EXPECT_EQ((*a)[k].score, (*b)[k].score) << k;
    EXPECT_EQ((*a)[k].box, (*b)[k].box) << k;
  }
  // Ties go to the first class with the top score (Ultralytics' argmax).
  std::vector<float> one(static_cast<std::size_t>(kCh * 1), 0.0f);
  one[0] = one[1] = 100.0f;
  one[2] = one[3] = 10.0f;
  one[4 + 5] = 0.9f;
  one[4 + 17] = 0.9f;
  auto t = decode_yolo(TensorView(one.data(), {1, kCh, 1}, DType::Float32), {}, transform_640x480_to_320());
  ASSERT_TRUE(t.ok()) << t.error();
  ASSERT_EQ(t->size(), 1u);
  EXPECT_EQ((*t)[0].class_id, 5);
}

TEST(DecodeYolo, Float16AndBatchIndex) {
  auto data = crafted_channels_first();
  std::vector<std::uint16_t> half(data.size() * 2, 0);  // batch 0 all zero
  for (std::size_t i = 0; i < data.size(); ++i) half[data.size() + i] = float_to_half(data[i]);
  TensorView v(half.data(), {2, 6, 5}, DType::Float16);
  auto empty = decode_yolo(v, {}, transform_640x480_to_320(), 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto d = decode_yolo(v, {}, transform_640x480_to_320(), 1);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 3u);
  EXPECT_EQ((*d)[0].box, (Box{160, 180, 240, 220}));  // all values exact in fp16
}

TEST(DecodeYolo, ThresholdAndMaxDetections) {
  auto data = crafted_channels_first();
  TensorView v(data.data(), {1, 6, 5}, DType::Float32);
  YoloDecodeConfig cfg;
  cfg.conf_threshold = 0.75f;
  auto d = decode_yolo(v, cfg, transform_640x480_to_320());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->size(), 1u);
  cfg.conf_threshold = 0.25f;
  cfg.max_detections = 2;
  EXPECT_EQ(decode_yolo(v, cfg, transform_640x480_to_320())->size(), 2u);
  cfg.max_detections = 300;
  cfg.iou_threshold = 0.95f;  // anchors 0 and 1 (IoU 0.9) both survive
  EXPECT_EQ(decode_yolo(v, cfg, transform_640x480_to_320())->size(), 4u);
}

TEST(DecodeYolo, BadTensorsNameTheOutput) {
  std::vector<float> data(4 * 3);
  auto r = decode_yolo(TensorView(data.data(), {1, 4, 3}, DType::Float32), {}, transform_640x480_to_320());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("detection output"), std::string::npos);
  EXPECT_EQ(decode_yolo(TensorView(data.data(), {12}, DType::Float32), {}, transform_640x480_to_320())
                .error().code(), ErrorCode::InvalidArgument);
  std::vector<std::int32_t> ints(30);
  EXPECT_EQ(decode_yolo(TensorView(ints.data(), {1, 6, 5}, DType::Int32), {}, transform_640x480_to_320())
                .error().code(), ErrorCode::InvalidArgument);
  std::vector<float> ok(30);
  EXPECT_EQ(decode_yolo(TensorView(ok.data(), {1, 6, 5}, DType::Float32), {}, transform_640x480_to_320(), 1)
                .error().code(), ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace aegisrt::vision
