// Pipeline: the main job of AegisRT end to end for one model. A catalog
// manifest and a (backend, variant, precision) selection become a loaded
// model inside an ExecutionContext; each image then goes decode ->
// pre-process (per the manifest) -> execute -> post-process (per the
// manifest's output type) -> FrameResult, which can be drawn onto the image
// and written as JSON. Every stage is timed.
//
// Each output layout has one decoder (src/pipeline/decoders/<layout>.cpp),
// chosen once at create(): detections (YOLO v8/v11, optional ByteTrack over
// successive frames), YOLO segment (boxes + instance masks) and pose (boxes +
// 17 keypoints), depth maps (relative or metric, colourised), keypoints
// (SimCC), Segment Anything masks (sam.cpp: encoder once per image, the
// prompt_decoder part once per prompt) and text-prompted detections
// (Grounding DINO: PipelineOptions::prompt) and Florence-2's generated text
// (seq2seq_tokens: PipelineOptions::task, florence.cpp: the vision encoder is
// the main model, the embed/encoder/decoder parts run the greedy loop). The
// tracker-only bytetrack entry is refused at create() with Unsupported, saying
// what to use instead.
//
// Thread safety: one Pipeline is used by one thread at a time (the tracker
// keeps state across frames); create several for parallel streams.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "aegisrt/backend/runtime_backend.h"
#include "aegisrt/context/execution_context.h"
#include "aegisrt/core/result.h"
#include "aegisrt/core/types.h"
#include "aegisrt/backend/backend_vocabulary.h"
#include "aegisrt/models/catalog.h"
#include "aegisrt/models/manifest.h"
#include "aegisrt/vision/depth.h"
#include "aegisrt/vision/detection.h"
#include "aegisrt/vision/image.h"
#include "aegisrt/vision/keypoints.h"
#include "aegisrt/vision/preprocess.h"
#include "aegisrt/vision/tracking.h"

