// OutputDecoder selection and the helpers the decoders share.
#include "pipeline/decoders/decoder.h"
#include "pipeline/sam.h"
#include "pipeline/florence.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "vision/tensor_access.h"

namespace aegisrt::pipeline::detail {

using models::OutputLayout;

Result<std::unique_ptr<OutputDecoder>> make_decoder(const DecoderSetup& setup) {
  const auto& rv = setup.variant;
  const std::string who = rv.model + "/" + rv.variant;
  if (rv.input.type == models::InputType::Detections) {
    return Error(ErrorCode::Unsupported,
                 who + " consumes detections, not images: it is the tracker itself; run a "
                       "detector with tracking instead, e.g. `aegisrt run --model yolo --track "
                       "--input FRAMES_DIR`");
  }
  const bool depth = rv.output.layout == OutputLayout::RelativeInverseDepth ||
                     rv.output.layout == OutputLayout::MetricDepth;
  if (rv.input.preprocessing && rv.input.preprocessing->border && !depth) {
    return Error(ErrorCode::Unsupported,
                 who + ": input.preprocessing.border is removed from depth maps only (layouts "
                       "relative_inverse_depth, metric_depth); the " +
                       std::string(models::to_string(rv.output.layout)) + " decoder would misplace its output");
  }
  switch (rv.output.layout) {
    case OutputLayout::YoloV8: return make_yolo_v8_decoder(setup);
    case OutputLayout::YoloV8Seg: return make_yolo_v8_seg_decoder(setup);
    case OutputLayout::YoloV8Pose: return make_yolo_v8_pose_decoder(setup);
    case OutputLayout::RelativeInverseDepth:
    case OutputLayout::MetricDepth: return make_depth_decoder(setup);
    case OutputLayout::SimCC: return make_simcc_decoder(setup);
    case OutputLayout::SamMasks: return make_sam_decoder(setup);
    case OutputLayout::GroundingDino: return make_grounding_dino_decoder(setup);
    case OutputLayout::Seq2SeqTokens: return make_florence_decoder(setup);
    default:
      return Error(ErrorCode::Unsupported,
                   "the pipeline cannot post-process " + who + "'s output (type " +
                       std::string(models::to_string(rv.output.type)) + ", layout " +
                       std::string(models::to_string(rv.output.layout)) +
                       "); supported layouts: yolov8 (detections), yolo_v8_seg (segmentation), "
                       "yolo_v8_pose and simcc (keypoints), relative_inverse_depth and "
                       "metric_depth (depth_map), sam_masks (segmentation), grounding_dino (text-prompted "
                       "detections), seq2seq_tokens (Florence-2 text and boxes). Use `aegisrt exec` to run the raw model");
  }
}

Result<const Tensor*> output_at(const ExecutionResult& out, const models::ResolvedVariant& rv,
                                std::size_t i) {
  if (i < rv.output.fields.size()) {
    if (const Tensor* t = out.find(rv.output.fields[i].name)) return t;
  }
  if (out.outputs.empty()) return Error(ErrorCode::BackendError, "the model produced no outputs");
  return &out.outputs[std::min(i, out.outputs.size() - 1)];
}

Result<const Tensor*> output_of_rank(const ExecutionResult& out, std::size_t rank, std::string_view what) {
  for (const auto& t : out.outputs) {
    if (t.shape().size() == rank) return &t;
  }
  std::string have;
  for (const auto& t : out.outputs) have += (have.empty() ? "" : ", ") + t.name() + " " + shape_to_string(t.shape());
  return Error(ErrorCode::InvalidArgument, "the model has no rank-" + std::to_string(rank) + " output for the " +
                                               std::string(what) + " (outputs: " +
                                               (have.empty() ? std::string("none") : have) + ")");
}

Result<vision::YoloDecodeConfig> yolo_config(const DecoderSetup& setup) {
  vision::YoloDecodeConfig y;
  const auto& pp = setup.variant.postprocessing;
  const auto& o = setup.options;
  if (pp.confidence_threshold) y.conf_threshold = static_cast<float>(*pp.confidence_threshold);
  if (pp.nms_iou_threshold) y.iou_threshold = static_cast<float>(*pp.nms_iou_threshold);
  if (pp.max_detections) y.max_detections = *pp.max_detections;
  if (o.confidence_threshold) y.conf_threshold = *o.confidence_threshold;
  if (o.iou_threshold) y.iou_threshold = *o.iou_threshold;
  if (o.max_detections) y.max_detections = *o.max_detections;
  if (!(y.conf_threshold >= 0.0f && y.conf_threshold <= 1.0f) ||
      !(y.iou_threshold >= 0.0f && y.iou_threshold <= 1.0f)) {
    return Error(ErrorCode::InvalidArgument, "confidence and IoU thresholds must be within [0, 1]");
  }
  return y;
}

std::string class_name(const std::vector<std::string>& names, int class_id) {
  if (class_id >= 0 && static_cast<std::size_t>(class_id) < names.size()) {
    return names[static_cast<std::size_t>(class_id)];
  }
  return "class_" + std::to_string(class_id);
}

Json box_json(const vision::Box& b) { return Json{{"x1", b.x1}, {"y1", b.y1}, {"x2", b.x2}, {"y2", b.y2}}; }

Json thresholds_json(const vision::YoloDecodeConfig& cfg, float confidence) {
  return Json{{"confidence", confidence}, {"iou", cfg.iou_threshold}, {"max_detections", cfg.max_detections}};
}

Json detection_json(const vision::Detection& d, const std::vector<std::string>& names) {
  return Json{{"class_id", d.class_id}, {"class_name", class_name(names, d.class_id)}, {"score", d.score},
              {"box", box_json(d.box)}};
}

DrawStyle DrawStyle::for_image(const vision::Image& image) {
  DrawStyle s;
  s.thickness = std::max(2, std::min(image.width(), image.height()) / 250);
  s.text_scale = std::max(1, std::min(image.width(), image.height()) / 300);
  return s;
}

void draw_box(vision::Image& out, const vision::Box& b, vision::Rgb c, const std::string& label,
              const DrawStyle& style) {
  const int x0 = static_cast<int>(std::lround(b.x1));
  const int y0 = static_cast<int>(std::lround(b.y1));
  const int x1 = static_cast<int>(std::lround(b.x2)) - 1;
  const int y1 = static_cast<int>(std::lround(b.y2)) - 1;
  // A dark rim outside the coloured box keeps it visible on objects of its own colour.
  vision::draw_rect(out, x0 - 1, y0 - 1, x1 + 1, y1 + 1, {20, 20, 20}, 1);
  vision::draw_rect(out, x0, y0, x1, y1, c, style.thickness);
  vision::draw_label(out, x0, y0, label, c, style.text_scale + 1);
}

void draw_detection(vision::Image& out, const vision::Detection& d, const std::vector<std::string>& names,
                    const DrawStyle& style) {
  char score[16];
  std::snprintf(score, sizeof score, " %.2f", static_cast<double>(d.score));
  draw_box(out, d.box, vision::palette_color(d.class_id), class_name(names, d.class_id) + score, style);
}

float head_at(const TensorView& output, std::int64_t c, std::int64_t n) noexcept {
  const Shape& st = output.strides();
  return vision::detail::load(output, c * st[1] + n * st[2]);
}

Result<std::vector<YoloInstance>> decode_yolo_instances(const TensorView& output, int num_classes,
                                                        std::int64_t extra_channels,
                                                        const vision::YoloDecodeConfig& cfg,
                                                        std::string_view what_sv) {
  const std::string what(what_sv);
  AEGIS_TRY(vision::detail::check_float_output(output, what));
  const Shape& s = output.shape();
  const std::int64_t want = 4 + static_cast<std::int64_t>(num_classes) + extra_channels;
  if (output.rank() != 3 || s[0] < 1 || s[1] != want) {
    return Error(ErrorCode::InvalidArgument,
                 what + " has shape " + shape_to_string(s) + ", expected [1, " + std::to_string(want) +
                     " (4 box + " + std::to_string(num_classes) + " classes + " + std::to_string(extra_channels) +
                     "), num_anchors]");
  }
  if (num_classes < 1) return Error(ErrorCode::InvalidArgument, what + ": no classes");
  const std::int64_t n = s[2];
  std::vector<YoloInstance> cand;
  for (std::int64_t i = 0; i < n; ++i) {
    float best = -1.0f;
    int best_class = 0;
    for (int c = 0; c < num_classes; ++c) {
      const float v = head_at(output, 4 + c, i);
      if (v > best) {
        best = v;
        best_class = c;
      }
    }
    if (!(best > cfg.conf_threshold)) continue;  // Ultralytics keeps score > conf; drops NaN
    const vision::Box b = vision::Box::from_center(head_at(output, 0, i), head_at(output, 1, i),
                                                   head_at(output, 2, i), head_at(output, 3, i));
    cand.push_back({{b, best, best_class}, i});
  }
  std::stable_sort(cand.begin(), cand.end(),
                   [](const YoloInstance& a, const YoloInstance& b) { return a.det.score > b.det.score; });
  if (cfg.max_candidates > 0 && cand.size() > static_cast<std::size_t>(cfg.max_candidates)) {
    cand.resize(static_cast<std::size_t>(cfg.max_candidates));
  }
  std::vector<YoloInstance> kept;
  const std::size_t limit =
      cfg.max_detections > 0 ? static_cast<std::size_t>(cfg.max_detections) : cand.size();
  for (const auto& c : cand) {
    if (kept.size() >= limit) break;
    const bool suppressed = std::any_of(kept.begin(), kept.end(), [&](const YoloInstance& k) {
      return (cfg.class_agnostic || k.det.class_id == c.det.class_id) &&
             vision::iou(k.det.box, c.det.box) > cfg.iou_threshold;
    });
    if (!suppressed) kept.push_back(c);
  }
  return kept;
}

bool KeypointVisibility::operator()(const vision::Keypoint& k) const noexcept {
  return k.score >= threshold && (!require_positive || k.score > 0.0f) && std::isfinite(k.x) && std::isfinite(k.y);
}

Result<vision::Image> annotate_pose(const vision::Image& image, const FrameResult& r,
                                    const std::vector<std::string>& names, KeypointVisibility visible) {
  AEGIS_ASSIGN_OR_RETURN(vision::Image out, image.convert(3));
  const auto* pose = std::get_if<PoseResult>(&r.output);
  if (pose == nullptr) return out;
  const DrawStyle style = DrawStyle::for_image(out);
  for (const auto& d : pose->detections) draw_detection(out, d, names, style);
  for (const auto& kps : pose->keypoints) draw_keypoints(out, kps, style, visible);
  return out;
}

Json pose_json(const FrameResult& r, const std::vector<std::string>& names, const KeypointVisibility* visible) {
  Json dets = Json::array();
  const auto* pose = std::get_if<PoseResult>(&r.output);
  if (pose == nullptr) return dets;
  for (std::size_t i = 0; i < pose->detections.size() && i < pose->keypoints.size(); ++i) {
    Json d = detection_json(pose->detections[i], names);
    Json kps = Json::array();
    for (const auto& k : pose->keypoints[i]) {
      Json kp = {{"x", k.x}, {"y", k.y}, {"score", k.score}};
      if (visible != nullptr) kp["visible"] = (*visible)(k);
      kps.push_back(std::move(kp));
    }
    d["keypoints"] = std::move(kps);
    dets.push_back(std::move(d));
  }
  return dets;
}

}  // namespace aegisrt::pipeline::detail
