// ModelManifest: the plain C++ form of models/<name>/manifest.yaml (schema in
// docs/MANIFEST.md) and the parser that builds it, reporting every problem with
// file, line and column. No yaml-cpp type appears in this header.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/core/runtime_types.h"  // Precision
#include "aegisrt/core/dtype.h"
#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"

namespace aegisrt::models {

/// Where something is in a manifest file. line/column are 1-based; 0 = unknown.
struct SourceLocation {
  std::filesystem::path file;
  int line = 0;
  int column = 0;
};
/// "models/yolo/manifest.yaml:12:5" (or just the file when line is unknown).
std::string to_string(const SourceLocation& loc);

/// Backends used when a manifest has no `model.backends` field (the original
/// design's rule; keep exactly this list and order).
inline constexpr std::string_view kDefaultBackends[] = {"cuda", "rocm", "openvino"};

enum class InputType : std::uint8_t {
  Image,       // one image
  ImageText,   // an image plus a text prompt (grounding_dino, florence)
  Detections,  // boxes from a detector, no image tensor (bytetrack)
};
enum class ColorFormat : std::uint8_t { RGB, BGR, Gray };
enum class ResizeMethod : std::uint8_t {
  Letterbox,  // keep aspect ratio, pad to the target size with pad_value
  Resize,     // stretch to the target size
};
/// Resampling filter of a resize (image pre-processing, or bringing a dense
/// output such as a depth map back to the image). Bilinear: half-pixel
/// centres (OpenCV INTER_LINEAR); for images, bicubic is Pillow's
/// Image.resize(BICUBIC) (antialiased, a = -0.5, 8-bit fixed point); for
/// float maps, PyTorch's interpolate(mode="bicubic", align_corners=False).
enum class Interpolation : std::uint8_t { Bilinear, Bicubic };
/// How `input.preprocessing.border` fills the border it adds around the
/// image before the resize. Reflect: mirrored about the edge pixel, which is
/// not repeated (numpy/PyTorch "reflect": ..., 2, 1, [0, 1, 2, ...]).
enum class BorderMode : std::uint8_t { Reflect };
/// Where letterbox puts the image inside the padded canvas.
enum class PadPosition : std::uint8_t { Center, TopLeft };
enum class Layout : std::uint8_t { NCHW, NHWC };

enum class OutputType : std::uint8_t {
  Detections,
  DepthMap,
  Keypoints,
  Segmentation,
  TrackedObjects,
  MultiTask,
};

/// How the raw output tensors are to be decoded. Each layout belongs to one
/// output type (see docs/MANIFEST.md "Output layouts").
enum class OutputLayout : std::uint8_t {
  YoloV8,                // detections: [1, 4+num_classes, num_anchors], cx,cy,w,h in input pixels, class scores
  GroundingDino,         // detections: logits [1, 900, 256] + boxes [1, 900, 4] (normalised cx,cy,w,h)
  RelativeInverseDepth,  // depth_map: [1, H, W] affine-invariant inverse depth (larger = nearer)
  MetricDepth,           // depth_map: [1, 1, H, W] or [1, H, W] depth in metres
  SimCC,                 // keypoints: simcc_x [1, K, W*split], simcc_y [1, K, H*split]
  YoloV8Seg,             // segmentation: output0 [1, 4+num_classes+32, num_anchors] + protos [1, 32, H/4, W/4]
  YoloV8Pose,            // keypoints: [1, 4+num_classes+K*3, num_anchors] (x, y, visibility per keypoint)
  SamMasks,              // segmentation: mask logits [1, M, H, W] + iou scores [1, M]
  Tracks,                // tracked_objects: [N, 7] = track_id, x1, y1, x2, y2, score, class
  Seq2SeqTokens,         // multi_task: generated token ids [1, seq_len]
};

std::string_view to_string(InputType v) noexcept;
std::string_view to_string(ColorFormat v) noexcept;
std::string_view to_string(ResizeMethod v) noexcept;
std::string_view to_string(PadPosition v) noexcept;
std::string_view to_string(BorderMode v) noexcept;
std::string_view to_string(Interpolation v) noexcept;
std::string_view to_string(Layout v) noexcept;
std::string_view to_string(OutputType v) noexcept;
std::string_view to_string(OutputLayout v) noexcept;
std::optional<OutputType> parse_output_type(std::string_view s) noexcept;
std::optional<OutputLayout> parse_output_layout(std::string_view s) noexcept;
/// The output type a layout decodes.
OutputType output_type_of(OutputLayout layout) noexcept;

struct ImageSize {
  int height = 0;
  int width = 0;
  friend bool operator==(const ImageSize&, const ImageSize&) = default;
};

/// value = (pixel * scale - mean[c]) / stddev[c], per channel in colour-format
/// order (mean/stddev have 1 entry for gray, 3 for rgb/bgr).
struct Normalization {
  double scale = 1.0;
  std::vector<double> mean;
  std::vector<double> stddev;
};

/// `input.preprocessing.border`: ZoeDepth's padding of the source image
/// before the resize, int(sqrt(height / 2) * factor) rows above and below and
/// int(sqrt(width / 2) * factor) columns left and right; a depth decoder
/// removes it again from the output (transformers' ZoeDepthImageProcessor
/// do_pad and post_process_depth_estimation, factor 3).
struct BorderPadding {
  BorderMode mode = BorderMode::Reflect;  // key `mode`
  double factor = 3.0;                    // key `factor`, in (0, 64]
};

/// `input.preprocessing.keep_aspect`: the reference image processors'
/// aspect-keeping resize (transformers' DPT / Depth Anything / ZoeDepth
/// processors, keep_aspect_ratio=True with ensure_multiple_of), applied by
/// the pipeline only when the export's input height and width are dynamic
/// (a fixed-size export is stretched to `size` as before). Per image: scale
/// as little as possible so that one side meets its `size` target, both
/// sides by that scale, each rounded to the nearest multiple of
/// `multiple_of` (half to even); with a `border`, of the bordered image.
/// vision::keep_aspect_input_size computes it.
struct KeepAspect {
  int multiple_of = 1;  // key `multiple_of`, in [1, 1024]
};

struct Preprocessing {
  ResizeMethod resize = ResizeMethod::Resize;
  Interpolation interpolation = Interpolation::Bilinear;  // key `interpolation`
  /// key `align_corners` (bilinear only): the corner pixel centres of source
  /// and target coincide (src = dst * (in - 1) / (out - 1), PyTorch's
  /// interpolate(align_corners=True)) instead of half-pixel centres.
  bool align_corners = false;
  std::optional<BorderPadding> border;  // key `border` (resize only, not letterbox)
  std::optional<KeepAspect> keep_aspect;  // key `keep_aspect` (resize only, not letterbox)
  ImageSize size;                      // target (network input) size
  int pad_value = 0;                   // 0..255, letterbox padding before normalisation
  PadPosition pad_position = PadPosition::Center;
  Normalization normalize;
  Layout layout = Layout::NCHW;
};

/// Text prompt that accompanies an image (InputType::ImageText).
struct PromptSpec {
  std::string tokenizer;  // e.g. "bert-base-uncased" (the Hugging Face name, for the docs)
  /// The tokenizer's own file (BERT `vocab.txt`, BART `tokenizer.json`), a
  /// bare file name looked up next to the variant's main ONNX file; empty when
  /// the manifest names none.
  std::string tokenizer_file;
  int max_tokens = 0;
};

struct InputSpec {
  InputType type = InputType::Image;
  ColorFormat color_format = ColorFormat::RGB;
  DType dtype = DType::Float32;
  std::string tensor_name;                     // ONNX input name; empty = positional
  std::optional<Preprocessing> preprocessing;  // present for image inputs
  std::optional<PromptSpec> prompt;            // present for ImageText