namespace aegisrt::pipeline {

/// Where pre-processing runs and how the model input reaches the backend
/// (docs/ARCHITECTURE.md, "Device-resident pipeline").
///  * Auto: the device path when it can do the variant's pre-processing and
///    the backend takes device inputs on a CUDA device (ORT's CUDA EP, TVM
///    cuda, TensorRT): the decoded image is copied into pinned host memory,
///    uploaded once on the pipeline's CUDA stream, and the fused CUDA kernel
///    writes the model input in device memory, which the backend reads in
///    place. Otherwise the CPU path (PipelineInfo::device_path_reason says why).
///  * Off: always the CPU path (vision::preprocess into a host tensor), e.g.
///    for A/B benchmarks (`aegisrt bench --device-path off`).
///  * Require: the device path or create() fails with Unsupported (the reason).
enum class DevicePathMode : std::uint8_t { Auto, Off, Require };
std::string_view to_string(DevicePathMode m) noexcept;
/// "auto" | "off" | "require"; InvalidArgument listing them otherwise.
Result<DevicePathMode> parse_device_path_mode(std::string_view s);

/// Where JPEG images are decoded (docs/ARCHITECTURE.md, "Device-resident
/// pipeline"; `--decode`). Applies to the encoded-image entry points
/// (run_file(), run_encoded()); run() takes an image that is already decoded.
///  * Auto: on the GPU with NVIDIA nvJPEG when the device path is active, this
///    build has nvJPEG and its decoder could be created: the JPEG is decoded
///    straight into device memory on the pipeline's stream and the fused
///    pre-processing kernel reads it there (no host RGB). Otherwise, and for
///    non-JPEG inputs (PNG), JPEGs with an EXIF rotation to apply, CMYK/YCCK,
///    formats nvJPEG lacks and JPEGs not ending with EOI (possibly truncated),
///    the CPU decoder (libjpeg-turbo/libpng) as before.
///    PipelineInfo::decoder / decoder_reason say which and why.
///  * Cpu: always the CPU decoder (A/B benchmarks: `aegisrt bench --decode cpu`).
///  * Gpu: as Auto, but create() fails with Unsupported (the reason) when GPU
///    JPEG decoding is unavailable. Non-JPEG inputs still decode on the CPU.
///  * GpuHardware: as Gpu, with the GPU's hardware JPEG engine (A100, A30,
///    H100/H200 class; nvJPEG's hardware backend) for the colour baseline
///    JPEGs it takes, nvJPEG's default path for the rest; create() fails
///    with Unsupported on a GPU without the engine.
enum class DecodeMode : std::uint8_t { Auto, Cpu, Gpu, GpuHardware };
std::string_view to_string(DecodeMode m) noexcept;
/// "auto" | "cpu" | "gpu" | "gpu-hw"; InvalidArgument listing them otherwise.
Result<DecodeMode> parse_decode_mode(std::string_view s);
/// A Segment Anything prompt point, original-image pixels. label 1 =
/// foreground, 0 = background (SAM's point labels).
struct PromptPoint {
  float x = 0.0f;
  float y = 0.0f;
  int label = 1;
};

/// One Segment Anything prompt: points and/or a box (original-image pixels).
struct SamPrompt {
  std::vector<PromptPoint> points;
  std::optional<vision::Box> box;
  std::string source = "cli";  // "cli" (--point/--box) or "detector" (the detector part's box)
};

/// What to run and how. Only `model` is required.
struct PipelineOptions {
  std::string model;             // catalog name, e.g. "yolo"
  std::string backend = "onnx";  // backend vocabulary name (onnx, cuda, tvm, tensorrt, ...)
  std::string variant;           // empty = the manifest's default_variant
  std::string precision;         // empty = fp32 if allowed, else the manifest's first
  /// ONNX file to use instead of the variant's `onnx` entry.
  std::filesystem::path onnx;
  /// ONNX files to use instead of a part's own, by part name (multi-part
  /// models, docs/MANIFEST.md), e.g. {"detector": "people.onnx"} for rtmpose.
  std::map<std::string, std::filesystem::path> part_onnx;
  /// Artefact-cache variant (LoadOptions::variant) for TVM/TensorRT; empty =
  /// the variant's name. A part's pipeline uses the part's cache name
  /// ("{variant}+{part}", docs/CACHE.md).
  std::string cache_variant;
  /// Folders searched for the variant's ONNX after the manifest's own folder
  /// (each as <dir>/<onnx> and <dir>/<model>/<onnx>), e.g. a build's
  /// generated-models folder. $AEGISRT_MODEL_DATA is always searched first.
  std::vector<std::filesystem::path> model_data_dirs;
  /// Compiled-artefact cache (TensorRT engines, TVM libraries); empty = the
  /// backend's default.
  std::filesystem::path cache_dir;
  /// Extra LoadOptions::backend_options, merged over what the backend name
  /// implies (e.g. {"intra_op_threads", "2"}).
  std::map<std::string, std::string> backend_options;
  /// Run on `backend` even when the manifest's `backends` list does not name
  /// it (--allow-unlisted-backend; a warning says so). Off: Unsupported.
  bool allow_unlisted_backend = false;
  /// Segment Anything prompt (--point x,y[,label] repeatable, --box
  /// x0,y0,x1,y1): all points and the box form ONE prompt. Without one, the
  /// variant's `detector` part's boxes are the prompts (one each).
  std::vector<PromptPoint> prompt_points;
  std::optional<vision::Box> prompt_box;
  /// Overrides of the manifest's post-processing.
  std::optional<float> confidence_threshold;
  std::optional<float> iou_threshold;
  std::optional<int> max_detections;
  /// Detections only: run ByteTrack over successive frames (a video's frames
  /// or a folder of images in name order) and report tracks with stable ids.
  bool track = false;
  /// Rotate/flip JPEGs by their EXIF orientation when run_file() decodes
  /// them (as OpenCV's imread does); off: stored pixel order.
  bool apply_exif_orientation = true;
  /// ExecutionContext budget: wall time one execute() may take before it is
  /// reported as a deadline miss. The memory budget comes from the manifest.
  Duration call_time_budget = std::chrono::seconds(30);
  /// Device-resident pre-processing (see DevicePathMode).
  DevicePathMode device_path = DevicePathMode::Auto;
  /// Where JPEGs are decoded (see DecodeMode).
  DecodeMode decode = DecodeMode::Auto;
  /// Text prompt: Grounding DINO's phrases ("person . dog ."), Florence-2's
  /// task text (`--text`: the phrase of <CAPTION_TO_PHRASE_GROUNDING>).
  std::string prompt;
  /// Florence-2 (seq2seq_tokens) task prompt, e.g. "<CAPTION>", "<OD>",
  /// "<CAPTION_TO_PHRASE_GROUNDING>" (with `prompt` as its text). Required
  /// for those models, refused (InvalidArgument naming --task) for others.
  std::string task;
  /// Florence-2 beam count overriding the manifest's output.generation.num_beams
  /// (`--num-beams`; 1 = greedy). InvalidArgument naming --num-beams outside
  /// [1, 16] or for models that do not generate tokens.
  std::optional<int> num_beams;
};

/// How the pipeline was put together (after defaults were resolved).
struct PipelineInfo {
  std::string model;
  std::string variant;
  std::string backend;           // vocabulary name as asked
  std::string runtime_backend;   // registry backend actually used ("onnx", "tvm", ...)
  std::string provider;          // e.g. "cuda" for onnx + CUDA EP; empty = default
  std::string precision;         // "fp32", ...
  std::filesystem::path onnx_path;
  models::OutputType output_type = models::OutputType::Detections;
  models::OutputLayout output_layout = models::OutputLayout::YoloV8;
  std::vector<std::string> class_names;
  vision::PreprocessConfig preprocess;
  /// > 0: the manifest's input.preprocessing.keep_aspect applies with this
  /// multiple, because the export's input height and width are dynamic: each
  /// image gets its own input size (vision::keep_aspect_config; `preprocess`
  /// width/height are the target the policy aims at, FrameResult::transform
  /// has the size used). 0: every image is resized to `preprocess`'s fixed
  /// size (no keep_aspect in the manifest, or a fixed-size export: a log
  /// line says so at create()).
  int keep_aspect_multiple = 0;
  std::string input_name;        // bound model input
  std::size_t memory_budget_bytes = 0;
  Duration load_time{0};         // cold start: selection, backend creation and load
  /// true: pre-processing runs on the GPU and the backend reads the model
  /// input from device memory (PipelineOptions::device_path).
  bool device_path = false;
  /// Why the CPU path is used (empty with the device path).
  std::string device_path_reason;
  /// true: the model output stays in device memory and the YOLO decode's
  /// per-anchor scan runs on the GPU (one small download of the candidates,
  /// then NMS on the host; results identical to the host decode). yolo_v8
  /// detections on the device path, with a backend that returns device
  /// outputs (ONNX Runtime CUDA, TensorRT). FrameResult::timings.postprocess
  /// then covers kernel + download + NMS.
  bool gpu_postprocess = false;
  /// Why the output is downloaded and decoded on the host (empty with gpu_postprocess).
  std::string gpu_postprocess_reason;
  /// The JPEG decoder of run_file() / run_encoded(): "nvjpeg" (GPU, into
  /// device memory; PipelineOptions::decode) or "cpu" (libjpeg-turbo).
  /// PNGs and the JPEGs nvJPEG leaves out decode on the CPU either way
  /// (FrameResult::decoded_on_gpu says per image).
  std::string decoder = "cpu";
  /// Why JPEGs decode on the CPU (empty with "nvjpeg").
  std::string decoder_reason;
  /// "nvjpeg" with the hardware JPEG engine (PipelineOptions::decode =
  /// GpuHardware).
  bool decoder_hardware = false;
  /// true: ONNX Runtime's CUDA provider captures the model as a CUDA graph and
  /// replays it per image (backend option cuda_graph=1; one graph per
  /// pipeline instance on the device path; docs/BACKENDS.md).
  bool cuda_graph = false;
};

/// Time spent per stage on one image.
struct StageTimings {
  Duration decode{0};       // reading + decoding the file (0 for in-memory images)
  Duration preprocess{0};
  Duration execute{0};      // ExecutionContext::execute wall time
  Duration postprocess{0};
  [[nodiscard]] Duration total() const noexcept { return decode + preprocess + execute + postprocess; }
};

/// Detections (YOLO v8/v11 layout); tracks when PipelineOptions::track.
struct DetectionResult {
  std::vector<vision::Detection> detections;
  std::vector<vision::Track> tracks;
  /// Per detection, its text label when the classes come from a prompt
  /// (grounding_dino: the phrase); empty for fixed-class models.
  std::vector<std::string> labels;
};

/// One instance mask, original-image pixels: a binary mask over the box
/// `x0, y0` .. `x0 + width - 1, y0 + height - 1` (the detection's box rounded
/// outwards and clipped to the image; outside it the mask is 0, as the
/// reference crops masks to their boxes). `data` is row-major, 1 = inside.
struct InstanceMask {
  int x0 = 0;
  int y0 = 0;
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> data;
  [[nodiscard]] bool at(int x, int y) const noexcept {
    return x >= x0 && y >= y0 && x < x0 + width && y < y0 + height &&
           data[static_cast<std::size_t>(y - y0) * static_cast<std::size_t>(width) +
                static_cast<std::size_t>(x - x0)] != 0;
  }
  [[nodiscard]] std::size_t area() const noexcept;
};

/// YOLO segment (-seg): detections with one mask each (same order).
struct InstanceSegmentationResult {
  std::vector<vision::Detection> detections;
  std::vector<InstanceMask> masks;
};

/// YOLO pose (-pose): person detections with their keypoints (same order).
struct PoseResult {
  std::vector<vision::Detection> detections;
  std::vector<std::vector<vision::Keypoint>> keypoints;  // per detection, K each
};

/// Single-instance keypoints (SimCC, e.g. RTMPose on a whole image).
struct KeypointsResult {
  std::vector<vision::Keypoint> keypoints;
};

/// Depth output brought back to the original image.
struct DepthResult {
  vision::DepthMap depth;   // the model's raw values resampled to the original size
  vision::Image colorized;  // RGB, original size
  float min_value = 0.0f;   // raw model values before normalisation
  float max_value = 0.0f;
  std::string color_map;    // "turbo", ...
};

/// One Segment Anything mask: the prompt, the thresholded mask over the whole
/// image (x0 = y0 = 0, the image's size), its area and bounding box (empty
/// mask: area 0, box all zeros) and the decoder's predicted IoU.
struct SamMask {
  SamPrompt prompt;
  InstanceMask mask;
  std::size_t area = 0;
  vision::Box bbox;  // inclusive pixel bounds x0, y0 .. x1, y1
  float iou_prediction = 0.0f;
};

/// Segment Anything (sam_masks): one mask per prompt, in prompt order.
struct SamResult {
  std::vector<SamMask> masks;
};

/// Florence-2 (seq2seq_tokens): the generated text and, for box tasks
/// (<OD>, <CAPTION_TO_PHRASE_GROUNDING>, ...), transformers'
/// post_process_generation boxes (original-image pixels, the reference's
/// integer truncation) with one label each.
struct GenerationResult {
  std::string task;                       // "<CAPTION>", ...
  std::string text;                       // parsed text (pure-text tasks); empty for box tasks
  std::string raw_text;                   // decoded with special tokens (<s>, <loc_*>, </s>)
  std::vector<std::int64_t> token_ids;    // decoder start, generated ids, EOS
  std::vector<vision::Box> boxes;         // x1 y1 x2 y2
  std::vector<std::string> labels;        // one per box
};

/// What the layout's decoder produced; monostate before decoding.
using FrameOutput = std::variant<std::monostate, DetectionResult, InstanceSegmentationResult, PoseResult,
                                 KeypointsResult, DepthResult, SamResult, GenerationResult>;

/// Everything one image produced. Coordinates are original-image pixels.
struct FrameResult {
  std::string source;  // file path, or the name given to run()
  int width = 0;       // original image size
  int height = 0;
  int exif_orientation = 0;          // the JPEG's EXIF tag 1..8, 0 = none (vision::Image)
  bool orientation_applied = false;  // width/height/coordinates are after rotating by it
  bool decoded_on_gpu = false;       // nvJPEG decoded it into device memory (PipelineInfo::decoder)
  std::int64_t frame_index = 0;  // 0, 1, 2, ... per pipeline (tracking order)
  vision::LetterboxTransform transform;
  models::OutputType output_type = models::OutputType::Detections;
  FrameOutput output;  // one alternative per output layout family
  StageTimings timings;
  bool deadline_missed = false;

