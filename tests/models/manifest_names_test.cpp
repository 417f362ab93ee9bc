// The name tables of manifest_names.h: every enum value has exactly one name
// that round-trips, and every "allowed: ..." list in a rejection message names
// every value. The enumerators are listed here by exhaustive switches (a new
// enumerator fails to compile with -Werror=switch until it is listed), so the
// tables are checked against the enums, not against themselves.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "aegisrt/models/manifest.h"
#include "aegisrt/models/manifest_names.h"
#include "models/manifest_fixtures.h"

namespace aegisrt::models {
namespace {

using testing::tiny_with_line;

// ---- every enumerator, independent of the tables

bool is_enumerator(InputType v) {
  switch (v) {
    case InputType::Image:
    case InputType::ImageText:
    case InputType::Detections: return true;
  }
  return false;
}
bool is_enumerator(ColorFormat v) {
  switch (v) {
    case ColorFormat::RGB:
    case ColorFormat::BGR:
    case ColorFormat::Gray: return true;
  }
  return false;
}
bool is_enumerator(ResizeMethod v) {
  switch (v) {
    case ResizeMethod::Letterbox:
    case ResizeMethod::Resize: return true;
  }
  return false;
}
bool is_enumerator(Interpolation v) {
  switch (v) {
    case Interpolation::Bilinear:
    case Interpolation::Bicubic: return true;
  }
  return false;
}
bool is_enumerator(BorderMode v) {
  switch (v) {
    case BorderMode::Reflect: return true;
  }
  return false;
}
bool is_enumerator(PadPosition v) {
  switch (v) {
    case PadPosition::Center:
    case PadPosition::TopLeft: return true;
  }
  return false;
}
bool is_enumerator(Layout v) {
  switch (v) {
    case Layout::NCHW:
    case Layout::NHWC: return true;
  }
  return false;
}
bool is_enumerator(OutputType v) {
  switch (v) {
    case OutputType::Detections:
    case OutputType::DepthMap:
    case OutputType::Keypoints:
    case OutputType::Segmentation:
    case OutputType::TrackedObjects:
    case OutputType::MultiTask: return true;
  }
  return false;
}
bool is_enumerator(OutputLayout v) {
  switch (v) {
    case OutputLayout::YoloV8:
    case OutputLayout::GroundingDino:
    case OutputLayout::RelativeInverseDepth:
    case OutputLayout::MetricDepth:
    case OutputLayout::SimCC:
    case OutputLayout::YoloV8Seg:
    case OutputLayout::YoloV8Pose:
    case OutputLayout::SamMasks:
    case OutputLayout::Tracks:
    case OutputLayout::Seq2SeqTokens: return true;
  }
  return false;
}
bool is_enumerator(Precision v) {
  switch (v) {
    case Precision::FP32:
    case Precision::FP16:
    case Precision::INT8: return true;
  }
  return false;
}
bool is_enumerator(ManifestIssueKind v) {
  switch (v) {
    case ManifestIssueKind::MalformedYaml:
    case ManifestIssueKind::MissingField:
    case ManifestIssueKind::WrongType:
    case ManifestIssueKind::UnknownField:
    case ManifestIssueKind::DuplicateField:
    case ManifestIssueKind::UnknownValue:
    case ManifestIssueKind::Inconsistent:
    case ManifestIssueKind::OutOfRange:
    case ManifestIssueKind::Io: return true;
  }
  return false;
}

bool is_enumerator(PartKind v) {
  switch (v) {
    case PartKind::File:
    case PartKind::Model: return true;
  }
  return false;
}

/// Every value of E (all are std::uint8_t enums), found by the switch above.
template <typename E>
std::vector<E> all_values() {
  std::vector<E> out;
  for (int i = 0; i < 256; ++i) {
    const auto v = static_cast<E>(i);
    if (is_enumerator(v)) out.push_back(v);
  }
  return out;
}

template <typename E>
void expect_table_complete(std::size_t expected_count) {
  const auto values = all_values<E>();
  ASSERT_EQ(values.size(), expected_count) << "enumerators found by the switch";
  EXPECT_EQ(name_table<E>().size(), values.size()) << NameTable<E>::what << ": one row per value";
  std::set<std::string_view> names;
  for (const E v : values) {
    const std::string_view name = name_of(v);
    EXPECT_NE(name, "unknown") << NameTable<E>::what << " value " << static_cast<int>(v) << " has no row";
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(names.insert(name).second) << "name '" << name << "' used twice";
    const auto back = parse_name<E>(name);
    ASSERT_TRUE(back.has_value()) << name;
    EXPECT_EQ(*back, v) << name;
  }
  EXPECT_FALSE(parse_name<E>("no_such_name").has_value());
}

TEST(ManifestNames, EveryValueRoundTripsThroughItsTable) {
  expect_table_complete<InputType>(3);
  expect_table_complete<ColorFormat>(3);
  expect_table_complete<ResizeMethod>(2);
  expect_table_complete<PadPosition>(2);
  expect_table_complete<Interpolation>(2);
  expect_table_complete<BorderMode>(1);
  expect_table_complete<Layout>(2);
  expect_table_complete<OutputType>(6);
  expect_table_complete<OutputLayout>(10);
  expect_table_complete<Precision>(3);
  expect_table_complete<ManifestIssueKind>(9);
  expect_table_complete<PartKind>(2);
}

TEST(ManifestNames, PublicNamesAreTheTableNames) {
  for (auto v : all_values<InputType>()) EXPECT_EQ(to_string(v), name_of(v));
  for (auto v : all_values<ColorFormat>()) EXPECT_EQ(to_string(v), name_of(v));
  for (auto v : all_values<ResizeMethod>()) EXPECT_EQ(to_string(v), name_of(v));
  for (auto v : all_values<PadPosition>()) EXPECT_EQ(to_string(v), name_of(v));
  for (auto v : all_values<Interpolation>()) EXPECT_EQ(to_string(v), name_of(v));
  for (auto v : all_values<BorderMode>()) EXPECT_EQ(to_string(v), name_of(v));
  for (auto v : all_values<Layout>()) EXPECT_EQ(to_string(v), name_of(v));
  for (auto v : all_values<ManifestIssueKind>()) EXPECT_EQ(to_string(v), name_of(v));
  for (auto v : all_values<PartKind>()) EXPECT_EQ(to_string(v), name_of(v));
  for (auto v : all_values<OutputType>()) {
    EXPECT_EQ(to_string(v), name_of(v));
    EXPECT_EQ(parse_output_type(name_of(v)), v);
  }
  for (auto v : all_values<OutputLayout>()) {
    EXPECT_EQ(to_string(v), name_of(v));
    EXPECT_EQ(parse_output_layout(name_of(v)), v);
  }
  // The manifest's precision names are the runtime's canonical ones.
  for (auto v : all_values<Precision>()) {
    EXPECT_EQ(to_string(v), name_of(v));
    EXPECT_EQ(parse_precision(name_of(v)), v);
  }
}

// ---- "allowed: ..." lists in rejection messages

/// The message of the one issue at `field` in `text`.
std::string rejection(const std::string& text, const std::string& field) {
  const auto r = analyze_manifest(text, "tiny/manifest.yaml");
  for (const auto& i : r.issues) {
    if (i.field == field) return i.message;
  }
  std::string all;
  for (const auto& i : r.issues) all += "\n  " + to_string(i);
  ADD_FAILURE() << "no issue at '" << field << "'; issues:" << all;
  return {};
}

/// The comma-separated names of the "allowed" list (up to a suggestion, if any).
std::set<std::string> allowed_in(const std::string& message) {
  std::set<std::string> out;
  // "allowed: a, b" or "allowed for type t: a, b" (the last "allowed" in the message).
  const auto word = message.rfind("allowed");
  if (word == std::string::npos) return out;
  const auto at = message.find(": ", word);
  if (at == std::string::npos) return out;
  std::string list = message.substr(at + 2);
  if (auto cut = list.find(" (did you mean"); cut != std::string::npos) list.resize(cut);
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = list.find(", ", start);
    out.insert(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 2;
  }
  return out;
}

template <typename E>
std::set<std::string> every_name() {
  std::set<std::string> out;
  for (auto v : all_values<E>()) out.emplace(name_of(v));
  return out;
}

TEST(ManifestNames, RejectionsListEveryAllowedValue) {
  EXPECT_EQ(allowed_in(rejection(tiny_with_line(12, "  type: picture"), "input.type")), every_name<InputType>());
  EXPECT_EQ(allowed_in(rejection(tiny_with_line(13, "  color_format: cmyk"), "input.color_format")),
            every_name<ColorFormat>());
  EXPECT_EQ(allowed_in(rejection(tiny_with_line(15, "    resize: crop"), "input.preprocessing.resize")),
            every_name<ResizeMethod>());
  EXPECT_EQ(allowed_in(rejection(tiny_with_line(17, "    pad_position: bottom"), "input.preprocessing.pad_position")),
            every_name<PadPosition>());
  EXPECT_EQ(allowed_in(rejection(tiny_with_line(19, "    layout: CHW"), "input.preprocessing.layout")),
            every_name<Layout>());
  EXPECT_EQ(allowed_in(rejection(tiny_with_line(21, "  type: boxes"), "output.type")), every_name<OutputType>());
  EXPECT_EQ(allowed_in(rejection(tiny_with_line(7, "  precisions: [fp64]"), "model.precisions[0]")),
            every_name<Precision>());
  // A variant's output_layout may name any layout.
  EXPECT_EQ(allowed_in(rejection(tiny_with_line(4, "  variants: [a, {name: b, output_layout: yolo}]"),
                                 "model.variants[1].output_layout")),
            every_name<OutputLayout>());
  // Without a valid type, output.layout may be any layout.
  auto no_type = testing::split_lines(tiny_with_line(21, "  type: boxes"));
  no_type[21] = "  layout: yolo";
  EXPECT_EQ(allowed_in(rejection(testing::join_lines(no_type), "output.layout")), every_name<OutputLayout>());
  // postprocessing.color_map.
  std::set<std::string> maps(std::begin(kColorMapNames), std::end(kColorMapNames));
  EXPECT_EQ(allowed_in(rejection(tiny_with_line(28, "  color_map: jet"), "postprocessing.color_map")), maps);
  // dtypes: every name of the core dtype table.
  std::set<std::string> dtypes;
  for (DType t : kAllDTypes) dtypes.emplace(dtype_name(t));
  EXPECT_EQ(allowed_in(rejection(tiny_with_line(24, "    - {name: output0, dtype: real, shape: [1, 6, 126]}"),
                                 "output.fields[0].dtype")),
            dtypes);
}

TEST(ManifestNames, LayoutsAllowedForATypeAreAllThatDecodeIt) {
  // Regression: the list was hand-written and left out yolo_v8_seg and yolo_v8_pose.
  for (auto type : all_values<OutputType>()) {
    std::set<std::string> expected;
    for (auto l : all_values<OutputLayout>()) {
      if (output_type_of(l) == type) expected.emplace(name_of(l));
    }
    const std::string text = tiny_with_line(21, "  type: " + std::string(name_of(type)));
    auto lines = testing::split_lines(text);
    lines[21] = "  layout: no_such_layout";
    const std::string message = rejection(testing::join_lines(lines), "output.layout");
    EXPECT_NE(message.find("allowed for type " + std::string(name_of(type))), std::string::npos) << message;
    EXPECT_EQ(allowed_in(message), expected) << message;
  }
}

}  // namespace
}  // namespace aegisrt::models
