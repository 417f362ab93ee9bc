// Detection post-processing for YOLO v8/v11 heads: output [B, 4+C, N]
// (cx, cy, w, h in model-input pixels, then C class scores; no objectness),
// decode -> confidence filter -> class-aware NMS -> top-k -> boxes mapped back
// to the original image through the letterbox inverse and clipped.
#pragma once

#include <cstdint>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/vision/geometry.h"

namespace aegisrt::vision {

struct Detection {
  Box box;  // original-image pixels after decode_yolo()
  float score = 0.0f;
  int class_id = 0;
};

enum class YoloLayout : std::uint8_t {
  ChannelsFirst,  // [B, 4+C, N]: Ultralytics' ONNX export (default)
  ChannelsLast,   // [B, N, 4+C]: transposed exports
};

struct YoloDecodeConfig {
  float conf_threshold = 0.25f;  // keep a candidate when its best class score >= this
  float iou_threshold = 0.45f;   // NMS suppresses when IoU > this (strictly)
  int max_detections = 300;      // after NMS
  int max_candidates = 30000;    // best-scoring candidates entering NMS
  bool class_agnostic = false;   // true: boxes of different classes suppress each other
  YoloLayout layout = YoloLayout::ChannelsFirst;
};

/// Greedy NMS, highest score first (ties: lower index first). Class-aware
/// unless `class_agnostic`. Returns at most `max_detections` (<= 0: no limit),
/// sorted by score descending.
std::vector<Detection> nms(std::vector<Detection> detections, float iou_threshold,
                           int max_detections, bool class_agnostic = false);

/// Decodes image `batch_index` of a YOLO output (float32 or float16 host
/// view, any strides). InvalidArgument naming the tensor when its rank,
/// dtype, location or channel count (< 5) is wrong.
Result<std::vector<Detection>> decode_yolo(const TensorView& output, const YoloDecodeConfig& config,
                                           const LetterboxTransform& transform,
                                           std::int64_t batch_index = 0);

}  // namespace aegisrt::vision
