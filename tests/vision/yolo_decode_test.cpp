// The host part of the GPU YOLO decode (vision/yolo_decode.h, shared with
// vision::decode_yolo): candidates in any order (as the kernel's atomic
// compaction leaves them) give decode_yolo's detections exactly, and a count
// above the buffer's capacity is refused (the caller then decodes the whole
// output on the host). No GPU needed: the candidates are what a correct
// selection keeps (yolo_head_util.h, std::max_element per anchor).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "aegisrt/vision/detection.h"
#include "vision/yolo_decode.h"
#include "vision/yolo_head_util.h"

namespace aegisrt::vision {
namespace {

using yolo_test::expect_identical;
using yolo_test::expected_candidates;
using yolo_test::letterbox_640x480;
using yolo_test::random_head;

TEST(YoloDecodeCandidates, ShuffledCandidatesGiveDecodeYolosDetections) {
  for (unsigned seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    const Tensor head = random_head(80, 2100, seed);
    YoloDecodeConfig cfg;
    cfg.conf_threshold = 0.25f;
    auto want = decode_yolo(head.view(), cfg, letterbox_640x480());
    ASSERT_TRUE(want.ok()) << want.error();
    ASSERT_FALSE(want->empty());
    std::vector<detail::YoloCandidate> c = expected_candidates(head, cfg.conf_threshold);
    ASSERT_GT(c.size(), 50u);
    std::mt19937 rng(seed);
    std::shuffle(c.begin(), c.end(), rng);
    // A larger buffer than needed: only the first `count` slots are read.
    const auto count = static_cast<std::uint32_t>(c.size());
    c.resize(c.size() + 10, detail::YoloCandidate{1, 1, 1, 1, 0.99f, 0, 999999});
    auto got = detail::decode_yolo_candidates(c, count, cfg, letterbox_640x480());
    ASSERT_TRUE(got.has_value());
    expect_identical(*want, *got);
  }
}

// max_candidates below the count: the stable sort by score keeps the
// lower anchors among equal scores, so the anchor order matters. Scores are
// rounded to multiples of 0.05 so many anchors share one.
TEST(YoloDecodeCandidates, MaxCandidatesKeepsDecodeYolosChoiceAmongEqualScores) {
  Tensor head = random_head(4, 500, 7, /*hot=*/400);
  float* d = head.data_as<float>();
  for (int i = 4 * 500; i < 8 * 500; ++i) d[i] = std::round(d[i] * 20.0f) / 20.0f;
  YoloDecodeConfig cfg;
  cfg.conf_threshold = 0.2f;
  cfg.max_candidates = 40;
  auto want = decode_yolo(head.view(), cfg, letterbox_640x480());
  ASSERT_TRUE(want.ok()) << want.error();
  std::vector<detail::YoloCandidate> c = expected_candidates(head, cfg.conf_threshold);
  std::reverse(c.begin(), c.end());
  auto got = detail::decode_yolo_candidates(c, static_cast<std::uint32_t>(c.size()), cfg, letterbox_640x480());
  ASSERT_TRUE(got.has_value());
  expect_identical(*want, *got);
}

// Two same-class candidates with equal scores overlapping (IoU 39/41): NMS
// keeps the lower anchor's box (decode_yolo's order), whatever order the
// kernel wrote them in. Hand-computed: anchor 3's box is [80, 90, 120, 110]
// in the model, [80, 10, 120, 30] in the original (pad_y 80).
TEST(YoloDecodeCandidates, EqualScoresKeepTheLowerAnchorsBox) {
  std::vector<detail::YoloCandidate> c{
      {101, 100, 40, 20, 0.5f, 2, 9},  // written first by the kernel, higher anchor
      {100, 100, 40, 20, 0.5f, 2, 3},
  };
  YoloDecodeConfig cfg;
  auto got = detail::decode_yolo_candidates(c, 2, cfg, letterbox_640x480());
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].box.x1, 80.0f);
  EXPECT_EQ((*got)[0].box.y1, 10.0f);
  EXPECT_EQ((*got)[0].box.x2, 120.0f);
  EXPECT_EQ((*got)[0].box.y2, 30.0f);
  EXPECT_EQ((*got)[0].class_id, 2);
}

TEST(YoloDecodeCandidates, CountAboveTheCapacityIsRefusedNotTruncated) {
  std::vector<detail::YoloCandidate> c(4, detail::YoloCandidate{100, 100, 10, 10, 0.9f, 0, 0});
  for (std::size_t i = 0; i < c.size(); ++i) c[i].anchor = static_cast<std::int32_t>(i);
  const YoloDecodeConfig cfg;
  EXPECT_FALSE(detail::decode_yolo_candidates(c, 5, cfg, letterbox_640x480()).has_value());
  EXPECT_FALSE(detail::decode_yolo_candidates(c, 100000, cfg, letterbox_640x480()).has_value());
  // Exactly full is complete: decoded (the four identical boxes NMS to one).
  auto full = detail::decode_yolo_candidates(c, 4, cfg, letterbox_640x480());
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->size(), 1u);
}

TEST(YoloDecodeCandidates, ZeroCandidatesGiveNoDetections) {
  std::vector<detail::YoloCandidate> c(3, detail::YoloCandidate{100, 100, 10, 10, 0.9f, 0, 0});
  auto got = detail::decode_yolo_candidates(c, 0, YoloDecodeConfig{}, letterbox_640x480());
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->empty());
  auto none = detail::decode_yolo_candidates({}, 0, YoloDecodeConfig{}, letterbox_640x480());
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST(YoloDecodeCandidates, BadLetterboxIsInvalidArgument) {
  LetterboxTransform t = letterbox_640x480();
  t.scale_y = 0.0f;
  auto r = detail::check_yolo_transform(t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_TRUE(detail::check_yolo_transform(letterbox_640x480()).ok());
}

}  // namespace
}  // namespace aegisrt::vision
