// ByteTrack: Kalman filter, Hungarian assignment and the two-stage
// association, following the reference implementation (ifzhang/ByteTrack,
// yolox/tracker/byte_tracker.py) except where noted.
#include "aegisrt/vision/tracking.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace aegisrt::vision {
namespace {

// ---- Kalman filter on (cx, cy, a, h, vcx, vcy, va, vh), unit time step ----
// Double precision throughout, like the reference's numpy filter.
using Vec8 = std::array<double, 8>;
using Mat8 = std::array<double, 64>;
constexpr double kStdPos = 1.0 / 20.0;
constexpr double kStdVel = 1.0 / 160.0;

constexpr std::size_t ix(int i) { return static_cast<std::size_t>(i); }

std::array<double, 4> to_xyah(const Box& b) {
  const double w = static_cast<double>(b.x2) - b.x1;
  const double h = static_cast<double>(b.y2) - b.y1;
  return {b.x1 + w / 2.0, b.y1 + h / 2.0, h > 0.0 ? w / h : 0.0, h};
}

// (x1, y1, x2, y2) in double from the state (the reference's tlwh -> tlbr).
std::array<double, 4> tlbr(const Vec8& m) {
  const double w = m[2] * m[3];
  const double x1 = m[0] - w / 2.0, y1 = m[1] - m[3] / 2.0;
  return {x1, y1, x1 + w, y1 + m[3]};
}

Box from_mean(const Vec8& m) {
  const auto b = tlbr(m);
  return Box{static_cast<float>(b[0]), static_cast<float>(b[1]), static_cast<float>(b[2]),
             static_cast<float>(b[3])};
}

void kf_initiate(const Box& det, Vec8& mean, Mat8& cov) {
  const auto z = to_xyah(det);
  mean = {z[0], z[1], z[2], z[3], 0, 0, 0, 0};
  const double h = z[3];
  const Vec8 sd{2 * kStdPos * h, 2 * kStdPos * h, 1e-2, 2 * kStdPos * h,
                10 * kStdVel * h, 10 * kStdVel * h, 1e-5, 10 * kStdVel * h};
  cov.fill(0.0);
  for (int i = 0; i < 8; ++i) cov[ix(i * 9)] = sd[ix(i)] * sd[ix(i)];
}

void kf_predict(Vec8& mean, Mat8& cov) {
  const double h = mean[3];
  const Vec8 sd{kStdPos * h, kStdPos * h, 1e-2, kStdPos * h, kStdVel * h, kStdVel * h, 1e-5, kStdVel * h};
  for (int i = 0; i < 4; ++i) mean[ix(i)] += mean[ix(i + 4)];
  // cov = F cov F^T + Q with F = [I I; 0 I].
  Mat8 t{};  // F * cov
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 8; ++c) {
      double v = cov[ix(r * 8 + c)];
      if (r < 4) v += cov[ix((r + 4) * 8 + c)];
      t[ix(r * 8 + c)] = v;
    }
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 8; ++c) {
      double v = t[ix(r * 8 + c)];
      if (c < 4) v += t[ix(r * 8 + c + 4)];
      cov[ix(r * 8 + c)] = v;
    }
  for (int i = 0; i < 8; ++i) cov[ix(i * 9)] += sd[ix(i)] * sd[ix(i)];
}