  /// 1 for gray, else 3.
  [[nodiscard]] int channels() const noexcept { return color_format == ColorFormat::Gray ? 1 : 3; }
};

/// One output tensor. Symbolic dims ("num_anchors") are kDynamicDim in
/// `shape` and keep their name in `dim_names` (empty for numeric dims).
struct OutputField {
  std::string name;
  DType dtype = DType::Float32;
  Shape shape;
  std::vector<std::string> dim_names;
  std::string description;
  [[nodiscard]] TensorDesc desc() const { return {name, shape, dtype}; }
};

/// output.generation of a seq2seq_tokens model (Florence-2): transformers'
/// GenerationConfig decoding settings; an absent key keeps transformers'
/// default. docs/MANIFEST.md "output.generation".
struct GenerationSpec {
  int num_beams = 1;                                // 1 = greedy, at most 16
  int no_repeat_ngram_size = 0;                     // 0 = off
  std::optional<std::int64_t> forced_bos_token_id;  // forced as the first generated token
  std::optional<std::int64_t> forced_eos_token_id;  // forced at max_length - 1
  std::string early_stopping = "false";             // "true", "false" or "never"
  double length_penalty = 1.0;
  int max_new_tokens = 0;                           // 0 = not set (the pipeline's default)
  int min_length = 0;                               // EOS banned below this length (start token included)
};

struct OutputSpec {
  OutputType type = OutputType::Detections;
  OutputLayout layout = OutputLayout::YoloV8;
  std::vector<OutputField> fields;
  /// Detection classes; empty for open-vocabulary models (prompt-defined).
  std::vector<std::string> class_names;
  /// "coco80" etc. when class_names came from a built-in list, else "inline" or "".
  std::string class_names_source;
  std::vector<std::string> keypoint_names;  // keypoints outputs
  std::optional<GenerationSpec> generation;  // seq2seq_tokens only
  [[nodiscard]] const OutputField* find_field(std::string_view name) const noexcept;
};

/// Every knob is optional: a manifest states only what applies to its model.
struct Postprocessing {
  std::optional<double> confidence_threshold;  // detections / keypoints score cut-off
  std::optional<double> nms_iou_threshold;
  std::optional<int> max_detections;
  std::optional<double> text_threshold;        // grounding_dino token score cut-off
  std::optional<double> keypoint_threshold;
  std::optional<double> mask_threshold;        // on mask logits (any real)
  std::optional<std::string> color_map;        // depth colouring: inferno, viridis, magma, turbo, gray
  std::optional<Interpolation> upsample;       // depth map back to the image (default bilinear)
  std::optional<double> track_high_threshold;  // bytetrack: first-association score
  std::optional<double> track_low_threshold;   // bytetrack: second-association score
  std::optional<double> new_track_threshold;
  std::optional<double> match_threshold;       // IoU matching threshold
  std::optional<int> track_buffer;             // frames a lost track is kept
};

struct SourceInfo {
  std::string weights;  // where the weights come from
  std::string export_command;  // how to get an ONNX file (key `export`)
  std::string license;
  std::string url;
};

/// Where a part's ONNX file comes from (docs/MANIFEST.md "Multi-part models").
enum class PartKind : std::uint8_t {
  File,   // `onnx`: a file of this model, found like a variant's own file
  Model,  // `model` (+ `variant`): a variant of another catalog model (e.g. yolo as a detector)
};
std::string_view to_string(PartKind v) noexcept;

/// The name of a variant's own file (`onnx` of the variant) among its parts;
/// reserved: no declared part may use it.
inline constexpr std::string_view kMainPart = "main";

/// One more ONNX file a variant needs besides its own (`parts:` of `model` or
/// of a variant). Exactly one of `onnx` (File) and `model` (Model) is set.
struct PartSpec {
  std::string name;         // [a-z][a-z0-9_]*, at most 64, not "main"
  std::string description;
  PartKind kind = PartKind::File;
  std::string onnx;         // File: as written (looked up like VariantSpec::onnx)
  std::string sha256;       // File: optional pin of the file's SHA-256 (lower-case hex)
  std::string model;        // Model: a catalog model's name (checked by the catalog scan)
  std::string variant;      // Model: its variant; empty = its default_variant
  /// Model: class names of the referenced detector to keep (e.g. [person]);
  /// empty = every class. Checked against the referenced variant's class names.
  std::vector<std::string> classes;
  SourceLocation where;     // the part's entry in the manifest
  std::string field;        // dotted path of the part, e.g. "model.parts.detector"
};

/// The artefact-cache variant (ArtifactKey::variant, the `{variant}` of
/// `{variant}_{precision}.engine`) of one part of a variant: the variant's own
/// name for kMainPart, "{variant}+{part}" otherwise. '+' appears in neither
/// variant nor part names, so no part's key can equal another part's or
/// another variant's key of the same model.
std::string part_cache_name(std::string_view variant, std::string_view part);

struct VariantSpec {
  std::string name;
  std::string description;
  /// `onnx` as written: relative to the manifest's folder (or to a search dir,
  /// see ModelManifest::find_onnx) or absolute. Empty = "<variant>.onnx".
  std::string onnx;
  /// Optional pin: lower-case hex SHA-256 of the ONNX file. When set,
  /// find_onnx() hashes the file it finds and refuses a mismatch (Corrupt).
  std::string sha256;
  std::optional<ImageSize> input_size;                  // overrides input.preprocessing.size
  std::optional<std::vector<std::string>> class_names;  // overrides output.class_names
  /// Overrides output.layout (and so output.type): another head of the same
  /// family, e.g. yolo_v8_seg / yolo_v8_pose variants of the yolo manifest.
  std::optional<OutputLayout> output_layout;
  /// `parts:` of this variant (they replace model-level parts of the same name).
  std::vector<PartSpec> parts;
  SourceLocation where;
};

/// Everything the pipeline needs for one variant, overrides applied.
struct ResolvedVariant {
  std::string model;
  std::string variant;
  InputSpec input;
  OutputSpec output;
  Postprocessing postprocessing;
  std::int64_t device_memory_mb = 0;
  std::size_t device_memory_bytes = 0;
  std::string onnx;  // as declared (or "<variant>.onnx")
  /// Every part besides the variant's own file (ModelManifest::parts_of).
  std::vector<PartSpec> parts;
};

struct ModelManifest {
  std::string name;
  std::string family;
  std::string description;
  std::vector<VariantSpec> variants;
  std::string default_variant;
  std::vector<std::string> backends;  // declared, or kDefaultBackends when absent
  bool backends_defaulted = false;    // true when `model.backends` was absent
  std::vector<Precision> precisions;
  SourceInfo source;
  InputSpec input;
  OutputSpec output;
  Postprocessing postprocessing;
  std::map<std::string, std::int64_t, std::less<>> device_memory_mb;  // per variant
  std::filesystem::path manifest_path;  // empty when parsed from text without a file
  /// `model.parts`: parts every variant has (a variant's own `parts` entry of
  /// the same name replaces one).
  std::vector<PartSpec> parts;

