// Multi-object tracking with ByteTrack (Zhang et al., 2022): a constant-
// velocity Kalman filter per track on (cx, cy, aspect, h), two-stage IoU
// association (high-score detections first, then low-score detections to the
// tracks still unmatched), track birth/confirmation/loss/removal, stable ids.
// Assignment is optimal (Hungarian / Kuhn-Munkres on the cost matrix extended
// with "unmatched" slots at cost limit / 2, like lap.lapjv(cost_limit=...)).
//
// Verified against the reference BYTETracker (ifzhang/ByteTrack, as packaged
// on PyPI by `bytetracker` 0.3.2) on recorded sequences with crossings,
// occlusions, low-score detections and track expiry: identical tracks and
// boxes within 1e-3 px (tests/vision/tracking_reference_test.cpp, data from
// python/gen_tracking_reference.py). To match it this tracker keeps the
// reference's details: Kalman filter in double precision, IoU with inclusive
// pixels (w = x2 - x1 + 1, cython_bbox), unconfirmed tracks not predicted, an
// expired lost track kept (and matchable) for one more frame, list orders.
// One documented difference: ids are handed out when a track is confirmed
// (the reference numbers every birth, so its ids have gaps where one-frame
// flickers were born); the two numberings map one to one, in the same order.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "aegisrt/vision/detection.h"
#include "aegisrt/vision/geometry.h"

namespace aegisrt::vision {

struct ByteTrackConfig {
  float track_high_thresh = 0.5f;  // detections >= this take part in the first association
  float track_low_thresh = 0.1f;   // (low, high) detections only in the second one
  float new_track_thresh = 0.6f;   // an unmatched detection >= this starts a track
  float match_thresh = 0.8f;       // first association: max cost (1 - IoU * score)
  float second_match_thresh = 0.5f;       // second association: max cost (1 - IoU)
  float unconfirmed_match_thresh = 0.7f;  // new tracks' second frame
  bool fuse_score = true;  // first association cost uses IoU * detection score
  int max_age = 30;        // frames a lost track is kept before removal
  /// Added to box width/height in IoU (1 = the reference's inclusive pixel
  /// convention for pixel boxes; 0 for continuous coordinates).
  float box_pixel_offset = 1.0f;
};

/// The reference BYTETracker(track_thresh, track_buffer, match_thresh,
/// frame_rate) settings: high = track_thresh, low = 0.1, new track =
/// track_thresh + 0.1, max_age = int(frame_rate / 30 * track_buffer).
ByteTrackConfig byte_track_reference_config(float track_thresh, float match_thresh, int track_buffer,
                                            double frame_rate);

enum class TrackState : std::uint8_t { New, Tracked, Lost, Removed };

/// What the tracker reports for one track.
struct Track {
  int id = 0;
  Box box;  // Kalman-filtered box after this frame's update
  float score = 0.0f;
  int class_id = 0;
  TrackState state = TrackState::New;
  int start_frame = 0;
  int hits = 0;  // frames with a matched detection
};

/// Minimum-cost assignment of a rows x cols cost matrix (row-major) where a
/// pair costing more than `cost_limit` is never made. Returns, per row, the
/// matched column or -1. Exposed for tests.
std::vector<int> linear_assignment(std::span<const float> cost, int rows, int cols,
                                   float cost_limit);

class ByteTracker {
 public:
  explicit ByteTracker(ByteTrackConfig config = {});

  /// Advances one frame. Returns the confirmed, currently tracked tracks
  /// (ids stable across frames, sorted by id).
  std::vector<Track> update(std::span<const Detection> detections);

  [[nodiscard]] int frame() const noexcept { return frame_id_; }
  /// Tracks lost but not yet removed.
  [[nodiscard]] std::vector<Track> lost_tracks() const;
  void reset();

  /// Internal per-track state (exposed only so it can live in a vector here).
  struct State {
    Track track;
    std::array<double, 8> mean{};         // cx, cy, a, h, vcx, vcy, va, vh
    std::array<double, 64> covariance{};  // 8x8 row-major
    bool activated = false;
    int end_frame = 0;
    int expired_frame = 0;  // frame it expired in (kept one more frame, as the reference does)
    bool ever_expired = false;  // re-found after expiring: dropped as soon as it is lost again (reference)
  };

 private:
  ByteTrackConfig config_;
  int frame_id_ = 0;
  int next_id_ = 1;
  std::vector<State> tracked_;  // New (unconfirmed) and Tracked
  std::vector<State> lost_;
};

}  // namespace aegisrt::vision
