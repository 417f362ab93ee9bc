// Manifest parsing: the plain structs it builds, the default-backends rule and
// every rejection path, each with its kind, field, line and column.
#include <gtest/gtest.h>

#include <cmath>

#include "aegisrt/models/catalog.h"
#include "aegisrt/models/manifest.h"
#include "models/manifest_fixtures.h"

namespace aegisrt::models {
namespace {

using testing::kTinyManifest;
using testing::tiny_with_line;
using testing::tiny_without_line;

ManifestReport analyze(const std::string& text) { return analyze_manifest(text, "tiny/manifest.yaml"); }

/// The one issue of `kind` at `field`; fails the test when absent.
const ManifestIssue* find_issue(const ManifestReport& r, ManifestIssueKind kind, const std::string& field) {
  for (const auto& i : r.issues) {
    if (i.kind == kind && i.field == field) return &i;
  }
  std::string all;
  for (const auto& i : r.issues) all += "\n  [" + std::string(to_string(i.kind)) + "] " + to_string(i);
  ADD_FAILURE() << "no " << to_string(kind) << " issue at '" << field << "'; issues:" << all;
  return nullptr;
}

/// Asserts exactly one issue, of `kind` at `field`, on `line` (and `column` if > 0).
void expect_single_issue(const std::string& text, ManifestIssueKind kind, const std::string& field, int line,
                         int column = 0, const std::string& message_part = {}) {
  const auto r = analyze(text);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.manifest.has_value());
  ASSERT_EQ(r.issues.size(), 1U) << (r.issues.empty() ? std::string("no issues") : to_string(r.issues[0]));
  const ManifestIssue* i = find_issue(r, kind, field);
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->where.file, "tiny/manifest.yaml");
  EXPECT_EQ(i->where.line, line) << to_string(*i);
  if (column > 0) {
    EXPECT_EQ(i->where.column, column) << to_string(*i);
  }
  if (!message_part.empty()) {
    EXPECT_NE(i->message.find(message_part), std::string::npos) << i->message;
  }
}

