// ByteTracker against the reference ByteTrack (PyPI `bytetracker` 0.3.2, a
// packaging of ifzhang/ByteTrack's BYTETracker) on recorded detection
// sequences: tests/data/tracking/*.json, written by
// python/gen_tracking_reference.py (crossings, an occlusion, low-score
// detections, clutter, a one-frame flicker, track expiry). Same settings
// (track_thresh, match_thresh, track_buffer, frame_rate); every frame must
// give the same tracks with boxes within 1e-3 px.
//
// Ids: the reference numbers every birth, including tracks that are never
// confirmed (a one-frame flicker spends an id), and reports only confirmed
// ones; ours numbers at confirmation, so its ids have no gaps. The test
// therefore requires one consistent, order-preserving, one-to-one relabelling
// over the whole sequence (and, where the reference has no gaps, identity).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aegisrt/vision/tracking.h"

namespace aegisrt::vision {
namespace {

nlohmann::json load(const std::string& name) {
  std::ifstream f(std::string(AEGISRT_SOURCE_DIR) + "/tests/data/tracking/" + name + ".json");
  EXPECT_TRUE(f.good()) << name;
  return nlohmann::json::parse(f);
}

struct Outcome {
  int frames_compared = 0;
  int ref_tracks = 0;
  std::map<int, int> ref_to_ours;
};

Outcome compare(const std::string& name) {
  const auto doc = load(name);
  const auto& st = doc.at("settings");
  const ByteTrackConfig cfg = byte_track_reference_config(
      st.at("track_thresh").get<float>(), st.at("match_thresh").get<float>(), st.at("track_buffer").get<int>(),
      st.at("frame_rate").get<double>());
  ByteTracker tracker(cfg);
  Outcome o;
  std::map<int, int> ours_to_ref;
  int f = 0;
  for (const auto& fr : doc.at("frames")) {
    std::vector<Detection> dets;
    for (const auto& d : fr.at("detections")) {
      Detection det;
      const auto& b = d.at("box");
      det.box = Box{b[0].get<float>(), b[1].get<float>(), b[2].get<float>(), b[3].get<float>()};
      det.score = d.at("score").get<float>();
      dets.push_back(det);
    }
    const auto got = tracker.update(dets);
    const auto& want = fr.at("tracks");
    EXPECT_EQ(got.size(), want.size()) << name << " frame " << f;
    if (got.size() != want.size()) return o;
    // Both sorted by id; the relabelling is order-preserving, so they pair up in order.
    for (std::size_t i = 0; i < got.size(); ++i) {
      const int rid = want[i].at("id").get<int>();
      const auto [it, fresh] = o.ref_to_ours.emplace(rid, got[i].id);
      EXPECT_EQ(it->second, got[i].id) << name << " frame " << f << ": reference id " << rid;
      const auto [it2, fresh2] = ours_to_ref.emplace(got[i].id, rid);
      EXPECT_EQ(it2->second, rid) << name << " frame " << f << ": our id " << got[i].id;
      const auto& b = want[i].at("box");
      const float ob[4] = {got[i].box.x1, got[i].box.y1, got[i].box.x2, got[i].box.y2};
      for (int k = 0; k < 4; ++k)
        EXPECT_NEAR(ob[k], b[static_cast<std::size_t>(k)].get<double>(), 1e-3)
            << name << " frame " << f << " reference id " << rid << " coord " << k;
      ++o.ref_tracks;
    }
    ++f;
    ++o.frames_compared;
  }
  // Order-preserving: ascending reference ids map to ascending ids of ours.
  int prev = 0;
  for (const auto& [rid, oid] : o.ref_to_ours) {
    EXPECT_GT(oid, prev) << name << ": relabelling not order-preserving at reference id " << rid;
    prev = oid;
  }
  return o;
}

TEST(ByteTrackReference, CrossingsOcclusionLowScoresAndFlicker) {
  const Outcome o = compare("crossing_occlusion");
  EXPECT_EQ(o.frames_compared, 60);
  EXPECT_GT(o.ref_tracks, 200);
  // Reference ids 1-4 (first frame), 5 spent on the unconfirmed flicker, 6
  // for the late object: ours are 1..5.
  const std::map<int, int> expected{{1, 1}, {2, 2}, {3, 3}, {4, 4}, {6, 5}};
  EXPECT_EQ(o.ref_to_ours, expected);
}

TEST(ByteTrackReference, ExpiryAndTheLingeringFrame) {
  const Outcome o = compare("expiry");
  EXPECT_EQ(o.frames_compared, 40);
  // No unconfirmed births here: the numbering is the same.
  const std::map<int, int> expected{{1, 1}, {2, 2}, {3, 3}};
  EXPECT_EQ(o.ref_to_ours, expected);
}

}  // namespace
}  // namespace aegisrt::vision
