// Layout simcc: one person's keypoints from simcc_x [1, K, W*split] and
// simcc_y [1, K, H*split] (RTMPose on the whole image).
#include "pipeline/decoders/decoder.h"

namespace aegisrt::pipeline::detail {
namespace {

class SimccDecoder final : public OutputDecoder {
 public:
  explicit SimccDecoder(const DecoderSetup& s) : variant_(s.variant), input_width_(s.variant.input.preprocessing ? s.variant.input.preprocessing->size.width : 0) {}

  Result<void> decode(const ExecutionResult& out, FrameResult& frame) override {
    if (out.outputs.size() < 2) {
      return Error(ErrorCode::InvalidArgument, "a SimCC model must produce simcc_x and simcc_y");
    }
    AEGIS_ASSIGN_OR_RETURN(const Tensor* sx, output_at(out, variant_, 0));
    AEGIS_ASSIGN_OR_RETURN(const Tensor* sy, output_at(out, variant_, 1));
    vision::SimccConfig cfg;
    if (sx->shape().size() == 3 && input_width_ > 0) {
      cfg.split_ratio = static_cast<float>(sx->shape()[2]) / static_cast<float>(input_width_);
    }
    KeypointsResult r;
    AEGIS_ASSIGN_OR_RETURN(r.keypoints, vision::decode_simcc(sx->view(), sy->view(), cfg, frame.transform));
    if (variant_.postprocessing.keypoint_threshold) {
      const float thr = static_cast<float>(*variant_.postprocessing.keypoint_threshold);
      for (auto& k : r.keypoints) {
        if (k.score < thr) {
          k.x = -1.0f;
          k.y = -1.0f;
        }
      }
    }
    frame.output = std::move(r);
    return {};
  }

  [[nodiscard]] Result<vision::Image> annotate(const vision::Image& image, const FrameResult& r) const override {
    AEGIS_ASSIGN_OR_RETURN(vision::Image out, image.convert(3));
    draw_keypoints(out, r.keypoints(), DrawStyle::for_image(out),
                   [](const vision::Keypoint& k) { return k.x >= 0.0f && k.y >= 0.0f; });
    return out;
  }

  void to_json(const FrameResult& r, Json& j) const override {
    if (r.keypoints().empty()) return;
    Json kps = Json::array();
    for (const auto& k : r.keypoints()) kps.push_back({{"x", k.x}, {"y", k.y}, {"score", k.score}});
    j["keypoints"] = std::move(kps);
  }

 private:
  models::ResolvedVariant variant_;
  int input_width_;
};

}  // namespace

Result<std::unique_ptr<OutputDecoder>> make_simcc_decoder(const DecoderSetup& setup) {
  return std::unique_ptr<OutputDecoder>(new SimccDecoder(setup));
}

}  // namespace aegisrt::pipeline::detail