TEST(ManifestParse, TinyManifestBecomesPlainStructs) {
  const auto r = analyze(kTinyManifest);
  ASSERT_TRUE(r.ok()) << (r.issues.empty() ? "" : to_string(r.issues[0]));
  const ModelManifest& m = *r.manifest;
  EXPECT_EQ(m.name, "tiny");
  EXPECT_EQ(m.family, "test");
  EXPECT_EQ(m.variant_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(m.default_variant, "a");
  EXPECT_EQ(m.backends, (std::vector<std::string>{"onnx", "tensorrt"}));
  EXPECT_FALSE(m.backends_defaulted);
  EXPECT_EQ(m.precisions, (std::vector<Precision>{Precision::FP32, Precision::FP16}));
  EXPECT_EQ(m.input.type, InputType::Image);
  EXPECT_EQ(m.input.color_format, ColorFormat::RGB);
  EXPECT_EQ(m.input.dtype, DType::Float32);
  ASSERT_TRUE(m.input.preprocessing.has_value());
  const auto& p = *m.input.preprocessing;
  EXPECT_EQ(p.resize, ResizeMethod::Letterbox);
  EXPECT_EQ(p.size, (ImageSize{64, 96}));
  EXPECT_EQ(p.pad_value, 114);
  EXPECT_EQ(p.pad_position, PadPosition::Center);
  EXPECT_DOUBLE_EQ(p.normalize.scale, 1.0 / 255.0);
  EXPECT_EQ(p.normalize.mean, (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(p.normalize.stddev, (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(p.layout, Layout::NCHW);
  EXPECT_EQ(m.output.type, OutputType::Detections);
  EXPECT_EQ(m.output.layout, OutputLayout::YoloV8);
  ASSERT_EQ(m.output.fields.size(), 1U);
  EXPECT_EQ(m.output.fields[0].desc(), (TensorDesc{"output0", {1, 6, 126}, DType::Float32}));
  EXPECT_EQ(m.output.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(m.postprocessing.confidence_threshold, 0.25);
  EXPECT_EQ(m.postprocessing.nms_iou_threshold, 0.45);
  EXPECT_FALSE(m.postprocessing.max_detections.has_value());
  EXPECT_EQ(m.device_memory_mb.at("a"), 10);
  EXPECT_EQ(m.device_memory_mb.at("b"), 20);
  auto bytes = m.device_memory_bytes("b");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, 20U * 1024U * 1024U);
  EXPECT_EQ(*m.device_memory_bytes(), 10U * 1024U * 1024U);  // default variant
  EXPECT_EQ(m.manifest_path, "tiny/manifest.yaml");
}

TEST(ManifestParse, ParseManifestWrapperReturnsValueOrListsEveryIssue) {
  auto ok = parse_manifest(kTinyManifest, "x.yaml");
  ASSERT_TRUE(ok.ok()) << ok.error();
  auto bad = parse_manifest(tiny_with_line(5, "  default_variant: c").replace(0, 0, ""), "x.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(bad.error().message().find("x.yaml:5:20: model.default_variant"), std::string::npos)
      << bad.error().message();
}

// ---------------------------------------------------------------- default backends rule

TEST(ManifestBackends, AbsentFieldMeansCudaRocmOpenvino) {
  const auto r = analyze(tiny_without_line(6));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.manifest->backends, (std::vector<std::string>{"cuda", "rocm", "openvino"}));
  EXPECT_TRUE(r.manifest->backends_defaulted);
  EXPECT_TRUE(r.manifest->supports_backend("rocm"));
  EXPECT_FALSE(r.manifest->supports_backend("tensorrt"));
  EXPECT_FALSE(r.manifest->supports_backend("onnx"));
}

TEST(ManifestBackends, DeclaredListIsTakenAsIsNotMergedWithDefault) {
  const auto r = analyze(tiny_with_line(6, "  backends: [tvm]"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.manifest->backends, (std::vector<std::string>{"tvm"}));
  EXPECT_FALSE(r.manifest->backends_defaulted);
}

TEST(ManifestBackends, EmptyListIsRejected) {
  expect_single_issue(tiny_with_line(6, "  backends: []"), ManifestIssueKind::Inconsistent, "model.backends", 6, 13);
}

TEST(ManifestBackends, NullValueIsRejectedNotDefaulted) {
  // "backends:" with nothing after it must not silently become the default list.
  expect_single_issue(tiny_with_line(6, "  backends:"), ManifestIssueKind::WrongType, "model.backends", 6, 3);
}

TEST(ManifestBackends, UnknownBackendSuggestsNearest) {
  expect_single_issue(tiny_with_line(6, "  backends: [onnx, tensorrtt]"), ManifestIssueKind::UnknownValue,
                      "model.backends[1]", 6, 20, "did you mean 'tensorrt'?");
}

TEST(ManifestBackends, DuplicateBackendIsRejected) {
  expect_single_issue(tiny_with_line(6, "  backends: [onnx, onnx]"), ManifestIssueKind::Inconsistent,
                      "model.backends[1]", 6, 20);
}

// ---------------------------------------------------------------- rejection paths

TEST(ManifestReject, MalformedYamlHasLineAndColumn) {
  // "name: tiny: x" is an illegal map value on line 2.
  const auto r = analyze(tiny_with_line(2, "  name: tiny: x"));
  ASSERT_EQ(r.issues.size(), 1U);
  EXPECT_EQ(r.issues[0].kind, ManifestIssueKind::MalformedYaml);
  EXPECT_EQ(r.issues[0].where.line, 2);
  EXPECT_GT(r.issues[0].where.column, 0);
  EXPECT_NE(r.issues[0].message.find("malformed YAML"), std::string::npos);
}

TEST(ManifestReject, UnclosedFlowListIsMalformed) {
  const auto r = analyze(tiny_with_line(4, "  variants: [a, b"));
  ASSERT_EQ(r.issues.size(), 1U);
  EXPECT_EQ(r.issues[0].kind, ManifestIssueKind::MalformedYaml);
  EXPECT_GE(r.issues[0].where.line, 4);
}

TEST(ManifestReject, MissingFieldPointsAtItsSection) {
  expect_single_issue(tiny_without_line(3), ManifestIssueKind::MissingField, "model.family", 1, 1,
                      "missing required field 'family' in model");
}

TEST(ManifestReject, MissingSection) {
  auto lines = testing::split_lines(kTinyManifest);
  lines.resize(28);  // drop resources (lines 29-30)
  expect_single_issue(testing::join_lines(lines), ManifestIssueKind::MissingField, "resources", 1, 1);
}

TEST(ManifestReject, EmptyDocument) {
  const auto r = analyze("");
  ASSERT_EQ(r.issues.size(), 1U);
  EXPECT_EQ(r.issues[0].kind, ManifestIssueKind::MissingField);
  const auto comment_only = analyze("# nothing here\n");
  ASSERT_EQ(comment_only.issues.size(), 1U);
}

TEST(ManifestReject, RootMustBeAMapping) {
  expect_single_issue("- model\n- source\n", ManifestIssueKind::WrongType, "", 1, 1, "expected a mapping");
}

TEST(ManifestReject, WrongTypeListExpected) {
  expect_single_issue(tiny_with_line(4, "  variants: a"), ManifestIssueKind::WrongType, "model.variants", 4, 13,
                      "expected a list, got a scalar");
}

TEST(ManifestReject, WrongTypeIntegerExpected) {
  expect_single_issue(tiny_with_line(17, "    pad_value: high"), ManifestIssueKind::WrongType,
                      "input.preprocessing.pad_value", 17, 16, "expected an integer, got 'high'");
}

TEST(ManifestReject, WrongTypeNumberExpected) {
  expect_single_issue(tiny_with_line(27, "  confidence_threshold: [0.3]"), ManifestIssueKind::WrongType,
                      "postprocessing.confidence_threshold", 27, 25);
}

TEST(ManifestReject, WrongTypeMappingExpected) {
  auto lines = testing::split_lines(kTinyManifest);
  lines[7] = "source: github";
  lines.erase(lines.begin() + 8, lines.begin() + 10);  // drop weights/export
  expect_single_issue(testing::join_lines(lines), ManifestIssueKind::WrongType, "source", 8, 9, "expected a mapping");
}

TEST(ManifestReject, DefaultVariantNotInVariants) {
  expect_single_issue(tiny_with_line(5, "  default_variant: c"), ManifestIssueKind::Inconsistent,
                      "model.default_variant", 5, 20, "default variant 'c' is not one of the variants: a, b");
}

TEST(ManifestReject, PrecisionNotAllowed) {
  expect_single_issue(tiny_with_line(7, "  precisions: [fp32, fp64]"), ManifestIssueKind::UnknownValue,
                      "model.precisions[1]", 7, 22, "precision 'fp64' is not allowed; allowed: fp32, fp16, int8");
}

TEST(ManifestReject, PrecisionAliasesAreNotManifestVocabulary) {
  // The CLI accepts "float16", the manifest only the three canonical names.
  expect_single_issue(tiny_with_line(7, "  precisions: [float16]"), ManifestIssueKind::UnknownValue,
                      "model.precisions[0]", 7, 16);
}

TEST(ManifestReject, DuplicatePrecision) {
  expect_single_issue(tiny_with_line(7, "  precisions: [fp16, fp16]"), ManifestIssueKind::Inconsistent,
                      "model.precisions[1]", 7, 22);
}

TEST(ManifestReject, NegativeMemory) {
  expect_single_issue(tiny_with_line(30, "  device_memory_mb: {a: -5, b: 20}"), ManifestIssueKind::OutOfRange,
                      "resources.device_memory_mb.a", 30, 25, "must not be negative, got -5 MB");
}

TEST(ManifestReject, MemoryMissingForAVariant) {
  expect_single_issue(tiny_with_line(30, "  device_memory_mb: {a: 10}"), ManifestIssueKind::MissingField,
                      "resources.device_memory_mb.b", 29, 1, "variant 'b'");
}

TEST(ManifestReject, MemoryForUnknownVariant) {
  expect_single_issue(tiny_with_line(30, "  device_memory_mb: {a: 10, b: 20, bb: 1}"),
                      ManifestIssueKind::Inconsistent, "resources.device_memory_mb.bb", 30, 36,
                      "did you mean 'b'?");
}

TEST(ManifestReject, UnknownOutputType) {
  expect_single_issue(tiny_with_line(21, "  type: boxes"), ManifestIssueKind::UnknownValue, "output.type", 21, 9,
                      "allowed: detections, depth_map, keypoints, segmentation, tracked_objects, multi_task");
}

TEST(ManifestReject, LayoutOfAnotherOutputType) {
  expect_single_issue(tiny_with_line(21, "  type: depth_map"), ManifestIssueKind::Inconsistent, "output.layout", 22, 11,
                      "allowed for depth_map: relative_inverse_depth, metric_depth");
}

TEST(ManifestReject, UnknownLayoutSuggests) {
  expect_single_issue(tiny_with_line(22, "  layout: yolov8"), ManifestIssueKind::UnknownValue, "output.layout", 22, 11,
                      "did you mean 'yolo_v8'?");
}

TEST(ManifestReject, YoloShapeMustMatchClassCount) {
  expect_single_issue(tiny_with_line(24, "    - {name: output0, dtype: float32, shape: [1, 84, 126]}"),
                      ManifestIssueKind::Inconsistent, "output.fields[0].shape", 20, 1,
                      "with 2 classes needs shape[1] = 6, got 84");
}

TEST(ManifestReject, YoloNeedsClassNames) {
  expect_single_issue(tiny_without_line(25), ManifestIssueKind::MissingField, "output.class_names", 20, 1);
}

TEST(ManifestReject, UnknownBuiltinClassList) {
  expect_single_issue(tiny_with_line(25, "  class_names: coco81"), ManifestIssueKind::UnknownValue,
                      "output.class_names", 25, 16, "did you mean 'coco80'?");
}

TEST(ManifestReject, UnknownDType) {
  expect_single_issue(tiny_with_line(24, "    - {name: output0, dtype: float33, shape: [1, 6, 126]}"),
                      ManifestIssueKind::UnknownValue, "output.fields[0].dtype", 24, 30);
}

TEST(ManifestReject, BadShapeDimension) {
  expect_single_issue(tiny_with_line(24, "    - {name: output0, dtype: float32, shape: [1, 0, 126]}"),
                      ManifestIssueKind::OutOfRange, "output.fields[0].shape[1]", 24, 50);
}

TEST(ManifestReject, UnknownFieldSuggestsTheKnownOne) {
  expect_single_issue(tiny_with_line(28, "  nms_iou: 0.45"), ManifestIssueKind::UnknownField, "postprocessing.nms_iou",
                      28, 3, "did you mean 'nms_iou_threshold'?");
}

TEST(ManifestReject, UnknownTopLevelSection) {
  const std::string text = std::string(kTinyManifest) + "extras: {}\n";
  expect_single_issue(text, ManifestIssueKind::UnknownField, "extras", 31, 1);
}

TEST(ManifestReject, DuplicateKey) {
  expect_single_issue(tiny_with_line(28, "  confidence_threshold: 0.3"), ManifestIssueKind::DuplicateField,
                      "postprocessing.confidence_threshold", 28, 3);
}

TEST(ManifestReject, ThresholdOutsideUnitInterval) {
  expect_single_issue(tiny_with_line(27, "  confidence_threshold: 1.5"), ManifestIssueKind::OutOfRange,
                      "postprocessing.confidence_threshold", 27, 25, "[0, 1]");
}

TEST(ManifestReject, MeanNeedsOneValuePerChannel) {
  expect_single_issue(tiny_with_line(18, "    normalize: {scale: 1/255, mean: [0, 0], std: [1, 1, 1]}"),
                      ManifestIssueKind::Inconsistent, "input.preprocessing.normalize.mean", 18, 37, "needs 3 value(s)");
}

TEST(ManifestReject, ZeroStdWouldDivideByZero) {
  expect_single_issue(tiny_with_line(18, "    normalize: {scale: 1/255, mean: [0, 0, 0], std: [1, 0, 1]}"),
                      ManifestIssueKind::OutOfRange, "input.preprocessing.normalize.std[1]", 18, 57);
}

TEST(ManifestReject, ScaleFractionWithZeroDenominator) {
  expect_single_issue(tiny_with_line(18, "    normalize: {scale: 1/0, mean: [0, 0, 0], std: [1, 1, 1]}"),
                      ManifestIssueKind::WrongType, "input.preprocessing.normalize.scale", 18, 24);
}

TEST(ManifestReject, SizeNeedsHeightAndWidth) {
  expect_single_issue(tiny_with_line(16, "    size: [64]"), ManifestIssueKind::WrongType, "input.preprocessing.size",
                      16, 11, "expected [height, width]");
  expect_single_issue(tiny_with_line(16, "    size: [0, 64]"), ManifestIssueKind::OutOfRange,
                      "input.preprocessing.size", 16, 11);
}

TEST(ManifestReject, UnknownResizeMethod) {
  expect_single_issue(tiny_with_line(15, "    resize: letterbx"), ManifestIssueKind::UnknownValue,
                      "input.preprocessing.resize", 15, 13, "did you mean 'letterbox'?");
}

TEST(ManifestReject, PadValueOutOfRange) {
  expect_single_issue(tiny_with_line(17, "    pad_value: 300"), ManifestIssueKind::OutOfRange,
                      "input.preprocessing.pad_value", 17, 16);
}

// ---------------------------------------------------------------- ZoeDepth pre-processing keys
// kTinyManifest with line 15 (resize: letterbox) replaced by `lines`, which
// then start on line 15.
std::string tiny_preprocessing(const std::string& lines) { return tiny_with_line(15, lines); }

constexpr const char* kZoeLines =
    "    resize: resize\n"                       // 15
    "    interpolation: bilinear\n"              // 16
    "    align_corners: true\n"                  // 17
    "    border: {mode: reflect, factor: 3}";     // 18

TEST(ManifestPreprocessing, AlignCornersAndBorderAreRead) {
  const auto r = analyze(tiny_preprocessing(kZoeLines));
  ASSERT_TRUE(r.ok()) << (r.issues.empty() ? std::string() : to_string(r.issues[0]));
  const auto& pre = *r.manifest->input.preprocessing;
  EXPECT_TRUE(pre.align_corners);
  ASSERT_TRUE(pre.border.has_value());
  EXPECT_EQ(pre.border->mode, BorderMode::Reflect);
  EXPECT_DOUBLE_EQ(pre.border->factor, 3.0);
  // Absent keys: half-pixel centres, no border.
  const auto plain = analyze(kTinyManifest);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain.manifest->input.preprocessing->align_corners);
  EXPECT_FALSE(plain.manifest->input.preprocessing->border.has_value());
  const auto off = analyze(tiny_preprocessing("    resize: resize\n    align_corners: false\n"
                                              "    border: {mode: reflect, factor: 1.5}"));
  ASSERT_TRUE(off.ok()) << (off.issues.empty() ? std::string() : to_string(off.issues[0]));
  EXPECT_FALSE(off.manifest->input.preprocessing->align_corners);
  EXPECT_DOUBLE_EQ(off.manifest->input.preprocessing->border->factor, 1.5);
}

TEST(ManifestPreprocessing, BadAlignCornersIsReportedByKey) {
  expect_single_issue(tiny_preprocessing("    resize: resize\n    align_corners: yes"), ManifestIssueKind::WrongType,
                      "input.preprocessing.align_corners", 16, 20, "expected true or false");
  expect_single_issue(tiny_preprocessing("    resize: resize\n    align_corners: [true]"),
                      ManifestIssueKind::WrongType, "input.preprocessing.align_corners", 16, 0,
                      "expected true or false");
  // PyTorch's align_corners is a bilinear (linear-family) option; Pillow bicubic has none.
  expect_single_issue(tiny_preprocessing("    resize: resize\n    interpolation: bicubic\n    align_corners: true"),
                      ManifestIssueKind::Inconsistent, "input.preprocessing.align_corners", 17, 0,
                      "bilinear interpolation only");
}

TEST(ManifestPreprocessing, BadBorderIsReportedByKey) {
  expect_single_issue(tiny_preprocessing("    resize: resize\n    border: {mode: mirror, factor: 3}"),
                      ManifestIssueKind::UnknownValue, "input.preprocessing.border.mode", 16, 0, "reflect");
  expect_single_issue(tiny_preprocessing("    resize: resize\n    border: {mode: reflect, factor: 0}"),
                      ManifestIssueKind::OutOfRange, "input.preprocessing.border.factor", 16, 0, "(0, 64]");
  expect_single_issue(tiny_preprocessing("    resize: resize\n    border: {mode: reflect, factor: three}"),
                      ManifestIssueKind::WrongType, "input.preprocessing.border.factor", 16, 0, "number");
  // A misspelt key: reported with the suggestion, and the required factor as missing.
  const auto typo = analyze(tiny_preprocessing("    resize: resize\n    border: {mode: reflect, factr: 3}"));
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.issues.size(), 2u);
  const ManifestIssue* unknown = find_issue(typo, ManifestIssueKind::UnknownField, "input.preprocessing.border.factr");
  ASSERT_NE(unknown, nullptr);
  EXPECT_NE(unknown->message.find("did you mean 'factor'?"), std::string::npos) << unknown->message;
  EXPECT_NE(find_issue(typo, ManifestIssueKind::MissingField, "input.preprocessing.border.factor"), nullptr);
  expect_single_issue(tiny_preprocessing("    resize: resize\n    border: reflect"), ManifestIssueKind::WrongType,
                      "input.preprocessing.border", 16, 0);
  // The border is added before a plain resize; a letterbox cannot carry it.
  expect_single_issue(tiny_preprocessing("    resize: letterbox\n    border: {mode: reflect, factor: 3}"),
                      ManifestIssueKind::Inconsistent, "input.preprocessing.border", 16, 0, "letterbox");
  // A missing factor is reported at the border's own key path.
  const auto missing = analyze(tiny_preprocessing("    resize: resize\n    border: {mode: reflect}"));
  ASSERT_FALSE(missing.ok());
  ASSERT_EQ(missing.issues.size(), 1u);
  EXPECT_NE(missing.issues[0].field.find("input.preprocessing.border"), std::string::npos) << missing.issues[0].field;
  EXPECT_NE(missing.issues[0].message.find("factor"), std::string::npos) << missing.issues[0].message;
}

TEST(ManifestPreprocessing, KeepAspectIsRead) {
  const auto r = analyze(tiny_preprocessing("    resize: resize\n    keep_aspect: {multiple_of: 14}"));
  ASSERT_TRUE(r.ok()) << (r.issues.empty() ? std::string() : to_string(r.issues[0]));
  ASSERT_TRUE(r.manifest->input.preprocessing->keep_aspect.has_value());
  EXPECT_EQ(r.manifest->input.preprocessing->keep_aspect->multiple_of, 14);
  // Absent: no keep-aspect policy (every image gets the fixed size).
  const auto plain = analyze(kTinyManifest);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain.manifest->input.preprocessing->keep_aspect.has_value());
}

TEST(ManifestPreprocessing, BadKeepAspectIsReportedByKey) {
  expect_single_issue(tiny_preprocessing("    resize: resize\n    keep_aspect: {multiple_of: 0}"),
                      ManifestIssueKind::OutOfRange, "input.preprocessing.keep_aspect.multiple_of", 16, 0,
                      "[1, 1024]");
  expect_single_issue(tiny_preprocessing("    resize: resize\n    keep_aspect: {multiple_of: 2000}"),
                      ManifestIssueKind::OutOfRange, "input.preprocessing.keep_aspect.multiple_of", 16, 0);
  expect_single_issue(tiny_preprocessing("    resize: resize\n    keep_aspect: {multiple_of: fourteen}"),
                      ManifestIssueKind::WrongType, "input.preprocessing.keep_aspect.multiple_of", 16, 0);
  expect_single_issue(tiny_preprocessing("    resize: resize\n    keep_aspect: true"), ManifestIssueKind::WrongType,
                      "input.preprocessing.keep_aspect", 16, 0);
  expect_single_issue(tiny_preprocessing("    resize: resize\n    keep_aspect: {}"), ManifestIssueKind::MissingField,
                      "input.preprocessing.keep_aspect.multiple_of", 16, 0);
  const auto typo = analyze(tiny_preprocessing("    resize: resize\n    keep_aspect: {multiple: 14}"));
  ASSERT_FALSE(typo.ok());
  const ManifestIssue* unknown =
      find_issue(typo, ManifestIssueKind::UnknownField, "input.preprocessing.keep_aspect.multiple");
  ASSERT_NE(unknown, nullptr);
  EXPECT_NE(unknown->message.find("did you mean 'multiple_of'?"), std::string::npos) << unknown->message;
  // The policy sizes a plain resize; a letterbox is refused.
  expect_single_issue(tiny_preprocessing("    resize: letterbox\n    keep_aspect: {multiple_of: 32}"),
                      ManifestIssueKind::Inconsistent, "input.preprocessing.keep_aspect", 16, 0, "letterbox");
  auto bad = parse_manifest(tiny_preprocessing("    resize: resize\n    keep_aspect: {multiple_of: -14}"), "x.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(bad.error().message().find("input.preprocessing.keep_aspect.multiple_of"), std::string::npos)
      << bad.error().message();
}

TEST(ManifestPreprocessing, BadBorderIsAnInvalidArgumentNamingTheKey) {
  auto bad = parse_manifest(tiny_preprocessing("    resize: resize\n    border: {mode: mirror, factor: 3}"), "x.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(bad.error().message().find("input.preprocessing.border.mode"), std::string::npos) << bad.error().message();
  EXPECT_NE(bad.error().message().find("'mirror'"), std::string::npos) << bad.error().message();
  auto bad_ac = parse_manifest(tiny_preprocessing("    resize: resize\n    align_corners: 1"), "x.yaml");
  ASSERT_FALSE(bad_ac.ok());
  EXPECT_EQ(bad_ac.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(bad_ac.error().message().find("input.preprocessing.align_corners"), std::string::npos)
      << bad_ac.error().message();
}

TEST(ManifestReject, VariantNameMustBeFileNameSafe) {
  // The name goes into cache file names: no '/' allowed.
  const auto r = analyze(tiny_with_line(4, "  variants: [a, \"b/c\"]"));
  EXPECT_NE(find_issue(r, ManifestIssueKind::OutOfRange, "model.variants[1]"), nullptr);
}

TEST(ManifestReject, DuplicateVariant) {
  const auto r = analyze(tiny_with_line(4, "  variants: [a, b, a]"));
  const auto* i = find_issue(r, ManifestIssueKind::Inconsistent, "model.variants[2]");
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->where.line, 4);
  EXPECT_EQ(i->where.column, 20);
}

TEST(ManifestReject, InvalidModelName) {
  expect_single_issue(tiny_with_line(2, "  name: Tiny Model"), ManifestIssueKind::OutOfRange, "model.name", 2, 9);
}

TEST(ManifestReject, DetectionsInputTakesNoPreprocessing) {
  expect_single_issue(tiny_with_line(12, "  type: detections"), ManifestIssueKind::Inconsistent, "input.preprocessing",
                      14, 3);
}

TEST(ManifestReject, ImageTextNeedsPrompt) {
  expect_single_issue(tiny_with_line(12, "  type: image_text"), ManifestIssueKind::MissingField, "input.prompt", 11, 1);
}

TEST(ManifestPrompt, TokenizerFileIsABareNameNextToTheOnnx) {
  const auto ok = analyze(tiny_with_line(12, "  type: image_text\n  prompt: {tokenizer: bert-base-uncased, "
                                             "tokenizer_file: vocab.txt, max_tokens: 8}"));
  ASSERT_TRUE(ok.ok()) << (ok.issues.empty() ? std::string() : to_string(ok.issues[0]));
  ASSERT_TRUE(ok.manifest->input.prompt.has_value());
  EXPECT_EQ(ok.manifest->input.prompt->tokenizer, "bert-base-uncased");
  EXPECT_EQ(ok.manifest->input.prompt->tokenizer_file, "vocab.txt");
  EXPECT_EQ(ok.manifest->input.prompt->max_tokens, 8);
  // Without the key: no file (the tokenizer's own file is then the caller's to give).
  const auto none = analyze(tiny_with_line(12, "  type: image_text\n  prompt: {tokenizer: t, max_tokens: 8}"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none.manifest->input.prompt->tokenizer_file.empty());
  for (const char* bad : {"../vocab.txt", "sub/vocab.txt", "''", ".."}) {
    expect_single_issue(tiny_with_line(12, std::string("  type: image_text\n  prompt: {tokenizer: t, tokenizer_file: ") +
                                               bad + ", max_tokens: 8}"),
                        ManifestIssueKind::OutOfRange, "input.prompt.tokenizer_file", 13, 0, "bare file name");
  }
}

TEST(ManifestReject, SeveralProblemsInOneFileAreAllReported) {
  auto text = tiny_with_line(5, "  default_variant: c");
  auto lines = testing::split_lines(text);
  lines[5] = "  backends: [onnx, tensorrtt]";
  lines[29] = "  device_memory_mb: {a: -5, b: 20}";
  lines[20] = "  type: boxes";
  const auto r = analyze(testing::join_lines(lines));
  ASSERT_EQ(r.issues.size(), 4U);
  std::vector<int> issue_lines;
  for (const auto& i : r.issues) issue_lines.push_back(i.where.line);
  std::sort(issue_lines.begin(), issue_lines.end());
  EXPECT_EQ(issue_lines, (std::vector<int>{5, 6, 21, 30}));
}

TEST(ManifestVariants, MappingFormOverridesInputSizeClassNamesAndOnnx) {
  auto text = tiny_with_line(4, "  variants: [a, {name: b, onnx: sub/b_model.onnx, input_size: [32, 48], "
                                "class_names: [x, y]}]");
  const auto r = analyze_manifest(text, "/models/tiny/manifest.yaml");
  ASSERT_TRUE(r.ok()) << to_string(r.issues.at(0));
  const auto& m = *r.manifest;
  auto a = m.resolve("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->input.preprocessing->size, (ImageSize{64, 96}));
  EXPECT_EQ(a->onnx, "a.onnx");  // default file name
  EXPECT_EQ(a->device_memory_bytes, 10U << 20U);
  auto b = m.resolve("b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->input.preprocessing->size, (ImageSize{32, 48}));
  EXPECT_EQ(b->output.class_names, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(b->onnx, "sub/b_model.onnx");
  EXPECT_EQ(b->device_memory_mb, 20);
  const auto candidates = m.onnx_candidates("b", {"/gen"});
  EXPECT_EQ(candidates, (std::vector<std::filesystem::path>{"/models/tiny/sub/b_model.onnx", "/gen/sub/b_model.onnx",
                                                             "/gen/tiny/sub/b_model.onnx"}));
  auto missing = m.resolve("c");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::NotFound);
  EXPECT_EQ(missing.error().message(), "tiny has no variant 'c'; variants: a, b");
}

TEST(ManifestVariants, FindOnnxSearchesManifestDirThenSearchDirs) {
  testing::ScratchDir dir;
  const auto manifest = dir.write_manifest("tiny", kTinyManifest);
  const auto gen = dir.path() / "generated";
  std::filesystem::create_directories(gen);
  auto m = load_manifest(manifest);
  ASSERT_TRUE(m.ok()) << m.error();
  auto none = m->find_onnx("a", {gen});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), ErrorCode::NotFound);
  EXPECT_NE(none.error().message().find((gen / "a.onnx").string()), std::string::npos);
  std::ofstream(gen / "a.onnx") << "x";
  auto found = m->find_onnx("a", {gen});
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_EQ(*found, gen / "a.onnx");
  std::ofstream(manifest.parent_path() / "a.onnx") << "y";  // the manifest's folder wins
  EXPECT_EQ(*m->find_onnx("a", {gen}), manifest.parent_path() / "a.onnx");
}

TEST(ManifestFile, MissingFileIsNotFound) {
  auto r = load_manifest("/nonexistent/aegisrt/manifest.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound);
}

TEST(ManifestRobustness, EveryPrefixOfAValidManifestIsHandled) {
  // Truncated files (a crash mid-write) must give issues, never an exception.
  const std::string text = kTinyManifest;
  std::size_t rejected = 0;
  for (std::size_t n = 0; n < text.size(); ++n) {
    const auto r = analyze(text.substr(0, n));
    EXPECT_EQ(r.ok(), r.issues.empty());
    for (const auto& i : r.issues) EXPECT_FALSE(i.message.empty());
    rejected += r.ok() ? 0 : 1;
  }
  EXPECT_GT(rejected, text.size() / 2);
  EXPECT_TRUE(analyze(text).ok());
}

TEST(ManifestRobustness, DeepNestingIsAnErrorNotAStackOverflow) {
  const std::string deep(100000, '[');
  const auto r = analyze("model: " + deep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.issues.at(0).kind, ManifestIssueKind::MalformedYaml);
}

TEST(ManifestRobustness, AliasesAndOddScalarsAreTyped) {
  const auto r = analyze(tiny_with_line(4, "  variants: &v [a, *v]"));
  EXPECT_FALSE(r.ok());
  const auto nan = analyze(tiny_with_line(27, "  confidence_threshold: .nan"));
  EXPECT_NE(find_issue(nan, ManifestIssueKind::WrongType, "postprocessing.confidence_threshold"), nullptr);
}

}  // namespace
}  // namespace aegisrt::models