  [[nodiscard]] const VariantSpec* find_variant(std::string_view v) const noexcept;
  [[nodiscard]] std::vector<std::string> variant_names() const;
  [[nodiscard]] bool supports_backend(std::string_view b) const noexcept;
  [[nodiscard]] bool supports_precision(Precision p) const noexcept;
  /// Folder holding the manifest (relative onnx paths start here).
  [[nodiscard]] std::filesystem::path directory() const;

  /// Empty variant = default_variant. NotFound naming the variants for an unknown one.
  [[nodiscard]] Result<ResolvedVariant> resolve(std::string_view variant = {}) const;
  /// resources.device_memory_mb of a variant, in bytes (MiB * 2^20), for
  /// ExecutionContext budgets.
  [[nodiscard]] Result<std::size_t> device_memory_bytes(std::string_view variant = {}) const;
  /// Where the variant's ONNX file may be, in search order: absolute path as is;
  /// else <manifest dir>/<onnx>, then <dir>/<onnx> and <dir>/<model>/<onnx> for
  /// each of `search_dirs` (e.g. a generated-models folder).
  [[nodiscard]] std::vector<std::filesystem::path> onnx_candidates(
      std::string_view variant, const std::vector<std::filesystem::path>& search_dirs = {}) const;
  /// First existing candidate; NotFound listing every path tried. A candidate
  /// that exists but is not a regular file (FIFO, socket, device, dangling
  /// link, link loop) is an error naming it. When the variant pins `sha256`,
  /// the file is hashed and a mismatch is Corrupt naming the file, the
  /// expected and the actual hash (nothing runs a wrong or damaged download).
  [[nodiscard]] Result<std::filesystem::path> find_onnx(
      std::string_view variant, const std::vector<std::filesystem::path>& search_dirs = {}) const;