  /// Boxes of detection, segment and pose results; empty for the others.
  [[nodiscard]] const std::vector<vision::Detection>& detections() const noexcept;
  /// Tracks (detections with tracking only).
  [[nodiscard]] const std::vector<vision::Track>& tracks() const noexcept;
  /// Single-instance keypoints (SimCC); empty for the others.
  [[nodiscard]] const std::vector<vision::Keypoint>& keypoints() const noexcept;
  /// The depth result, or null.
  [[nodiscard]] const DepthResult* depth() const noexcept { return std::get_if<DepthResult>(&output); }
};

namespace detail {
class OutputDecoder;
struct DecoderSetup;
struct TopDown;
class DevicePath;
struct Sam;
struct TextPrompt;
struct Florence;
}

class Pipeline {
 public:
  /// Loads the catalog from `models_dir` (empty: models::resolve_models_directory())
  /// and creates the pipeline from it.
  static Result<std::unique_ptr<Pipeline>> create(const PipelineOptions& options,
                                                  const std::filesystem::path& models_dir = {});
  /// manifest -> validate_selection -> backend binding -> artefact (the ONNX;
  /// TVM/TensorRT build or reuse their cached artefact from it) ->
  /// ExecutionContext with the manifest's memory budget -> load.
  /// Errors: the selection's (NotFound/Unsupported/InvalidArgument naming what
  /// is supported); NotFound for a missing ONNX, listing the paths tried and
  /// the manifest's export command; Unsupported for output types or
  /// pre-processing the pipeline cannot do; InvalidArgument when the model's
  /// input does not match the manifest; the backend's load error.
  static Result<std::unique_ptr<Pipeline>> create(const models::ModelCatalog& catalog,
                                                  const PipelineOptions& options);

  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  ~Pipeline();

