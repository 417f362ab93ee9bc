// Private: Segment Anything inside Pipeline (docs/PIPELINE.md "Segment
// Anything"). A sam_masks variant is an image encoder (the variant's main
// ONNX, run once per image) plus a `prompt_decoder` part (segment-anything's
// SamOnnxModel export, run once per prompt). Prompts come from
// PipelineOptions (--point/--box) or, without them, from the variant's
// `detector` part (one prompt per box).
#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "aegisrt/context/execution_context.h"
#include "aegisrt/models/manifest.h"
#include "aegisrt/pipeline/pipeline.h"
#include "pipeline/decoders/decoder.h"

namespace aegisrt::pipeline::detail {

/// SAM's ResizeLongestSide geometry for one image: the longest side to
/// `target` (1024), the other int(side * scale + 0.5).
struct SamGeometry {
  int width = 0;    // original image
  int height = 0;
  int resized_width = 0;
  int resized_height = 0;
  static SamGeometry of(int width, int height, int target);
  /// ResizeLongestSide.apply_coords: x * resized_width / width, y likewise.
  [[nodiscard]] float map_x(float x) const noexcept;
  [[nodiscard]] float map_y(float y) const noexcept;
};

/// Sam.postprocess_masks on one low-res mask [lh, lw] (256x256): bilinear
/// (PyTorch, align_corners=False) to target x target, crop to the resized
/// image, bilinear to the original size; `> threshold` gives the mask.
/// Returns the logits at the original size (row-major, height x width).
std::vector<float> sam_upscale_mask(const float* low_res, int low_h, int low_w, const SamGeometry& g, int target);

struct Sam {
  std::unique_ptr<ExecutionContext> decoder;  // the prompt_decoder part
  std::filesystem::path decoder_onnx;
  std::string embeddings_name = "image_embeddings";  // encoder output
  int target = 1024;               // encoder input side
  std::array<float, 3> mean{};     // (pixel * scale - mean) / std, RGB
  std::array<float, 3> stddev{1.0f, 1.0f, 1.0f};
  float scale = 1.0f;
  float mask_threshold = 0.0f;
  std::unique_ptr<Pipeline> detector;  // optional `detector` part
  std::string detector_part;
  std::vector<int> class_ids;
  std::vector<std::string> class_names;
};

/// The annotate/to_json side of sam_masks (decode happens in Pipeline::run_sam).
Result<std::unique_ptr<OutputDecoder>> make_sam_decoder(const DecoderSetup& setup);

}  // namespace aegisrt::pipeline::detail