  /// The parts of a variant besides its own file: the model-level parts (in
  /// manifest order, a variant's part of the same name in its place), then the
  /// variant's other parts. Empty for an unknown variant and single-file models.
  [[nodiscard]] std::vector<PartSpec> parts_of(std::string_view variant = {}) const;
  /// find_onnx() for a File part of a variant (same search order and sha256
  /// pin; the part's file is looked up like a variant's). NotFound naming the
  /// parts for an unknown part; InvalidArgument for a Model part (its file is
  /// the referenced model's: ModelCatalog::find_part_onnx).
  [[nodiscard]] Result<std::filesystem::path> find_part_onnx(
      std::string_view variant, std::string_view part,
      const std::vector<std::filesystem::path>& search_dirs = {}) const;
};

/// What a manifest problem is; one per reported issue.
enum class ManifestIssueKind : std::uint8_t {
  MalformedYaml,   // the YAML parser rejected the text
  MissingField,    // a required field is absent
  WrongType,       // e.g. a scalar where a list is required, text where a number is
  UnknownField,    // a key the schema does not know (typo)
  DuplicateField,  // the same key twice in one mapping
  UnknownValue,    // unknown backend, precision, output type, layout, dtype, ...
  Inconsistent,    // default variant not in variants, memory for an unknown variant, ...
  OutOfRange,      // negative memory, threshold outside [0, 1], size <= 0, ...
  Io,              // the file could not be read
};
std::string_view to_string(ManifestIssueKind k) noexcept;

struct ManifestIssue {
  ManifestIssueKind kind = ManifestIssueKind::MalformedYaml;
  SourceLocation where;
  std::string field;    // dotted path, e.g. "model.backends[2]"; empty for whole-file problems
  std::string message;  // what is wrong and what is allowed
};
/// "file:line:col: model.backends[2]: unknown backend 'tensorrtt' (did you mean 'tensorrt'?)"
std::string to_string(const ManifestIssue& issue);

/// Outcome of checking one manifest: the manifest when there are no issues.
struct ManifestReport {
  std::optional<ModelManifest> manifest;
  std::vector<ManifestIssue> issues;
  [[nodiscard]] bool ok() const noexcept { return manifest.has_value() && issues.empty(); }
};

/// Never throws, whatever the bytes: every problem becomes an issue.
/// `origin` names the text in locations (and sets manifest_path).
ManifestReport analyze_manifest(std::string_view yaml_text, const std::filesystem::path& origin) noexcept;
ManifestReport analyze_manifest_file(const std::filesystem::path& file) noexcept;

/// Result wrappers: InvalidArgument (IoError/NotFound for unreadable files)
/// whose message lists every issue, one per line.
Result<ModelManifest> parse_manifest(std::string_view yaml_text, const std::filesystem::path& origin);
Result<ModelManifest> load_manifest(const std::filesystem::path& file);

/// Built-in class/keypoint name lists a manifest may name instead of listing
/// them inline ("coco80", "coco17_keypoints"). Null for an unknown name.
const std::vector<std::string>* builtin_name_list(std::string_view name) noexcept;
std::vector<std::string_view> builtin_name_list_names();

}  // namespace aegisrt::models