/// Inverse of a symmetric positive definite 4x4 (Gauss-Jordan with partial
/// pivoting; S is small and well conditioned here). False if singular.
bool invert4(std::array<double, 16> m, std::array<double, 16>& inv) {
  inv.fill(0.0);
  for (int i = 0; i < 4; ++i) inv[static_cast<std::size_t>(i * 5)] = 1.0;
  for (int col = 0; col < 4; ++col) {
    int piv = col;
    for (int r = col + 1; r < 4; ++r)
      if (std::abs(m[static_cast<std::size_t>(r * 4 + col)]) > std::abs(m[static_cast<std::size_t>(piv * 4 + col)])) piv = r;
    if (std::abs(m[static_cast<std::size_t>(piv * 4 + col)]) < 1e-12) return false;
    if (piv != col)
      for (int c = 0; c < 4; ++c) {
        std::swap(m[static_cast<std::size_t>(piv * 4 + c)], m[static_cast<std::size_t>(col * 4 + c)]);
        std::swap(inv[static_cast<std::size_t>(piv * 4 + c)], inv[static_cast<std::size_t>(col * 4 + c)]);
      }
    const double d = m[static_cast<std::size_t>(col * 5)];
    for (int c = 0; c < 4; ++c) {
      m[static_cast<std::size_t>(col * 4 + c)] /= d;
      inv[static_cast<std::size_t>(col * 4 + c)] /= d;
    }
    for (int r = 0; r < 4; ++r) {
      if (r == col) continue;
      const double f = m[static_cast<std::size_t>(r * 4 + col)];
      if (f == 0.0) continue;
      for (int c = 0; c < 4; ++c) {
        m[static_cast<std::size_t>(r * 4 + c)] -= f * m[static_cast<std::size_t>(col * 4 + c)];
        inv[static_cast<std::size_t>(r * 4 + c)] -= f * inv[static_cast<std::size_t>(col * 4 + c)];
      }
    }
  }
  return true;
}

void kf_update(Vec8& mean, Mat8& cov, const Box& det) {
  const auto z = to_xyah(det);
  const double h = mean[3];
  const std::array<double, 4> sd{kStdPos * h, kStdPos * h, 1e-1, kStdPos * h};
  // S = H cov H^T + R (top-left 4x4 block plus measurement noise).
  std::array<double, 16> S{};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) S[ix(r * 4 + c)] = cov[ix(r * 8 + c)];
  for (int i = 0; i < 4; ++i) S[ix(i * 5)] += sd[ix(i)] * sd[ix(i)];
  std::array<double, 16> Si{};
  if (!invert4(S, Si)) return;  // degenerate box: keep the prediction
  // K = cov H^T S^-1 (8x4); cov H^T = first 4 columns of cov.
  std::array<double, 32> K{};
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 4; ++c) {
      double v = 0.0;
      for (int k = 0; k < 4; ++k) v += cov[ix(r * 8 + k)] * Si[ix(k * 4 + c)];
      K[ix(r * 4 + c)] = v;
    }
  std::array<double, 4> innov{};
  for (int i = 0; i < 4; ++i) innov[ix(i)] = z[ix(i)] - mean[ix(i)];
  for (int r = 0; r < 8; ++r) {
    double v = 0.0;
    for (int c = 0; c < 4; ++c) v += K[ix(r * 4 + c)] * innov[ix(c)];
    mean[ix(r)] += v;
  }
  // cov -= K S K^T  (== K (H cov)), H cov = first 4 rows of cov.
  Mat8 nc = cov;
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 8; ++c) {
      double v = 0.0;
      for (int k = 0; k < 4; ++k) v += K[ix(r * 4 + k)] * cov[ix(k * 8 + c)];
      nc[ix(r * 8 + c)] = cov[ix(r * 8 + c)] - v;
    }
  cov = nc;
}

// ---- association helpers ----
using State = ByteTracker::State;

// IoU of (x1, y1, x2, y2) boxes with `off` added to widths and heights (the
// reference's cython_bbox uses inclusive pixels: off = 1).
double iou_d(const std::array<double, 4>& a, const std::array<double, 4>& b, double off) {
  const double iw = std::min(a[2], b[2]) - std::max(a[0], b[0]) + off;
  if (iw <= 0) return 0.0;
  const double ih = std::min(a[3], b[3]) - std::max(a[1], b[1]) + off;
  if (ih <= 0) return 0.0;
  const double ua = (a[2] - a[0] + off) * (a[3] - a[1] + off) + (b[2] - b[0] + off) * (b[3] - b[1] + off) - iw * ih;
  return ua > 0 ? iw * ih / ua : 0.0;
}

std::array<double, 4> det_box(const Detection& d) { return {d.box.x1, d.box.y1, d.box.x2, d.box.y2}; }

