// Private: one OutputDecoder per output layout (docs/PIPELINE.md "Decoders").
// Pipeline::create picks the decoder once from the resolved variant's layout;
// per image the decoder turns the model's raw outputs into the FrameResult's
// per-type result, draws it and writes its JSON keys. A new layout is one
// file here plus its entry in make_decoder() (decoder.cpp) and its tests.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aegisrt/backend/runtime_backend.h"
#include "aegisrt/core/result.h"
#include "aegisrt/models/manifest.h"
#include "aegisrt/pipeline/pipeline.h"
#include "aegisrt/vision/detection.h"
#include "aegisrt/vision/image.h"

namespace aegisrt::pipeline::detail {

struct TextPrompt;  // grounding_dino.h
class DevicePath;  // device_path.h

using Json = nlohmann::ordered_json;

/// A File part of a multi-part model (SAM's prompt_decoder, Florence-2's
/// embed_tokens / encoder_model / decoder_model / decoder_with_past), loaded
/// for Pipeline::attach_*: --part-onnx NAME=FILE, else the catalog's lookup
/// (AEGISRT_MODEL_DATA, then --model-data dirs), on the selection's backend,
/// device, precision and cache dir (cache name = the part's cache_name), in a
/// context of `budget`. Errors name the part, its file and the backend.
struct LoadedPart {
  std::unique_ptr<ExecutionContext> context;
  std::filesystem::path onnx;
};
Result<LoadedPart> load_file_part(const models::ModelCatalog& catalog, const models::Selection& sel,
                                  const models::ResolvedPart& part, const PipelineOptions& options,
                                  const ContextBudget& budget);

/// What a decoder is built from.
struct DecoderSetup {
  const models::ResolvedVariant& variant;
  const PipelineOptions& options;
  /// With options.track: the catalog's `bytetrack` entry's post-processing
  /// (the tracker's settings; the detector's own track_* keys override them).
  /// Null when the catalog has no such entry (ByteTrackConfig's defaults).
  const models::Postprocessing* tracker = nullptr;
  /// Text-prompted layouts (grounding_dino): the prompt's tokens; null before
  /// the model is loaded (create() makes the decoder again with it).
  std::shared_ptr<const TextPrompt> text = nullptr;
};

class OutputDecoder {
 public:
  OutputDecoder() = default;
  OutputDecoder(const OutputDecoder&) = delete;
  OutputDecoder& operator=(const OutputDecoder&) = delete;
  virtual ~OutputDecoder() = default;

  /// Raw outputs -> frame.output (frame.transform is set).
  virtual Result<void> decode(const ExecutionResult& out, FrameResult& frame) = 0;
  /// The image with the result drawn on it (or the result's own picture).
  [[nodiscard]] virtual Result<vision::Image> annotate(const vision::Image& image,
                                                       const FrameResult& r) const = 0;
  /// Adds the layout's keys to the result document.
  virtual void to_json(const FrameResult& r, Json& j) const = 0;
  /// Start of a new video (trackers forget their state).
  virtual void reset() {}

