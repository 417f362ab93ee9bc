// YOLO v8/v11 decode and NMS.
#include "aegisrt/vision/detection.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "vision/tensor_access.h"
#include "vision/yolo_decode.h"

namespace aegisrt::vision {

std::vector<Detection> nms(std::vector<Detection> detections, float iou_threshold,
                           int max_detections, bool class_agnostic) {
  std::vector<std::size_t> order(detections.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return detections[a].score > detections[b].score;
  });
  std::vector<Detection> kept;
  const std::size_t limit = max_detections > 0 ? static_cast<std::size_t>(max_detections)
                                               : detections.size();
  for (std::size_t idx : order) {
    if (kept.size() >= limit) break;
    const Detection& d = detections[idx];
    bool suppressed = false;
    for (const Detection& k : kept) {
      if (!class_agnostic && k.class_id != d.class_id) continue;
      if (iou(k.box, d.box) > iou_threshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push_back(d);
  }
  return kept;
}

Result<std::vector<Detection>> decode_yolo(const TensorView& output, const YoloDecodeConfig& config,
                                           const LetterboxTransform& transform,
                                           std::int64_t batch_index) {
  const std::string what = "detection output";
  AEGIS_TRY(detail::check_float_output(output, what));
  if (output.rank() != 3) {
    return Error(ErrorCode::InvalidArgument,
                 what + " has shape " + shape_to_string(output.shape()) + ", expected [B, 4+C, N]");
  }
  const Shape& s = output.shape();
  const Shape& st = output.strides();
  const bool first = config.layout == YoloLayout::ChannelsFirst;
  const std::int64_t channels = first ? s[1] : s[2];
  const std::int64_t n = first ? s[2] : s[1];
  const std::int64_t ch_stride = first ? st[1] : st[2];
  const std::int64_t n_stride = first ? st[2] : st[1];
  if (channels < 5) {
    return Error(ErrorCode::InvalidArgument,
                 what + " has shape " + shape_to_string(s) + ": " + std::to_string(channels) +
                     " channels, expected 4 box values + at least 1 class score" +
                     (first ? " (layout [B, 4+C, N])" : " (layout [B, N, 4+C])"));
  }
  if (batch_index < 0 || batch_index >= s[0]) {
    return Error(ErrorCode::InvalidArgument, what + ": batch index " + std::to_string(batch_index) +
                                                 " out of range for shape " + shape_to_string(s));
  }
  AEGIS_TRY(detail::check_yolo_transform(transform));
  const std::int64_t base = batch_index * st[0];
  const std::int64_t classes = channels - 4;

  // Best class per anchor. For a float32 [B, 4+C, N] output with contiguous
  // anchors (what v8/v11 exports give) the scan goes class by class over
  // contiguous rows (vectorisable, cache-friendly; YOLOv8n's anchor-major
  // decode took 2.7 ms p50 on the H100 host, docs/PERFORMANCE.md); otherwise
  // anchor by anchor. Both keep
  // the first class of the highest score (strict >) and never pick a NaN.
  std::vector<float> best_score(static_cast<std::size_t>(n), -1.0f);
  std::vector<int> best_cls(static_cast<std::size_t>(n), 0);
  if (output.dtype() == DType::Float32 && n_stride == 1) {
    const float* data = output.data_as<float>() + base;
    float* bs = best_score.data();
    int* bc = best_cls.data();
    for (std::int64_t c = 0; c < classes; ++c) {
      const float* row = data + (4 + c) * ch_stride;
      const int cls = static_cast<int>(c);
      for (std::int64_t i = 0; i < n; ++i) {
        const bool better = row[i] > bs[i];
        bs[i] = better ? row[i] : bs[i];
        bc[i] = better ? cls : bc[i];
      }
    }
  } else {
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t at = base + i * n_stride;
      for (std::int64_t c = 0; c < classes; ++c) {
        const float v = detail::load(output, at + (4 + c) * ch_stride);
        if (v > best_score[static_cast<std::size_t>(i)]) {
          best_score[static_cast<std::size_t>(i)] = v;
          best_cls[static_cast<std::size_t>(i)] = static_cast<int>(c);
        }
      }
    }
  }

  std::vector<Detection> candidates;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t at = base + i * n_stride;
    const float best = best_score[static_cast<std::size_t>(i)];
    const int best_class = best_cls[static_cast<std::size_t>(i)];
    if (!(best >= config.conf_threshold)) continue;  // also drops NaN
    const float cx = detail::load(output, at);
    const float cy = detail::load(output, at + ch_stride);
    const float w = detail::load(output, at + 2 * ch_stride);
    const float h = detail::load(output, at + 3 * ch_stride);
    candidates.push_back({Box::from_center(cx, cy, w, h), best, best_class});
  }
  return detail::finish_yolo_decode(std::move(candidates), config, transform);
}

namespace detail {

Result<void> check_yolo_transform(const LetterboxTransform& transform) {
  if (transform.scale_x <= 0.0f || transform.scale_y <= 0.0f) {
    return Error(ErrorCode::InvalidArgument, "letterbox transform has a non-positive scale");
  }
  return {};
}

std::vector<Detection> finish_yolo_decode(std::vector<Detection> candidates, const YoloDecodeConfig& config,
                                          const LetterboxTransform& transform) {
  if (config.max_candidates > 0 &&
      candidates.size() > static_cast<std::size_t>(config.max_candidates)) {
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Detection& a, const Detection& b) { return a.score > b.score; });
    candidates.resize(static_cast<std::size_t>(config.max_candidates));
  }
  // NMS in model space (as Ultralytics does), then map the survivors back.
  std::vector<Detection> kept =
      nms(std::move(candidates), config.iou_threshold, config.max_detections, config.class_agnostic);
  const auto W = static_cast<float>(transform.src_width);
  const auto H = static_cast<float>(transform.src_height);
  for (Detection& d : kept) d.box = transform.to_original(d.box).clipped(W, H);
  return kept;
}

std::optional<std::vector<Detection>> decode_yolo_candidates(std::span<YoloCandidate> written, std::uint32_t count,
                                                             const YoloDecodeConfig& config,
                                                             const LetterboxTransform& transform) {
  if (count > written.size()) return std::nullopt;  // the kernel dropped some: decode on the host
  const std::span<YoloCandidate> found = written.first(count);
  // Anchor order, as decode_yolo's own scan collects them (anchors are unique).
  std::sort(found.begin(), found.end(),
            [](const YoloCandidate& a, const YoloCandidate& b) { return a.anchor < b.anchor; });
  std::vector<Detection> candidates;
  candidates.reserve(found.size());
  for (const YoloCandidate& c : found) {
    candidates.push_back({Box::from_center(c.cx, c.cy, c.w, c.h), c.score, static_cast<int>(c.class_id)});
  }
  return finish_yolo_decode(std::move(candidates), config, transform);
}

}  // namespace detail

}  // namespace aegisrt::vision