std::vector<float> iou_cost(const std::vector<State*>& tracks, const std::vector<const Detection*>& dets,
                            bool fuse, double off) {
  std::vector<float> cost(tracks.size() * dets.size());
  for (std::size_t i = 0; i < tracks.size(); ++i) {
    const auto tb = tlbr(tracks[i]->mean);
    for (std::size_t j = 0; j < dets.size(); ++j) {
      double sim = iou_d(tb, det_box(*dets[j]), off);
      if (fuse) sim *= static_cast<double>(dets[j]->score);
      cost[i * dets.size() + j] = static_cast<float>(1.0 - sim);
    }
  }
  return cost;
}

}  // namespace

std::vector<int> linear_assignment(std::span<const float> cost, int rows, int cols,
                                   float cost_limit) {
  std::vector<int> result(static_cast<std::size_t>(std::max(rows, 0)), -1);
  if (rows <= 0 || cols <= 0 || cost.size() != static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols)) {
    return result;
  }
  // Square (rows + cols) problem: real block, "leave unmatched" slots at
  // cost_limit / 2 each, dummy-dummy block at 0. A real pair is then only
  // worth making when it costs <= cost_limit (lap.lapjv's extend_cost).
  const int n = rows + cols;
  const double half = static_cast<double>(cost_limit) / 2.0;
  auto at = [&](int i, int j) -> double {  // 0-based
    if (i < rows && j < cols) {
      const float c = cost[static_cast<std::size_t>(i) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(j)];
      return std::isfinite(c) ? static_cast<double>(c) : static_cast<double>(cost_limit) + 1.0;
    }
    if (i >= rows && j >= cols) return 0.0;
    return half;
  };
  // Kuhn-Munkres with potentials, O(n^3); 1-based arrays, p[j] = row matched to column j.
  const double inf = std::numeric_limits<double>::infinity();
  const auto un = static_cast<std::size_t>(n) + 1;
  std::vector<double> u(un, 0.0), v(un, 0.0);
  std::vector<int> p(un, 0), way(un, 0);
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    std::vector<double> minv(un, inf);
    std::vector<char> used(un, 0);
    do {
      used[static_cast<std::size_t>(j0)] = 1;
      const int i0 = p[static_cast<std::size_t>(j0)];
      double delta = inf;
      int j1 = 0;
      for (int j = 1; j <= n; ++j) {
        const auto uj = static_cast<std::size_t>(j);
        if (used[uj]) continue;
        const double cur = at(i0 - 1, j - 1) - u[static_cast<std::size_t>(i0)] - v[uj];
        if (cur < minv[uj]) {
          minv[uj] = cur;
          way[uj] = j0;
        }
        if (minv[uj] < delta) {
          delta = minv[uj];
          j1 = j;
        }
      }
      for (int j = 0; j <= n; ++j) {
        const auto uj = static_cast<std::size_t>(j);
        if (used[uj]) {
          u[static_cast<std::size_t>(p[uj])] += delta;
          v[uj] -= delta;
        } else {
          minv[uj] -= delta;
        }
      }
      j0 = j1;
    } while (p[static_cast<std::size_t>(j0)] != 0);
    do {
      const int j1 = way[static_cast<std::size_t>(j0)];
      p[static_cast<std::size_t>(j0)] = p[static_cast<std::size_t>(j1)];
      j0 = j1;
    } while (j0 != 0);
  }
  for (int j = 1; j <= cols; ++j) {
    const int i = p[static_cast<std::size_t>(j)] - 1;
    if (i >= 0 && i < rows && at(i, j - 1) <= static_cast<double>(cost_limit)) {
      result[static_cast<std::size_t>(i)] = j - 1;
    }
  }
  return result;
}

ByteTracker::ByteTracker(ByteTrackConfig config) : config_(config) {}

void ByteTracker::reset() {
  frame_id_ = 0;
  next_id_ = 1;
  tracked_.clear();
  lost_.clear();
}

std::vector<Track> ByteTracker::lost_tracks() const {
  std::vector<Track> out;
  for (const State& s : lost_)
    if (s.track.state == TrackState::Lost) out.push_back(s.track);
  return out;
}

ByteTrackConfig byte_track_reference_config(float track_thresh, float match_thresh, int track_buffer,
                                            double frame_rate) {
  ByteTrackConfig c;
  c.track_high_thresh = track_thresh;
  c.track_low_thresh = 0.1f;
  c.new_track_thresh = static_cast<float>(static_cast<double>(track_thresh) + 0.1);
  c.match_thresh = match_thresh;
  c.max_age = static_cast<int>(frame_rate / 30.0 * track_buffer);
  return c;
}

