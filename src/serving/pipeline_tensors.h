// The tensors of a pipeline-mode Triton model (docs/SERVING.md, "Tensors"),
// in one table used by both sides: the Triton backend
// (src/serving/triton/triton_backend.cpp: which outputs a layout produces)
// and `aegisrt serve` (tools/aegisrt/cmd_serve.cpp: the config.pbtxt it
// writes). Header-only, no Triton types and no link dependency: the CLI
// includes it whether or not the backend is built (AEGISRT_WITH_TRITON).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "aegisrt/models/manifest.h"

namespace aegisrt::serving {

/// Names of the tensors a pipeline-mode model exposes (config.pbtxt).
inline constexpr std::string_view kInputImage = "IMAGE";            // TYPE_STRING [1]: encoded PNG/JPEG
inline constexpr std::string_view kInputFrame = "FRAME";            // TYPE_UINT8 [H,W,3]: raw RGB frame
inline constexpr std::string_view kOutputDetections = "DETECTIONS";  // TYPE_FP32 [N,6]
inline constexpr std::string_view kOutputMasks = "MASKS";            // TYPE_UINT8 [N,H,W] (segment)
inline constexpr std::string_view kOutputKeypoints = "KEYPOINTS";    // TYPE_FP32 [N,K,3] (pose, SimCC: N = 1)
inline constexpr std::string_view kOutputDepth = "DEPTH";            // TYPE_FP32 [H,W] (depth, raw values)
inline constexpr std::string_view kOutputDepthColor = "DEPTH_COLOR";  // TYPE_UINT8 [H,W,3] (depth, colourised)
inline constexpr std::string_view kOutputJson = "RESULT_JSON";       // TYPE_STRING [1]

/// The output layouts pipeline mode serves (for messages).
inline constexpr std::string_view kServedLayouts =
    "yolo_v8, yolo_v8_seg, yolo_v8_pose, simcc, relative_inverse_depth, metric_depth";

/// One tensor of a pipeline-mode model as config.pbtxt declares it.
struct PipelineTensorSpec {
  std::string_view name;
  std::string_view triton_type;        // config.pbtxt data_type, e.g. "TYPE_FP32"
  std::array<std::int64_t, 3> dims{};  // the first `rank` are used; -1 = variable
  std::size_t rank = 0;
  bool optional = false;               // inputs only: a request may leave it out

  constexpr std::span<const std::int64_t> shape() const noexcept { return {dims.data(), rank}; }
};

/// The inputs (a request gives exactly one of them).
inline constexpr std::array<PipelineTensorSpec, 2> kPipelineInputs{{
    {kInputImage, "TYPE_STRING", {1, 0, 0}, 1, true},
    {kInputFrame, "TYPE_UINT8", {-1, -1, 3}, 3, true},
}};

/// RESULT_JSON: every layout has it, after the layout's own outputs.
inline constexpr PipelineTensorSpec kResultJsonSpec{kOutputJson, "TYPE_STRING", {1, 0, 0}, 1, false};

/// The outputs a pipeline of this layout produces besides RESULT_JSON, in
/// config.pbtxt order; empty for a layout pipeline mode does not serve.
inline std::span<const PipelineTensorSpec> pipeline_outputs(models::OutputLayout layout) noexcept {
  static constexpr PipelineTensorSpec detections{kOutputDetections, "TYPE_FP32", {-1, 6, 0}, 2, false};
  static constexpr std::array<PipelineTensorSpec, 1> detect{{detections}};
  static constexpr std::array<PipelineTensorSpec, 2> segment{
      {detections, {kOutputMasks, "TYPE_UINT8", {-1, -1, -1}, 3, false}}};
  static constexpr std::array<PipelineTensorSpec, 2> pose{
      {detections, {kOutputKeypoints, "TYPE_FP32", {-1, -1, 3}, 3, false}}};
  static constexpr std::array<PipelineTensorSpec, 1> simcc{{{kOutputKeypoints, "TYPE_FP32", {1, -1, 3}, 3, false}}};
  static constexpr std::array<PipelineTensorSpec, 2> depth{{{kOutputDepth, "TYPE_FP32", {-1, -1, 0}, 2, false},
                                                            {kOutputDepthColor, "TYPE_UINT8", {-1, -1, 3}, 3, false}}};
  switch (layout) {
    case models::OutputLayout::YoloV8:
      return detect;
    case models::OutputLayout::YoloV8Seg:
      return segment;
    case models::OutputLayout::YoloV8Pose:
      return pose;
    case models::OutputLayout::SimCC:
      return simcc;
    case models::OutputLayout::RelativeInverseDepth:
    case models::OutputLayout::MetricDepth:
      return depth;
    default:
      return {};
  }
}

/// The tensor as one config.pbtxt list entry:
/// `{ name: "DETECTIONS" data_type: TYPE_FP32 dims: [ -1, 6 ] }`.
inline std::string to_pbtxt_entry(const PipelineTensorSpec& t) {
  std::string out = "{ name: \"" + std::string(t.name) + "\" data_type: " + std::string(t.triton_type) + " dims: [ ";
  for (std::size_t i = 0; i < t.rank; ++i) out += (i ? ", " : "") + std::to_string(t.dims[i]);
  out += " ]";
  if (t.optional) out += " optional: true";
  return out + " }";
}

}  // namespace aegisrt::serving
