// Private: top-down pose (RTMPose) inside Pipeline. A SimCC model whose
// variant has a `detector` part (docs/MANIFEST.md "Multi-part models") runs
// top-down: the detector part (a Pipeline of the referenced model, e.g. yolo)
// finds the boxes of the part's classes, each box is cropped with the
// reference's affine (vision/top_down.h) and run through the pose model, and
// the SimCC keypoints are mapped back to the image (docs/PIPELINE.md "RTMPose").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aegisrt/models/manifest.h"
#include "aegisrt/pipeline/pipeline.h"

namespace aegisrt::pipeline::detail {

struct TopDown {
  std::unique_ptr<Pipeline> detector;  // the `detector` part
  std::string detector_part;           // its part name
  std::vector<int> class_ids;          // detector classes kept; empty = all
  std::vector<std::string> class_names;  // the detector's names
  models::ResolvedVariant pose;        // the pose model's variant (outputs, normalisation)
  int input_width = 0;                 // pose model input
  int input_height = 0;
  float keypoint_threshold = 0.0f;     // drawing: keypoints at or above it
};

/// The part of `parts` that makes a SimCC model top-down (the Model part
/// named "detector"); null when there is none.
const models::ResolvedPart* find_detector_part(const std::vector<models::ResolvedPart>& parts);

/// The options of the pipeline that runs a model's `detector` part (top-down
/// pose, Segment Anything): the part's model and variant on the parent's
/// backend at the parent's precision, its PipelineOptions::part_onnx file,
/// the parent's model folders, cache folder (under the part's cache name),
/// backend options, thresholds, detection limit and call time budget.
PipelineOptions detector_part_options(const models::Selection& sel, const models::ResolvedPart& part,
                                      const PipelineOptions& options);

}  // namespace aegisrt::pipeline::detail