// Long on purpose: this is the reference ByteTracker.update() (yolox/tracker/
// byte_tracker.py) step by step, in its order (predict, high match, low match,
// unconfirmed, births, expiry, list rebuild, duplicate removal), so the two can
// be read side by side; the golden tracking tests compare ids frame by frame.
std::vector<Track> ByteTracker::update(std::span<const Detection> detections) {
  ++frame_id_;
  const int frame = frame_id_;
  const double off = static_cast<double>(config_.box_pixel_offset);

  // High: score > high; low: low < score < high (a score equal to the high
  // threshold takes part in neither, as in the reference).
  std::vector<const Detection*> high, low;
  for (const Detection& d : detections) {
    if (d.score > config_.track_high_thresh) high.push_back(&d);
    else if (d.score > config_.track_low_thresh && d.score < config_.track_high_thresh) low.push_back(&d);
  }

  auto apply = [&](State& s, const Detection& d) {
    kf_update(s.mean, s.covariance, d.box);
    s.track.state = TrackState::Tracked;
    s.track.score = d.score;
    s.track.class_id = d.class_id;
    s.track.hits += 1;
    s.end_frame = frame;
    s.expired_frame = 0;
    if (!s.activated) {
      s.activated = true;
      // Ids are handed out on confirmation, so one-frame flickers never
      // consume an id (ByteTrack numbers every birth; ids then have gaps).
      if (s.track.id == 0) s.track.id = next_id_++;
    }
  };

  // Pool = confirmed tracked + lost (including one expired last frame, which
  // the reference still matches); unconfirmed (born last frame) separate and,
  // as in the reference, not predicted.
  std::vector<State*> pool, unconfirmed;
  for (State& s : tracked_) (s.activated ? pool : unconfirmed).push_back(&s);
  for (State& s : lost_) pool.push_back(&s);
  for (State* s : pool) {
    if (s->track.state != TrackState::Tracked) s->mean[7] = 0.0;
    kf_predict(s->mean, s->covariance);
  }

  // 1) confirmed + lost tracks vs high-score detections.
  std::vector<char> high_used(high.size(), 0);
  std::vector<State*> remaining;  // pool tracks left unmatched
  {
    const auto cost = iou_cost(pool, high, config_.fuse_score, off);
    const auto match = linear_assignment(cost, static_cast<int>(pool.size()),
                                         static_cast<int>(high.size()), config_.match_thresh);
    for (std::size_t i = 0; i < pool.size(); ++i) {
      if (match[i] >= 0) {
        apply(*pool[i], *high[static_cast<std::size_t>(match[i])]);
        high_used[static_cast<std::size_t>(match[i])] = 1;
      } else {
        remaining.push_back(pool[i]);
      }
    }
  }
  // 2) still-tracked (not lost) leftovers vs low-score detections.
  std::vector<State*> newly_lost;
  {
    std::vector<State*> r_tracked;
    for (State* s : remaining)
      if (s->track.state == TrackState::Tracked) r_tracked.push_back(s);
    const auto cost = iou_cost(r_tracked, low, false, off);
    const auto match = linear_assignment(cost, static_cast<int>(r_tracked.size()),
                                         static_cast<int>(low.size()), config_.second_match_thresh);
    for (std::size_t i = 0; i < r_tracked.size(); ++i) {
      if (match[i] >= 0) {
        apply(*r_tracked[i], *low[static_cast<std::size_t>(match[i])]);
      } else {
        r_tracked[i]->track.state = TrackState::Lost;
        newly_lost.push_back(r_tracked[i]);
      }
    }
  }
  // 3) unconfirmed tracks vs the high-score detections nobody took.
  std::vector<const Detection*> rest;
  for (std::size_t j = 0; j < high.size(); ++j)
    if (!high_used[j]) rest.push_back(high[j]);
  std::vector<char> rest_used(rest.size(), 0);
  {
    const auto cost = iou_cost(unconfirmed, rest, config_.fuse_score, off);
    const auto match = linear_assignment(cost, static_cast<int>(unconfirmed.size()),
                                         static_cast<int>(rest.size()), config_.unconfirmed_match_thresh);
    for (std::size_t i = 0; i < unconfirmed.size(); ++i) {
      if (match[i] >= 0) {
        apply(*unconfirmed[i], *rest[static_cast<std::size_t>(match[i])]);
        rest_used[static_cast<std::size_t>(match[i])] = 1;
      } else {
        unconfirmed[i]->track.state = TrackState::Removed;
      }
    }
  }
  // 4) births. Tracks born on the first frame are confirmed at once.
  std::vector<State> born;
  for (std::size_t j = 0; j < rest.size(); ++j) {
    if (rest_used[j] || rest[j]->score < config_.new_track_thresh) continue;
    State s;
    kf_initiate(rest[j]->box, s.mean, s.covariance);
    s.track.score = rest[j]->score;
    s.track.class_id = rest[j]->class_id;
    s.track.state = TrackState::Tracked;
    s.track.start_frame = frame;
    s.track.hits = 1;
    s.end_frame = frame;
    if (frame == 1) {
      s.activated = true;
      s.track.id = next_id_++;
    }
    born.push_back(s);
  }
  // 5) expire lost tracks (those lost before this frame). The reference marks
  // them removed but drops them from its lost list only on the next frame, so
  // they can still be matched once more; an expired track not matched then
  // is dropped, and one re-found then is dropped the next time it is lost
  // (its id is on the reference's removed list).
  for (State& s : lost_) {
    if (s.track.state == TrackState::Tracked) continue;
    if (s.track.state == TrackState::Removed) {  // expired last frame, unmatched again: gone
      s.expired_frame = -1;
      continue;
    }
    if (frame - s.end_frame > config_.max_age) {
      s.track.state = TrackState::Removed;
      s.expired_frame = frame;
      s.ever_expired = true;
    }
  }

  // Rebuild the lists in the reference's order: tracked = old tracked still
  // tracked, births, re-found lost tracks; lost = old lost (minus re-found,
  // plus this frame's expired), then the newly lost.
  std::vector<State> tracked, lost;
  for (State& s : tracked_)
    if (s.track.state == TrackState::Tracked) tracked.push_back(s);
  for (State& s : born) tracked.push_back(s);
  for (State& s : lost_)
    if (s.track.state == TrackState::Tracked) tracked.push_back(s);
  for (State& s : lost_) {
    if (s.track.state == TrackState::Lost) lost.push_back(s);
    else if (s.track.state == TrackState::Removed && s.expired_frame == frame) lost.push_back(s);
  }
  for (State* s : newly_lost)
    if (!s->ever_expired) lost.push_back(*s);

  // Drop duplicates between tracked and lost (IoU > 0.85): keep the one
  // followed longer (last update - start, as the reference).
  std::vector<char> drop_t(tracked.size(), 0), drop_l(lost.size(), 0);
  for (std::size_t i = 0; i < tracked.size(); ++i)
    for (std::size_t j = 0; j < lost.size(); ++j) {
      if (1.0 - iou_d(tlbr(tracked[i].mean), tlbr(lost[j].mean), off) >= 0.15) continue;
      const int age_t = tracked[i].end_frame - tracked[i].track.start_frame;
      const int age_l = lost[j].end_frame - lost[j].track.start_frame;
      if (age_t > age_l) drop_l[j] = 1;
      else drop_t[i] = 1;
    }
  tracked_.clear();
  lost_.clear();
  for (std::size_t i = 0; i < tracked.size(); ++i)
    if (!drop_t[i]) tracked_.push_back(tracked[i]);
  for (std::size_t j = 0; j < lost.size(); ++j)
    if (!drop_l[j]) lost_.push_back(lost[j]);

  std::vector<Track> out;
  for (State& s : tracked_) {
    s.track.box = from_mean(s.mean);
    if (s.activated) out.push_back(s.track);
  }
  for (State& s : lost_) s.track.box = from_mean(s.mean);
  std::sort(out.begin(), out.end(), [](const Track& a, const Track& b) { return a.id < b.id; });
  return out;
}

}  // namespace aegisrt::vision