  /// Another pipeline over the same loaded model (one session / engine /
  /// library, context/loaded_model.h) with its own ExecutionContext (budget,
  /// fault boundary, metrics), decoder, tracker and frame numbering. A Pipeline
  /// is used by one thread at a time; N threads or Triton instances each take
  /// an instance, and the weights are loaded once. FailedPrecondition if the
  /// shared model was left unloaded by a fault; BudgetExceeded as create().
  [[nodiscard]] Result<std::unique_ptr<Pipeline>> create_instance() const;

  /// Decodes `path` (PNG/JPEG) and runs it. The decode error names the file.
  Result<FrameResult> run_file(const std::filesystem::path& path);
  /// Runs an encoded image (the bytes of a PNG/JPEG file): with
  /// PipelineInfo::decoder "nvjpeg", a JPEG is decoded on the GPU straight
  /// into device memory and pre-processed there; otherwise (and for PNGs and
  /// the JPEGs nvJPEG leaves to the CPU, see DecodeMode) decoded on the CPU
  /// as run_file() does, then run(). `source` names the image in errors and
  /// FrameResult::source. Decode errors are typed and name `source`
  /// (Corrupt for a corrupt or truncated JPEG); the pipeline stays usable.
  Result<FrameResult> run_encoded(std::span<const std::byte> bytes, std::string source = {});
  /// Runs an already decoded image (1, 3 or 4 channels).
  Result<FrameResult> run(const vision::Image& image, std::string source = {});