  /// true when this layout can decode its output on the GPU
  /// (DevicePath::decode_yolo; yolo_v8 detections only).
  [[nodiscard]] virtual bool has_device_decode() const noexcept { return false; }
  /// The device path whose GPU decode decode() uses for outputs in device
  /// memory (Pipeline: when PipelineInfo::gpu_postprocess); null: none (host
  /// outputs only). Must outlive its use; the Pipeline resets it before it
  /// replaces its device path.
  virtual void set_device_decode(DevicePath* path) noexcept { (void)path; }
};

/// The decoder for the variant's output layout; Unsupported (naming the
/// model, type and layout, and what is supported) when there is none.
Result<std::unique_ptr<OutputDecoder>> make_decoder(const DecoderSetup& setup);

// One factory per layout file.
Result<std::unique_ptr<OutputDecoder>> make_yolo_v8_decoder(const DecoderSetup& setup);
Result<std::unique_ptr<OutputDecoder>> make_yolo_v8_seg_decoder(const DecoderSetup& setup);
Result<std::unique_ptr<OutputDecoder>> make_yolo_v8_pose_decoder(const DecoderSetup& setup);
Result<std::unique_ptr<OutputDecoder>> make_depth_decoder(const DecoderSetup& setup);
Result<std::unique_ptr<OutputDecoder>> make_simcc_decoder(const DecoderSetup& setup);
Result<std::unique_ptr<OutputDecoder>> make_grounding_dino_decoder(const DecoderSetup& setup);

// ---- shared helpers (decoder.cpp) ----

/// Output i by manifest field name when the model has it, else by position.
/// InvalidArgument when the model produced fewer than i+1 outputs.
Result<const Tensor*> output_at(const ExecutionResult& out, const models::ResolvedVariant& rv,
                                std::size_t i);
/// The first output of rank `rank` (Ultralytics heads: detections rank 3,
/// mask prototypes rank 4); InvalidArgument listing the outputs otherwise.
Result<const Tensor*> output_of_rank(const ExecutionResult& out, std::size_t rank, std::string_view what);

/// Manifest post-processing with the options' overrides; InvalidArgument for
/// thresholds outside [0, 1].
Result<vision::YoloDecodeConfig> yolo_config(const DecoderSetup& setup);

std::string class_name(const std::vector<std::string>& names, int class_id);
Json box_json(const vision::Box& b);
Json thresholds_json(const vision::YoloDecodeConfig& cfg, float confidence);
Json detection_json(const vision::Detection& d, const std::vector<std::string>& names);

/// Line thickness and label text scale for an image of this size.
struct DrawStyle {
  int thickness = 2;
  int text_scale = 1;
  static DrawStyle for_image(const vision::Image& image);
};
/// A labelled box with a dark rim (visible on objects of its own colour).
void draw_box(vision::Image& out, const vision::Box& b, vision::Rgb c, const std::string& label,
              const DrawStyle& style);
/// The detection's box labelled "<class> <score>" in its class colour.
void draw_detection(vision::Image& out, const vision::Detection& d, const std::vector<std::string>& names,
                    const DrawStyle& style);
/// Keypoints (those passing `visible`) as dots; the COCO-17 skeleton between
/// visible pairs when there are 17.
template <class Visible>
void draw_keypoints(vision::Image& out, const std::vector<vision::Keypoint>& kps, const DrawStyle& style,
                    Visible visible);

/// Which keypoints of a pose result are drawn (and, where asked, marked
/// "visible" in the JSON): score >= threshold, finite coordinates, and with
/// require_positive also score > 0 (top-down: a keypoint SimCC could not place
/// has score 0, which a threshold of 0 would otherwise let through).
struct KeypointVisibility {
  float threshold = 0.5f;
  bool require_positive = false;
  [[nodiscard]] bool operator()(const vision::Keypoint& k) const noexcept;
};
/// The pose result's boxes ("<class> <score>") and keypoints (dots, COCO-17
/// skeleton) on an RGB copy of the image; the plain copy when r holds no PoseResult.
Result<vision::Image> annotate_pose(const vision::Image& image, const FrameResult& r,
                                    const std::vector<std::string>& names, KeypointVisibility visible);
/// The pose result as a "detections" array: detection_json plus "keypoints"
/// [{x, y, score}], each with "visible" (visible(k)) when `visible` is given.
Json pose_json(const FrameResult& r, const std::vector<std::string>& names,
               const KeypointVisibility* visible = nullptr);

/// A YOLO candidate that survived NMS, with the anchor it came from (its
/// mask coefficients / keypoints are read from the same column).
struct YoloInstance {
  vision::Detection det;  // box in model-input pixels
  std::int64_t anchor = 0;
};
/// Ultralytics' non_max_suppression for one image of a [1, 4+nc+extra, N]
/// (channels first) head: best of the `num_classes` scores > conf
/// (strictly), at most max_candidates by score, class-aware greedy NMS
/// (IoU > iou suppresses), at most max_detections, by score descending.
Result<std::vector<YoloInstance>> decode_yolo_instances(const TensorView& output, int num_classes,
                                                        std::int64_t extra_channels,
                                                        const vision::YoloDecodeConfig& cfg,
                                                        std::string_view what);
/// Element [0, c, n] of a float head (any strides).
float head_at(const TensorView& output, std::int64_t c, std::int64_t n) noexcept;

}  // namespace aegisrt::pipeline::detail

#include "pipeline/decoders/decoder_inl.h"
