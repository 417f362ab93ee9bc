// Layout yolo_v8: YOLO v8/v11 detections [1, 4+num_classes, num_anchors],
// optionally tracked with ByteTrack across successive frames.
#include <algorithm>
#include <cstdio>

#include "aegisrt/vision/tracking.h"
#include "pipeline/decoders/decoder.h"
#include "pipeline/device_path.h"

namespace aegisrt::pipeline::detail {
namespace {

void apply_track_settings(const models::Postprocessing& pp, vision::ByteTrackConfig& tc) {
  if (pp.track_high_threshold) tc.track_high_thresh = static_cast<float>(*pp.track_high_threshold);
  if (pp.track_low_threshold) tc.track_low_thresh = static_cast<float>(*pp.track_low_threshold);
  if (pp.new_track_threshold) tc.new_track_thresh = static_cast<float>(*pp.new_track_threshold);
  if (pp.match_threshold) tc.match_thresh = static_cast<float>(*pp.match_threshold);
  if (pp.track_buffer) tc.max_age = *pp.track_buffer;
}

class YoloV8Decoder final : public OutputDecoder {
 public:
  YoloV8Decoder(const DecoderSetup& s, vision::YoloDecodeConfig cfg)
      : variant_(s.variant), names_(s.variant.output.class_names), cfg_(cfg), report_conf_(cfg.conf_threshold) {
    if (s.options.track) {
      vision::ByteTrackConfig tc;
      // The catalog's bytetrack entry first, then the detector's own keys.
      if (s.tracker != nullptr) apply_track_settings(*s.tracker, tc);
      apply_track_settings(s.variant.postprocessing, tc);
      // Low-score detections feed ByteTrack's second association.
      cfg_.conf_threshold = std::min(cfg_.conf_threshold, tc.track_low_thresh);
      tracker_ = std::make_unique<vision::ByteTracker>(tc);
    }
  }

  Result<void> decode(const ExecutionResult& out, FrameResult& frame) override {
    AEGIS_ASSIGN_OR_RETURN(const Tensor* t, output_at(out, variant_, 0));
    DetectionResult r;
    if (device_ != nullptr && t->location().is_device()) {
      // GPU post-processing (PipelineInfo::gpu_postprocess): kernel + one
      // small download + the same NMS as decode_yolo.
      AEGIS_ASSIGN_OR_RETURN(r.detections, device_->decode_yolo(t->view(), cfg_, frame.transform));
    } else {
      AEGIS_ASSIGN_OR_RETURN(r.detections, vision::decode_yolo(t->view(), cfg_, frame.transform));
    }
    if (tracker_) {
      r.tracks = tracker_->update(r.detections);
      // Report only what passes the user's threshold; the tracker saw the low ones too.
      std::erase_if(r.detections, [&](const vision::Detection& d) { return d.score < report_conf_; });
    }
    frame.output = std::move(r);
    return {};
  }

  [[nodiscard]] Result<vision::Image> annotate(const vision::Image& image, const FrameResult& r) const override {
    AEGIS_ASSIGN_OR_RETURN(vision::Image out, image.convert(3));
    const DrawStyle style = DrawStyle::for_image(out);
    if (tracker_) {
      char score[16];
      for (const auto& t : r.tracks()) {
        std::snprintf(score, sizeof score, " %.2f", static_cast<double>(t.score));
        draw_box(out, t.box, vision::palette_color(t.id),
                 "#" + std::to_string(t.id) + " " + class_name(names_, t.class_id) + score, style);
      }
    } else {
      for (const auto& d : r.detections()) draw_detection(out, d, names_, style);
    }
    return out;
  }

  void to_json(const FrameResult& r, Json& j) const override {
    Json dets = Json::array();
    for (const auto& d : r.detections()) dets.push_back(detection_json(d, names_));
    j["detections"] = std::move(dets);
    j["thresholds"] = thresholds_json(cfg_, report_conf_);
    if (tracker_) {
      Json tracks = Json::array();
      for (const auto& tr : r.tracks()) {
        tracks.push_back({{"track_id", tr.id}, {"class_id", tr.class_id},
                          {"class_name", class_name(names_, tr.class_id)}, {"score", tr.score},
                          {"box", box_json(tr.box)}, {"hits", tr.hits}, {"start_frame", tr.start_frame}});
      }
      j["tracks"] = std::move(tracks);
    }
  }

  void reset() override {
    if (tracker_) tracker_->reset();
  }

  [[nodiscard]] bool has_device_decode() const noexcept override { return true; }
  void set_device_decode(DevicePath* path) noexcept override { device_ = path; }

 private:
  models::ResolvedVariant variant_;
  std::vector<std::string> names_;
  vision::YoloDecodeConfig cfg_;
  float report_conf_;  // detections reported at or above this (lower when tracking)
  std::unique_ptr<vision::ByteTracker> tracker_;
  DevicePath* device_ = nullptr;  // GPU decode of device outputs (Pipeline::attach_gpu_postprocess)
};

}  // namespace

Result<std::unique_ptr<OutputDecoder>> make_yolo_v8_decoder(const DecoderSetup& setup) {
  AEGIS_ASSIGN_OR_RETURN(const vision::YoloDecodeConfig cfg, yolo_config(setup));
  return std::unique_ptr<OutputDecoder>(new YoloV8Decoder(setup, cfg));
}

}  // namespace aegisrt::pipeline::detail