  /// Runs N already decoded images (any sizes, 1/3/4 channels) as ONE
  /// execute of a [N, C, H, W] input (src/pipeline/batch.cpp): each image is
  /// pre-processed with its own transform into its slot, each output is
  /// sliced at the batch index and decoded per image with the same decoder
  /// as run(), so result i equals run(images[i]) (same frame numbering; with
  /// --track the tracker sees the images in order, 0 .. N-1). `sources`
  /// (empty, or N names) become FrameResult::source. Stage timings of each
  /// result are the batch's stage times divided by N (its share).
  /// InvalidArgument for N = 0, for `sources` of another length, for images
  /// whose keep-aspect input sizes differ (PipelineInfo::keep_aspect_multiple;
  /// batch equal sizes only, or run them one by one), and when the
  /// model's input batch dimension is fixed to a value other than N (a fixed
  /// batch of 1 with N > 1 is refused, not split into N executes: the caller
  /// asked for one execute; max_batch() tells beforehand). Top-down pose
  /// models (two models per image) run their images one by one through run().
  /// BackendError when an output does not carry the batch as its first dim.
  Result<std::vector<FrameResult>> run_batch(std::span<const vision::Image> images,
                                             std::span<const std::string> sources = {});
  /// The most images run_batch() takes in one execute: 0 = any (the model's
  /// input batch dimension is dynamic), else that fixed batch size (1 for
  /// most exports). Top-down pose models report 0 (they loop over run()).
  [[nodiscard]] std::int64_t max_batch() const;

