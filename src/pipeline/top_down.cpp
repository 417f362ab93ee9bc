// Top-down pose (RTMPose): the detector part finds the persons, each box is
// cropped with the reference's affine and run through the SimCC model, the
// keypoints are mapped back to the image. See top_down.h and docs/PIPELINE.md
// "RTMPose".
#include "pipeline/top_down.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "aegisrt/core/dtype.h"
#include "aegisrt/vision/keypoints.h"
#include "aegisrt/vision/top_down.h"
#include "pipeline/decoders/decoder.h"

namespace aegisrt::pipeline {
namespace detail {

const models::ResolvedPart* find_detector_part(const std::vector<models::ResolvedPart>& parts) {
  for (const auto& p : parts) {
    if (p.kind == models::PartKind::Model && p.name == "detector") return &p;
  }
  return nullptr;
}

PipelineOptions detector_part_options(const models::Selection& sel, const models::ResolvedPart& part,
                                      const PipelineOptions& options) {
  PipelineOptions o;
  o.model = part.model;
  o.variant = part.variant;
  o.backend = sel.backend;
  o.precision = std::string(to_string(sel.precision));
  if (auto it = options.part_onnx.find(part.name); it != options.part_onnx.end()) o.onnx = it->second;
  o.model_data_dirs = options.model_data_dirs;
  o.cache_dir = options.cache_dir;
  o.cache_variant = part.cache_name;
  o.backend_options = options.backend_options;
  o.confidence_threshold = options.confidence_threshold;
  o.iou_threshold = options.iou_threshold;
  o.max_detections = options.max_detections;
  o.call_time_budget = options.call_time_budget;
  return o;
}

static Duration since(TimePoint t0) { return std::chrono::duration_cast<Duration>(Clock::now() - t0); }

namespace {

/// Boxes of the detector with their keypoints (PoseResult), drawn as boxes
/// and COCO-17 skeletons; JSON as the yolo pose layout's.
class TopDownPoseDecoder final : public OutputDecoder {
 public:
  explicit TopDownPoseDecoder(const TopDown& td)
      : names_(td.class_names), visible_{td.keypoint_threshold, /*require_positive=*/true} {}

  Result<void> decode(const ExecutionResult&, FrameResult&) override {
    return Error(ErrorCode::Internal, "top-down pose decodes per person crop (Pipeline::run_top_down)");
  }

  [[nodiscard]] Result<vision::Image> annotate(const vision::Image& image, const FrameResult& r) const override {
    return annotate_pose(image, r, names_, visible_);
  }

  void to_json(const FrameResult& r, Json& j) const override {
    j["detections"] = pose_json(r, names_, &visible_);
    j["keypoint_threshold"] = visible_.threshold;
  }

