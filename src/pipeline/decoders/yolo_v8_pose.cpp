// Layout yolo_v8_pose: Ultralytics YOLO v8/v11 pose (-pose) exports,
// [1, 4+nc+K*3, N]: cx, cy, w, h (input pixels), nc class scores (nc = 1,
// person), then per keypoint x, y (input pixels) and visibility (sigmoid).
// K = the manifest's keypoint_names count, else 17 (COCO). Boxes: Ultralytics'
// NMS; keypoints as ops.scale_coords: letterbox inverse, clipped to the image.
#include <algorithm>
#include <cmath>

#include "pipeline/decoders/decoder.h"

namespace aegisrt::pipeline::detail {
namespace {

constexpr float kDefaultDrawThreshold = 0.5f;

class YoloV8PoseDecoder final : public OutputDecoder {
 public:
  YoloV8PoseDecoder(const DecoderSetup& s, vision::YoloDecodeConfig cfg)
      : names_(s.variant.output.class_names),
        cfg_(cfg),
        num_keypoints_(s.variant.output.keypoint_names.empty()
                           ? 17
                           : static_cast<std::int64_t>(s.variant.output.keypoint_names.size())),
        draw_threshold_(s.variant.postprocessing.keypoint_threshold
                            ? static_cast<float>(*s.variant.postprocessing.keypoint_threshold)
                            : kDefaultDrawThreshold) {}

  Result<void> decode(const ExecutionResult& out, FrameResult& frame) override {
    AEGIS_ASSIGN_OR_RETURN(const Tensor* head, output_of_rank(out, 3, "pose output (output0)"));
    const TensorView det = head->view();
    const std::int64_t extra = num_keypoints_ * 3;
    if (det.rank() != 3 || det.shape()[1] <= 4 + extra) {
      return Error(ErrorCode::InvalidArgument,
                   "pose output has shape " + shape_to_string(det.shape()) + ", expected [1, 4+num_classes+" +
                       std::to_string(num_keypoints_) + "*3, num_anchors]");
    }
    const int nc = static_cast<int>(det.shape()[1] - 4 - extra);
    AEGIS_ASSIGN_OR_RETURN(std::vector<YoloInstance> inst, decode_yolo_instances(det, nc, extra, cfg_, "pose output"));
    const auto& tr = frame.transform;
    const auto W = static_cast<float>(tr.src_width);
    const auto H = static_cast<float>(tr.src_height);
    PoseResult r;
    for (const YoloInstance& in : inst) {
      vision::Detection d = in.det;
      d.box = tr.to_original(d.box).clipped(W, H);
      std::vector<vision::Keypoint> kps(static_cast<std::size_t>(num_keypoints_));
      for (std::int64_t k = 0; k < num_keypoints_; ++k) {
        const std::int64_t c = 4 + nc + 3 * k;
        const vision::Point p = tr.to_original(vision::Point{head_at(det, c, in.anchor), head_at(det, c + 1, in.anchor)});
        auto& kp = kps[static_cast<std::size_t>(k)];
        kp.x = std::clamp(p.x, 0.0f, W);
        kp.y = std::clamp(p.y, 0.0f, H);
        kp.score = head_at(det, c + 2, in.anchor);
      }
      r.detections.push_back(d);
      r.keypoints.push_back(std::move(kps));
    }
    frame.output = std::move(r);
    return {};
  }

  [[nodiscard]] Result<vision::Image> annotate(const vision::Image& image, const FrameResult& r) const override {
    return annotate_pose(image, r, names_, KeypointVisibility{draw_threshold_, false});
  }

  void to_json(const FrameResult& r, Json& j) const override {
    j["detections"] = pose_json(r, names_);
    j["thresholds"] = thresholds_json(cfg_, cfg_.conf_threshold);
  }

 private:
  std::vector<std::string> names_;
  vision::YoloDecodeConfig cfg_;
  std::int64_t num_keypoints_;
  float draw_threshold_;
};

}  // namespace

Result<std::unique_ptr<OutputDecoder>> make_yolo_v8_pose_decoder(const DecoderSetup& setup) {
  AEGIS_ASSIGN_OR_RETURN(const vision::YoloDecodeConfig cfg, yolo_config(setup));
  return std::unique_ptr<OutputDecoder>(new YoloV8PoseDecoder(setup, cfg));
}

}  // namespace aegisrt::pipeline::detail