  /// The image with the result drawn on it: boxes with labels and scores,
  /// track ids, skeletons; for depth, the colourised map.
  [[nodiscard]] Result<vision::Image> annotate(const vision::Image& image,
                                               const FrameResult& result) const;
  /// JSON text for one result (schema "aegisrt.result/1", docs/PIPELINE.md).
  [[nodiscard]] std::string to_json(const FrameResult& result, int indent = 2) const;

  /// Forgets tracks and restarts frame numbering (start of a new video).
  void reset_tracking();

  [[nodiscard]] const PipelineInfo& info() const noexcept { return info_; }
  [[nodiscard]] ExecutionContext& context() noexcept { return *context_; }
  [[nodiscard]] const ExecutionContext& context() const noexcept { return *context_; }

 private:
  Pipeline() = default;

  // The steps of create(), in order.
  Result<models::BackendBinding> describe(const models::Selection& sel, const models::ResolvedVariant& rv,
                                          const models::ModelManifest& manifest);
  Result<void> load_model(const models::Selection& sel, const models::BackendBinding& binding,
                          const PipelineOptions& options);
  Result<void> bind_input(const models::ResolvedVariant& rv);
  // The pre-processing of one image: info_.preprocess, or with keep_aspect
  // its per-image size.
  [[nodiscard]] Result<vision::PreprocessConfig> input_config(const vision::Image& image) const;
  [[nodiscard]] detail::DecoderSetup decoder_setup() const;
  // Top-down pose (a SimCC model with a `detector` part; top_down.cpp).
  Result<void> attach_top_down(const models::ModelCatalog& catalog, const models::Selection& sel,
                               const models::ResolvedVariant& rv, const PipelineOptions& options);
  Result<FrameResult> run_top_down(const vision::Image& image, FrameResult frame);
  // Device-resident pre-processing (device_path.cpp): chooses the path, sets
  // info_.device_path / device_path_reason and device_.
  Result<void> attach_device_path();
  // GPU JPEG decode (device_path.cpp, after attach_device_path): sets
  // info_.decoder / decoder_reason and enables nvJPEG on device_.
  Result<void> attach_jpeg_decoder();
  // GPU post-processing (device_path.cpp, after attach_device_path): sets
  // info_.gpu_postprocess / gpu_postprocess_reason and the decoder's device path.
  void attach_gpu_postprocess();
  // Segment Anything (sam_masks: an encoder + a `prompt_decoder` part; sam.cpp).
  Result<void> attach_sam(const models::ModelCatalog& catalog, const models::Selection& sel,
                          const models::ResolvedVariant& rv, const PipelineOptions& options);
  Result<FrameResult> run_sam(const vision::Image& image, FrameResult frame);
  // The part of run() after pre-processing: execute + post-process.
  Result<FrameResult> execute_frame(FrameResult frame, TensorView input, ExecutionRequest request);
  // Florence-2 (seq2seq_tokens: the vision encoder + embed/encoder/decoder parts; florence.cpp).
  Result<void> attach_florence(const models::ModelCatalog& catalog, const models::Selection& sel,
                               const models::ResolvedVariant& rv, const PipelineOptions& options);
  Result<FrameResult> run_florence(const vision::Image& image, FrameResult frame);

