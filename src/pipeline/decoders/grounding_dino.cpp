// Layout grounding_dino: logits [1, Q, T] (per query, per text position;
// -inf past the prompt's tokens) + boxes [1, Q, 4] (cx, cy, w, h in [0, 1])
// -> detections labelled with phrases of the prompt, as transformers'
// GroundingDinoProcessor.post_process_grounded_object_detection does:
//   score  = max over the T positions of sigmoid(logit); kept when > box threshold
//   box    = (cx - w/2, cy - h/2, cx + w/2, cy + h/2) * (image width, height)
//   phrase = decode(the prompt's token ids at positions 1 .. T-2 whose
//            sigmoid > text_threshold) (get_phrases_from_posmap: position 0,
//            [CLS], and the last position T-1 are never used)
// No NMS (the reference has none). The image is stretched to the model input
// (a letterbox is refused), so normalised boxes map straight to the image.
#include <cmath>
#include <cstdio>
#include <numeric>

#include "aegisrt/vision/draw.h"
#include "pipeline/decoders/decoder.h"
#include "pipeline/grounding_dino.h"

namespace aegisrt::pipeline::detail {
namespace {

class GroundingDinoDecoder final : public OutputDecoder {
 public:
  GroundingDinoDecoder(const DecoderSetup& s, float box_threshold, float text_threshold, int max_detections)
      : variant_(s.variant), text_(s.text), box_threshold_(box_threshold), text_threshold_(text_threshold),
        max_detections_(max_detections) {}

  Result<void> decode(const ExecutionResult& out, FrameResult& frame) override {
    if (!text_) return Error(ErrorCode::Internal, "grounding_dino decoder without a prompt");
    AEGIS_ASSIGN_OR_RETURN(const Tensor* logits_t, output_at(out, variant_, 0));
    AEGIS_ASSIGN_OR_RETURN(const Tensor* boxes_t, output_at(out, variant_, 1));
    const Shape& ls = logits_t->shape();
    const Shape& bs = boxes_t->shape();
    if (logits_t->dtype() != DType::Float32 || boxes_t->dtype() != DType::Float32 || ls.size() != 3 ||
        bs.size() != 3 || ls[0] != 1 || bs[0] != 1 || bs[2] != 4 || ls[1] != bs[1]) {
      return Error(ErrorCode::InvalidArgument, "grounding_dino outputs must be float32 logits [1, Q, T] and boxes "
                                               "[1, Q, 4]; got " + shape_to_string(ls) + " and " + shape_to_string(bs));
    }
    const std::int64_t q_count = ls[1];
    const std::int64_t t_count = ls[2];
    const auto n_ids = static_cast<std::int64_t>(text_->input_ids.size());
    if (t_count < n_ids) {
      return Error(ErrorCode::InvalidArgument, "grounding_dino logits have " + std::to_string(t_count) +
                                                   " text positions, fewer than the prompt's " +
                                                   std::to_string(n_ids) + " tokens (shorten --prompt)");
    }
    const auto logits = logits_t->span<const float>();
    const auto boxes = boxes_t->span<const float>();
    const auto w = static_cast<float>(frame.width);
    const auto h = static_cast<float>(frame.height);
    DetectionResult r;
    std::vector<std::int64_t> ids;
    for (std::int64_t q = 0; q < q_count; ++q) {
      const float* row = logits.data() + q * t_count;
      float best = 0.0f;
      std::int64_t best_t = 0;
      for (std::int64_t t = 0; t < t_count; ++t) {
        const float p = sigmoid(row[t]);
        if (p > best) {
          best = p;
          best_t = t;
        }
      }
      if (!(best > box_threshold_)) continue;
      const float* b = boxes.data() + q * 4;
      vision::Detection d;
      d.box = {(b[0] - 0.5f * b[2]) * w, (b[1] - 0.5f * b[3]) * h, (b[0] + 0.5f * b[2]) * w,
               (b[1] + 0.5f * b[3]) * h};
      d.score = best;
      d.class_id = best_t < n_ids ? static_cast<int>(text_->phrase_of[static_cast<std::size_t>(best_t)]) : 0;
      ids.clear();
      for (std::int64_t t = 1; t < t_count - 1 && t < n_ids; ++t) {
        if (sigmoid(row[t]) > text_threshold_) ids.push_back(text_->input_ids[static_cast<std::size_t>(t)]);
      }
      AEGIS_ASSIGN_OR_RETURN(std::string phrase, text_->tokenizer.decode(ids));
      r.detections.push_back(d);
      r.labels.push_back(std::move(phrase));
    }
    if (max_detections_ > 0 && r.detections.size() > static_cast<std::size_t>(max_detections_)) {
      // keep the best max_detections, in query order
      std::vector<std::size_t> order(r.detections.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return r.detections[a].score > r.detections[b].score;
      });
      order.resize(static_cast<std::size_t>(max_detections_));
      std::sort(order.begin(), order.end());
      DetectionResult kept;
      for (std::size_t i : order) {
        kept.detections.push_back(r.detections[i]);
        kept.labels.push_back(r.labels[i]);
      }
      r = std::move(kept);
    }
    frame.output = std::move(r);
    return {};
  }