 private:
  std::vector<std::string> names_;
  KeypointVisibility visible_;
};

/// Step 2 of run_top_down: the crop (rtmlib's bbox_xyxy2cs, padding 1.25,
/// aspect fix, warpAffine) as the pose model's input tensor, in `input_dtype`.
Result<Tensor> pose_input(const vision::Image& image, const TopDown& td, const vision::TopDownRegion& region,
                          DType input_dtype) {
  const int W = td.input_width;
  const int H = td.input_height;
  const std::size_t plane = static_cast<std::size_t>(W) * static_cast<std::size_t>(H);
  const auto& norm = td.pose.input.preprocessing->normalize;
  AEGIS_ASSIGN_OR_RETURN(auto crop,
                         vision::warp_affine_linear(image, vision::top_down_warp_matrix(region, W, H), W, H));
  AEGIS_ASSIGN_OR_RETURN(Tensor tensor, Tensor::allocate_host({1, 3, H, W}, DType::Float32));
  auto dst = tensor.span<float>();
  const std::uint8_t* px = crop.data();
  // (pixel * scale - mean[c]) / std[c], NCHW, channel c in the manifest's
  // colour order (the image is RGB; a bgr model gets B first).
  const bool bgr = td.pose.input.color_format == models::ColorFormat::BGR;
  for (std::size_t i = 0; i < plane; ++i) {
    for (std::size_t c = 0; c < 3; ++c) {
      const std::size_t from = bgr ? 2 - c : c;
      const double v = (static_cast<double>(px[i * 3 + from]) * norm.scale - norm.mean[c]) / norm.stddev[c];
      dst[c * plane + i] = static_cast<float>(v);
    }
  }
  if (input_dtype != DType::Float16) return tensor;
  AEGIS_ASSIGN_OR_RETURN(Tensor half, Tensor::allocate_host(tensor.shape(), DType::Float16));
  auto out16 = half.span<std::uint16_t>();
  for (std::size_t i = 0; i < dst.size(); ++i) out16[i] = float_to_half(dst[i]);
  return half;
}

/// Step 4 of run_top_down: SimCC decode in crop pixels, then back to the image.
Result<std::vector<vision::Keypoint>> pose_keypoints(const ExecutionResult& out, const TopDown& td,
                                                     const vision::TopDownRegion& region) {
  const int W = td.input_width;
  const int H = td.input_height;
  AEGIS_ASSIGN_OR_RETURN(const Tensor* sx, output_at(out, td.pose, 0));
  AEGIS_ASSIGN_OR_RETURN(const Tensor* sy, output_at(out, td.pose, 1));
  vision::SimccConfig cfg;
  if (sx->shape().size() == 3) {
    cfg.split_ratio = static_cast<float>(sx->shape()[2]) / static_cast<float>(W);
  }
  AEGIS_ASSIGN_OR_RETURN(auto kps, vision::decode_simcc(sx->view(), sy->view(), cfg, vision::AffineTransform{}));
  for (auto& k : kps) {
    if (!(k.score > 0.0f)) continue;  // not found: stays at -1, -1
    const vision::Point p = vision::top_down_to_image(region, W, H, k.x, k.y);
    k.x = p.x;
    k.y = p.y;
  }
  return kps;
}

}  // namespace
}  // namespace detail

Result<void> Pipeline::attach_top_down(const models::ModelCatalog& catalog, const models::Selection& sel,
                                       const models::ResolvedVariant& rv, const PipelineOptions& options) {
  // part_onnx must name parts of this variant.
  for (const auto& entry : options.part_onnx) {
    const std::string& name = entry.first;
    const std::filesystem::path& file = entry.second;
    const bool known = std::any_of(sel.parts.begin(), sel.parts.end(), [&](const models::ResolvedPart& p) {
      return p.name == name && p.name != models::kMainPart;
    });
    if (!known) {
      std::string parts;
      for (const auto& p : sel.parts) {
        if (p.name != models::kMainPart) parts += (parts.empty() ? "" : ", ") + p.name;
      }
      return Error(ErrorCode::InvalidArgument, sel.model + " variant '" + sel.variant + "' has no part '" + name +
                                                   "' to take '" + file.string() + "'; its parts: " +
                                                   (parts.empty() ? std::string("none (one ONNX file)") : parts),
                   "--part-onnx");
    }
  }
  const models::ResolvedPart* part = detail::find_detector_part(sel.parts);
  if (rv.output.layout != models::OutputLayout::SimCC || part == nullptr) return {};
  if (!rv.input.preprocessing) {
    return Error(ErrorCode::InvalidArgument, sel.model + ": a top-down pose model needs input.preprocessing");
  }
  auto td = std::make_unique<detail::TopDown>();
  td->detector_part = part->name;
  td->pose = rv;
  td->input_width = rv.input.preprocessing->size.width;
  td->input_height = rv.input.preprocessing->size.height;
  td->keypoint_threshold = static_cast<float>(rv.postprocessing.keypoint_threshold.value_or(0.0));

  // The detector: a pipeline of the referenced model, on the same backend at
  // the same precision, cached under the part's own key.
  auto detector = Pipeline::create(catalog, detail::detector_part_options(sel, *part, options));
  if (!detector.ok()) {
    return std::move(detector).error().with_context(sel.model + " part '" + part->name + "' (" + part->model +
                                                    " variant " + part->variant + ")");
  }
  td->detector = std::move(*detector);
  if (td->detector->info().output_type != models::OutputType::Detections) {
    return Error(ErrorCode::Unsupported, sel.model + " part '" + part->name + "' is " + part->model +
                                             ", which outputs " +
                                             std::string(models::to_string(td->detector->info().output_type)) +
                                             "; a top-down detector must output detections");
  }
  td->class_names = td->detector->info().class_names;
  for (const auto& c : part->classes) {
    const auto it = std::find(td->class_names.begin(), td->class_names.end(), c);
    if (it == td->class_names.end()) {
      return Error(ErrorCode::InvalidArgument, sel.model + " part '" + part->name + "': class '" + c +
                                                   "' is not a class of " + part->model + " variant " +
                                                   part->variant);
    }
    td->class_ids.push_back(static_cast<int>(it - td->class_names.begin()));
  }
  info_.class_names = td->class_names;  // the boxes are the detector's
  decoder_ = std::make_unique<detail::TopDownPoseDecoder>(*td);
  spdlog::info("pipeline: {} runs top-down on the boxes of part '{}' ({}/{})", sel.model, part->name, part->model,
               part->variant);
  top_down_ = std::move(td);
  return {};
}

Result<FrameResult> Pipeline::run_top_down(const vision::Image& image, FrameResult frame) {
  const detail::TopDown& td = *top_down_;
  frame.frame_index = next_frame_++;
  const auto in_context = [&](Error e) -> Error {
    return e.with_context("top-down pose on " + (frame.source.empty() ? std::string("image") : frame.source));
  };
  // 1. The persons: the detector part's boxes of the kept classes.
  auto det = td.detector->run(image, frame.source);
  if (!det.ok()) return in_context(std::move(det).error().with_context("detector part '" + td.detector_part + "'"));
  frame.transform = det->transform;
  frame.timings.preprocess += det->timings.preprocess;
  frame.timings.execute += det->timings.execute;
  frame.timings.postprocess += det->timings.postprocess;
  frame.deadline_missed = det->deadline_missed;

  PoseResult result;
  for (const vision::Detection& d : det->detections()) {
    if (!td.class_ids.empty() &&
        std::find(td.class_ids.begin(), td.class_ids.end(), d.class_id) == td.class_ids.end()) {
      continue;
    }
    // 2. The crop, as the pose model's input.
    TimePoint t = Clock::now();
    const vision::TopDownRegion region = vision::top_down_region(d.box, td.input_width, td.input_height);
    auto input = detail::pose_input(image, td, region, input_dtype_);
    if (!input.ok()) return in_context(std::move(input).error());
    frame.timings.preprocess += detail::since(t);

    // 3. The pose model.
    t = Clock::now();
    ExecutionRequest request;
    request.inputs.push_back({info_.input_name, input->view()});
    auto out = context_->execute(request);
    if (!out.ok()) return in_context(std::move(out).error());
    frame.timings.execute += detail::since(t);
    frame.deadline_missed = frame.deadline_missed || out->deadline_missed;

    // 4. SimCC decode in crop pixels, then back to the image.
    t = Clock::now();
    auto kps = detail::pose_keypoints(*out, td, region);
    if (!kps.ok()) return in_context(std::move(kps).error());
    result.detections.push_back(d);
    result.keypoints.push_back(std::move(*kps));
    frame.timings.postprocess += detail::since(t);
  }
  frame.output = std::move(result);
  return frame;
}

}  // namespace aegisrt::pipeline
