// The one name table of each enum a manifest spells as text. Parsing
// (parse_name), printing (to_string / name_of) and the "allowed: ..." lists of
// the parser's rejection messages (allowed_names) are all derived from these
// tables, so they cannot drift apart. A new enum value needs one new row here
// (tests/models/manifest_names_test.cpp checks every value has one).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/models/manifest.h"

namespace aegisrt::models {

template <typename E>
struct NamedValue {
  E value;
  std::string_view name;
};

/// Primary template left undefined: only enums with a table below have names.
template <typename E>
struct NameTable;

template <>
struct NameTable<InputType> {
  static constexpr std::string_view what = "input type";
  static constexpr NamedValue<InputType> entries[] = {
      {InputType::Image, "image"}, {InputType::ImageText, "image_text"}, {InputType::Detections, "detections"}};
};

template <>
struct NameTable<ColorFormat> {
  static constexpr std::string_view what = "color format";
  static constexpr NamedValue<ColorFormat> entries[] = {
      {ColorFormat::RGB, "rgb"}, {ColorFormat::BGR, "bgr"}, {ColorFormat::Gray, "gray"}};
};

template <>
struct NameTable<ResizeMethod> {
  static constexpr std::string_view what = "resize method";
  static constexpr NamedValue<ResizeMethod> entries[] = {{ResizeMethod::Letterbox, "letterbox"},
                                                         {ResizeMethod::Resize, "resize"}};
};

template <>
struct NameTable<Interpolation> {
  static constexpr std::string_view what = "interpolation";
  static constexpr NamedValue<Interpolation> entries[] = {{Interpolation::Bilinear, "bilinear"},
                                                          {Interpolation::Bicubic, "bicubic"}};
};

template <>
struct NameTable<BorderMode> {
  static constexpr std::string_view what = "border mode";
  static constexpr NamedValue<BorderMode> entries[] = {{BorderMode::Reflect, "reflect"}};
};

template <>
struct NameTable<PadPosition> {
  static constexpr std::string_view what = "pad position";
  static constexpr NamedValue<PadPosition> entries[] = {{PadPosition::Center, "center"},
                                                        {PadPosition::TopLeft, "top_left"}};
};

template <>
struct NameTable<Layout> {
  static constexpr std::string_view what = "layout";
  static constexpr NamedValue<Layout> entries[] = {{Layout::NCHW, "NCHW"}, {Layout::NHWC, "NHWC"}};
};

template <>
struct NameTable<OutputType> {
  static constexpr std::string_view what = "output type";
  static constexpr NamedValue<OutputType> entries[] = {
      {OutputType::Detections, "detections"},         {OutputType::DepthMap, "depth_map"},
      {OutputType::Keypoints, "keypoints"},           {OutputType::Segmentation, "segmentation"},
      {OutputType::TrackedObjects, "tracked_objects"}, {OutputType::MultiTask, "multi_task"}};
};

template <>
struct NameTable<OutputLayout> {
  static constexpr std::string_view what = "output layout";
  static constexpr NamedValue<OutputLayout> entries[] = {
      {OutputLayout::YoloV8, "yolo_v8"},
      {OutputLayout::GroundingDino, "grounding_dino"},
      {OutputLayout::RelativeInverseDepth, "relative_inverse_depth"},
      {OutputLayout::MetricDepth, "metric_depth"},
      {OutputLayout::SimCC, "simcc"},
      {OutputLayout::SamMasks, "sam_masks"},
      {OutputLayout::Tracks, "tracks"},
      {OutputLayout::Seq2SeqTokens, "seq2seq_tokens"},
      {OutputLayout::YoloV8Seg, "yolo_v8_seg"},
      {OutputLayout::YoloV8Pose, "yolo_v8_pose"}};
};

template <>
struct NameTable<PartKind> {
  static constexpr std::string_view what = "part kind";
  static constexpr NamedValue<PartKind> entries[] = {{PartKind::File, "file"}, {PartKind::Model, "model"}};
};

/// The keys of one entry of a `parts:` mapping (docs/MANIFEST.md "Multi-part models").
inline constexpr std::string_view kPartKeys[] = {"onnx", "sha256", "model", "variant", "classes", "description"};

/// The manifest's precision vocabulary: the canonical names only (the CLI's
/// parse_precision() also takes "float16"; a manifest does not).
template <>
struct NameTable<Precision> {
  static constexpr std::string_view what = "precision";
  static constexpr NamedValue<Precision> entries[] = {
      {Precision::FP32, "fp32"}, {Precision::FP16, "fp16"}, {Precision::INT8, "int8"}};
};

template <>
struct NameTable<ManifestIssueKind> {
  static constexpr std::string_view what = "issue kind";
  static constexpr NamedValue<ManifestIssueKind> entries[] = {
      {ManifestIssueKind::MalformedYaml, "malformed_yaml"}, {ManifestIssueKind::MissingField, "missing_field"},
      {ManifestIssueKind::WrongType, "wrong_type"},         {ManifestIssueKind::UnknownField, "unknown_field"},
      {ManifestIssueKind::DuplicateField, "duplicate_field"}, {ManifestIssueKind::UnknownValue, "unknown_value"},
      {ManifestIssueKind::Inconsistent, "inconsistent"},    {ManifestIssueKind::OutOfRange, "out_of_range"},
      {ManifestIssueKind::Io, "io"}};
};

/// postprocessing.color_map is kept as text (the depth decoder maps it), but
/// its vocabulary is one list too.
inline constexpr std::string_view kColorMapNames[] = {"inferno", "viridis", "magma", "turbo", "gray"};

template <typename E>
constexpr std::span<const NamedValue<E>> name_table() noexcept {
  return NameTable<E>::entries;
}

/// The table's name of `v`; "unknown" for a value with no row.
template <typename E>
constexpr std::string_view name_of(E v) noexcept {
  for (const auto& e : NameTable<E>::entries) {
    if (e.value == v) return e.name;
  }
  return "unknown";
}

/// The value named exactly `s`; nullopt otherwise.
template <typename E>
constexpr std::optional<E> parse_name(std::string_view s) noexcept {
  for (const auto& e : NameTable<E>::entries) {
    if (e.name == s) return e.value;
  }
  return std::nullopt;
}

/// Every name of the table, in table order (for "allowed: ..." messages).
template <typename E>
std::vector<std::string> allowed_names() {
  std::vector<std::string> out;
  for (const auto& e : NameTable<E>::entries) out.emplace_back(e.name);
  return out;
}

}  // namespace aegisrt::models