  [[nodiscard]] Result<vision::Image> annotate(const vision::Image& image, const FrameResult& r) const override {
    AEGIS_ASSIGN_OR_RETURN(vision::Image out, image.convert(3));
    const DrawStyle style = DrawStyle::for_image(out);
    const auto* res = std::get_if<DetectionResult>(&r.output);
    if (res == nullptr) return out;
    char score[16];
    for (std::size_t i = 0; i < res->detections.size(); ++i) {
      const auto& d = res->detections[i];
      std::snprintf(score, sizeof score, " %.2f", static_cast<double>(d.score));
      draw_box(out, d.box, vision::palette_color(d.class_id), label(*res, i) + score, style);
    }
    return out;
  }

  void to_json(const FrameResult& r, Json& j) const override {
    Json dets = Json::array();
    if (const auto* res = std::get_if<DetectionResult>(&r.output)) {
      for (std::size_t i = 0; i < res->detections.size(); ++i) {
        const auto& d = res->detections[i];
        dets.push_back(Json{{"phrase", label(*res, i)}, {"phrase_index", d.class_id}, {"score", d.score},
                            {"box", box_json(d.box)}});
      }
    }
    j["prompt"] = text_ ? text_->text : std::string();
    j["detections"] = std::move(dets);
    j["thresholds"] = Json{{"box_threshold", box_threshold_}, {"text_threshold", text_threshold_}};
  }

 private:
  static float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
  static std::string label(const DetectionResult& r, std::size_t i) {
    return i < r.labels.size() ? r.labels[i] : std::string();
  }

  models::ResolvedVariant variant_;
  std::shared_ptr<const TextPrompt> text_;
  float box_threshold_;
  float text_threshold_;
  int max_detections_;
};

}  // namespace

Result<std::unique_ptr<OutputDecoder>> make_grounding_dino_decoder(const DecoderSetup& setup) {
  const auto& rv = setup.variant;
  const std::string who = rv.model + "/" + rv.variant;
  if (rv.input.preprocessing && rv.input.preprocessing->resize == models::ResizeMethod::Letterbox) {
    return Error(ErrorCode::Unsupported, who + ": grounding_dino boxes are normalised to the stretched image; "
                                               "input.preprocessing.resize must be `resize`, not `letterbox`");
  }
  AEGIS_TRY(normalize_prompt(setup.options.prompt));  // a missing --prompt fails before the model loads
  const auto& pp = rv.postprocessing;
  float box = static_cast<float>(pp.confidence_threshold.value_or(0.35));
  if (setup.options.confidence_threshold) box = *setup.options.confidence_threshold;
  const auto text = static_cast<float>(pp.text_threshold.value_or(0.25));
  if (!(box >= 0.0f && box <= 1.0f) || !(text >= 0.0f && text <= 1.0f)) {
    return Error(ErrorCode::InvalidArgument, who + ": box and text thresholds must be within [0, 1]");
  }
  int max_det = pp.max_detections.value_or(0);
  if (setup.options.max_detections) max_det = *setup.options.max_detections;
  return std::unique_ptr<OutputDecoder>(new GroundingDinoDecoder(setup, box, text, max_det));
}

}  // namespace aegisrt::pipeline::detail
