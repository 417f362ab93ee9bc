// The AegisRT Triton backend's pure-C++ half: turning a Triton model
// configuration (its JSON form) into PipelineOptions, and the BYTES tensor
// wire format. No Triton types here, so it is unit-tested without a server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/pipeline/pipeline.h"
#include "serving/pipeline_tensors.h"

namespace aegisrt::serving {

// Tensor names (kInputImage, kOutputDetections, ...) and the outputs per layout:
// serving/pipeline_tensors.h, shared with `aegisrt serve`.

/// Largest FRAME side accepted (pixels); the pixel count is also bounded by
/// vision::kMaxImagePixels, like a decoded image.
inline constexpr std::int64_t kMaxFrameSide = 32768;

/// Pipeline mode: a catalog model's Pipeline (image in, the layout's results
/// out). Tensor mode: the model file's own tensors in and out, on any AegisRT
/// backend (its validated artefact cache included), with dynamic batching.
enum class ServingMode : std::uint8_t { Pipeline, Tensor };

/// What the model configuration's `parameters` select.
struct BackendConfig {
  std::string triton_model_name;          // the repository's model name
  ServingMode mode = ServingMode::Pipeline;
  pipeline::PipelineOptions options;      // catalog model, variant, backend, precision, cache; onnx (tensor mode: the model file)
  std::filesystem::path models_dir;       // catalog folder; empty = AegisRT's default search
  int max_batch_size = 0;                 // > 0: requests carry a batch dimension (Triton's dynamic batching)
};

/// Parses Triton's model configuration JSON (TRITONBACKEND_ModelConfig
/// serialised). Parameters (all string_value):
///   model (required), variant, backend (default onnx), precision, device,
///   cache_dir, models_dir, model_data (':'-separated folders), threads,
///   conf, iou, max_det, onnx (model file instead of the variant's own),
///   and backend_option.<KEY> for LoadOptions::backend_options; mode
///   ("pipeline", default, or "tensor"). Tensor mode needs `onnx` (the model
///   file) and takes only backend, precision, device, cache_dir, threads,
///   onnx and backend_option.<KEY>; the catalog/post-processing parameters
///   are refused there by name.
/// `device` may only be empty or "auto": the device follows the AegisRT
/// backend name (onnx/openvino/tvm: CPU; cuda/tensorrt: GPU 0).
/// InvalidArgument naming the parameter for anything malformed or unknown
/// (and max_batch_size < 0). Pipeline mode with max_batch_size > 0 is
/// accepted here; the backend checks Pipeline::max_batch() at model load.
Result<BackendConfig> parse_backend_config(std::string_view config_json);

/// Splits a serialised BYTES tensor (each element: 4-byte little-endian length,
/// then that many bytes) into views over `data`. InvalidArgument naming
/// `tensor` if an element runs past the end or the count differs from `expected`.
Result<std::vector<std::span<const std::byte>>> split_bytes_tensor(std::span<const std::byte> data,
                                                                    std::size_t expected,
                                                                    std::string_view tensor);

/// One BYTES element: 4-byte little-endian length followed by `text`.
std::vector<std::byte> encode_bytes_element(std::string_view text);

/// Detections as rows of (x0, y0, x1, y1, score, class) in original-image pixels.
std::vector<float> detections_to_rows(const std::vector<vision::Detection>& detections);

/// AegisRT element type of a Triton data type code (TRITONSERVER_DataType's
/// documented values: BOOL 1, UINT8 2 ... FP64 12, BYTES 13, BF16 14);
/// nullopt for INVALID, BYTES and unknown codes (tensor mode has no strings).
std::optional<DType> dtype_from_triton(int code) noexcept;
/// The Triton data type code of an AegisRT element type; 0 (INVALID) for
/// those Triton has no type for (string, float8).
int triton_from_dtype(DType t) noexcept;

/// Checks a FRAME input's shape: [H, W, 3], 1 <= H, W <= kMaxFrameSide,
/// H * W <= vision::kMaxImagePixels, and `byte_size` == H * W * 3.
/// Returns {width, height}; InvalidArgument naming `tensor` otherwise.
Result<std::pair<int, int>> check_frame_shape(std::span<const std::int64_t> shape, std::uint64_t byte_size,
                                              std::string_view tensor);

/// Instance masks as a dense [N, height, width] uint8 block (1 = inside),
/// each mask placed at its window (InstanceMask::x0/y0) and clipped to the image.
std::vector<std::uint8_t> masks_to_dense(const std::vector<pipeline::InstanceMask>& masks, int width, int height);

/// Keypoints as rows of (x, y, score), instance after instance: [N, K, 3].
/// Internal if the instances do not all have the same K.
Result<std::vector<float>> keypoints_to_rows(const std::vector<std::vector<vision::Keypoint>>& instances,
                                             std::size_t& keypoints_per_instance);

/// The detections of a pipeline result. FrameResult exposes them as a member
/// on older trees and as detections() once results hold one alternative per
/// output family; this compiles against both.
template <typename R>
const std::vector<vision::Detection>& detections_of(const R& result) {
  if constexpr (requires { result.detections(); }) {
    return result.detections();
  } else {
    return result.detections;
  }
}

}  // namespace aegisrt::serving
