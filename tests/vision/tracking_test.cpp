#include <gtest/gtest.h>

#include <optional>

#include "aegisrt/vision/tracking.h"

namespace aegisrt::vision {
namespace {

TEST(LinearAssignment, OptimalWhereGreedyIsNot) {
  // Greedy would take (1,1)=0 first and end at 0 + 4 + 3 = 7; optimum is 5.
  const std::vector<float> cost{4, 1, 3,  //
                                2, 0, 5,  //
                                3, 2, 2};
  EXPECT_EQ(linear_assignment(cost, 3, 3, 100.0f), (std::vector<int>{1, 0, 2}));
}

TEST(LinearAssignment, CostLimitAndRectangular) {
  EXPECT_EQ(linear_assignment(std::vector<float>{0.1f, 0.9f}, 1, 2, 0.5f), (std::vector<int>{0}));
  EXPECT_EQ(linear_assignment(std::vector<float>{0.9f}, 1, 1, 0.5f), (std::vector<int>{-1}));
  // 3 rows, 2 columns: row 2 stays unmatched.
  const std::vector<float> cost{0.2f, 0.9f,  //
                                0.9f, 0.1f,  //
                                0.3f, 0.3f};
  EXPECT_EQ(linear_assignment(cost, 3, 2, 0.8f), (std::vector<int>{0, 1, -1}));
  EXPECT_TRUE(linear_assignment({}, 0, 3, 0.8f).empty());
  EXPECT_EQ(linear_assignment({}, 2, 0, 0.8f), (std::vector<int>{-1, -1}));
}

Detection det(float x, float y, float score, float w = 50, float h = 100) {
  return {{x, y, x + w, y + h}, score, 0};
}

std::optional<Track> find(const std::vector<Track>& tracks, int id) {
  for (const Track& t : tracks)
    if (t.id == id) return t;
  return std::nullopt;
}

// A: 50x100 box moving +10 px/frame in x, occluded on frames 5-7, detected
//    with a low score (0.3) on frame 10.
// B: static, appears on frame 3.
// A one-frame spurious detection on frame 6; a low-score-only blob on frame 2.
// C: appears on frame 11.
std::vector<Detection> scripted_frame(int f) {
  std::vector<Detection> d;
  const float ax = 100.0f + 10.0f * static_cast<float>(f);
  if (f < 5 || f > 7) d.push_back(det(ax, 100, f == 10 ? 0.3f : 0.9f));
  if (f >= 3) d.push_back(det(400, 300, 0.85f));
  if (f == 6) d.push_back(det(700, 50, 0.95f));
  if (f == 2) d.push_back(det(600, 400, 0.3f));
  if (f >= 11) d.push_back(det(200, 500, 0.9f, 80, 40));
  return d;
}

TEST(ByteTrack, IdsStableThroughOcclusionAndLowScores) {
  ByteTracker tracker;
  std::vector<std::vector<Track>> out;
  for (int f = 0; f <= 13; ++f) out.push_back(tracker.update(scripted_frame(f)));

  // Frame 0: A is confirmed at once (first frame) with id 1.
  ASSERT_EQ(out[0].size(), 1u);
  EXPECT_EQ(out[0][0].id, 1);
  // Frame 2: the low-score blob starts nothing.
  EXPECT_EQ(out[2].size(), 1u);
  // Frame 3: B is tentative (not reported); frame 4: confirmed as id 2.
  EXPECT_EQ(out[3].size(), 1u);
  ASSERT_EQ(out[4].size(), 2u);
  EXPECT_TRUE(find(out[4], 2).has_value());
  // Frames 5-7: A is occluded -> only B reported; A is lost, not removed.
  for (int f = 5; f <= 7; ++f) {
    ASSERT_EQ(out[static_cast<std::size_t>(f)].size(), 1u) << f;
    EXPECT_EQ(out[static_cast<std::size_t>(f)][0].id, 2) << f;
  }
  // Frame 8: A re-found with its old id, where it really is.
  auto a8 = find(out[8], 1);
  ASSERT_TRUE(a8.has_value());
  EXPECT_GT(iou(a8->box, det(180, 100, 1).box), 0.7f);
  // Frame 10: the low-score detection keeps A alive (second association).
  auto a10 = find(out[10], 1);
  ASSERT_TRUE(a10.has_value());
  EXPECT_FLOAT_EQ(a10->score, 0.3f);
  // The spurious frame-6 detection never became a track and consumed no id:
  // C (frame 11) is confirmed on frame 12 as id 3.
  EXPECT_FALSE(find(out[11], 3).has_value());
  auto c12 = find(out[12], 3);
  ASSERT_TRUE(c12.has_value());
  EXPECT_GT(iou(c12->box, det(200, 500, 1, 80, 40).box), 0.9f);
  ASSERT_EQ(out[13].size(), 3u);
  for (const auto& frame : out)
    for (const Track& t : frame) EXPECT_LE(t.id, 3);
  // A's track follows the object on every frame it is reported.
  for (int f : {0, 1, 2, 3, 4, 9, 11, 12, 13}) {
    auto a = find(out[static_cast<std::size_t>(f)], 1);
    ASSERT_TRUE(a.has_value()) << f;
    EXPECT_GT(iou(a->box, det(100.0f + 10.0f * static_cast<float>(f), 100, 1).box), 0.7f) << f;
  }
}

TEST(ByteTrack, LostTrackExpiresAfterMaxAge) {
  ByteTrackConfig cfg;
  cfg.max_age = 2;
  ByteTracker tracker(cfg);
  for (int f = 0; f < 3; ++f) (void)tracker.update(std::vector<Detection>{det(100, 100, 0.9f)});
  for (int f = 0; f < 2; ++f) (void)tracker.update({});
  EXPECT_EQ(tracker.lost_tracks().size(), 1u);
  (void)tracker.update({});  // lost 3 frames > max_age
  EXPECT_TRUE(tracker.lost_tracks().empty());
  // Like the reference, an expired track stays matchable for one more frame;
  // after that it is gone.
  (void)tracker.update({});
  // Reappearing: a new track, tentative first, then id 2.
  EXPECT_TRUE(tracker.update(std::vector<Detection>{det(100, 100, 0.9f)}).empty());
  auto t = tracker.update(std::vector<Detection>{det(100, 100, 0.9f)});
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].id, 2);
}

TEST(ByteTrack, TwoCrossingObjectsKeepTheirIds) {
  // Two objects moving towards each other vertically offset enough that the
  // Kalman prediction disambiguates them.
  ByteTracker tracker;
  int id_left = -1, id_right = -1;
  for (int f = 0; f < 12; ++f) {
    const float lx = 100.0f + 15.0f * static_cast<float>(f);
    const float rx = 400.0f - 15.0f * static_cast<float>(f);
    auto out = tracker.update(std::vector<Detection>{det(lx, 100, 0.9f), det(rx, 180, 0.9f)});
    ASSERT_EQ(out.size(), 2u) << f;
    for (const Track& t : out) {
      const bool is_left = iou(t.box, det(lx, 100, 1).box) > 0.5f;
      if (f == 0) (is_left ? id_left : id_right) = t.id;
      else EXPECT_EQ(t.id, is_left ? id_left : id_right) << f;
    }
  }
  EXPECT_NE(id_left, id_right);
}

}  // namespace
}  // namespace aegisrt::vision