  PipelineInfo info_;
  models::ResolvedVariant variant_;  // what the decoder is built from (again, per instance)
  PipelineOptions options_;
  std::optional<models::Postprocessing> tracker_settings_;  // the catalog's bytetrack entry, with --track
  std::unique_ptr<detail::OutputDecoder> decoder_;  // chosen once, from the output layout
  bool apply_exif_ = true;
  std::unique_ptr<ExecutionContext> context_;
  DType input_dtype_ = DType::Float32;
  std::int64_t next_frame_ = 0;
  std::unique_ptr<detail::TopDown> top_down_;  // set for top-down pose models
  std::unique_ptr<detail::DevicePath> device_;  // set when info_.device_path
  std::size_t device_bytes_ = 0;                // its buffers, reserved in context_'s budget
  std::unique_ptr<detail::Sam> sam_;           // set for Segment Anything
  std::unique_ptr<detail::Florence> florence_;  // set for Florence-2 (seq2seq_tokens)
  std::shared_ptr<const detail::TextPrompt> text_;  // set for text-prompted models (grounding_dino.h)
};

/// The manifest's input section as a vision::PreprocessConfig. Unsupported
/// (naming the field) for what the CPU pre-processing cannot do: non-image
/// inputs (an image_text input's image part is fed), gray models, top-left letterbox padding, mean/std lists that are
/// not 3 long.
Result<vision::PreprocessConfig> make_preprocess_config(const models::InputSpec& input,
                                                        std::string_view model);

/// `--point` text "x,y" or "x,y,label" (label 0 or 1, default 1) -> a
/// prompt point; `--box` text "x0,y0,x1,y1" (x0 < x1, y0 < y1) -> a box.
/// Finite decimal numbers, no extra fields; InvalidArgument naming the
/// option and the text otherwise. (Whether they lie inside the image is
/// checked per image by the pipeline.)
Result<PromptPoint> parse_prompt_point(std::string_view text);
Result<vision::Box> parse_prompt_box(std::string_view text);

/// The images a --input argument names: the file itself, or every .png,
/// .jpg, .jpeg, .bmp in a folder (not recursive), sorted by name.
/// NotFound for a missing path; InvalidArgument for a folder without images.
Result<std::vector<std::filesystem::path>> list_images(const std::filesystem::path& file_or_dir);

}  // namespace aegisrt::pipeline
