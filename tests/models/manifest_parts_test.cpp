// Multi-part manifests (docs/MANIFEST.md "Multi-part models"): the `parts:`
// syntax at model and variant level, every rejection with its field and line,
// the lookup of a part's file, the per-part cache names, and the catalog's
// checks of parts that refer to other models.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "aegisrt/cache/sha256.h"
#include "aegisrt/models/catalog.h"
#include "aegisrt/models/manifest.h"
#include "models/manifest_fixtures.h"

namespace aegisrt::models {
namespace {

using testing::kTinyManifest;
using testing::ScratchDir;
using testing::tiny_named;
using testing::tiny_with_line;

// kTinyManifest line 7 is "  precisions: [fp32, fp16]"; the model-level
// `parts:` goes right after it, so its first line is line 8.
std::string with_model_parts(const std::string& parts_yaml, const std::string& base = kTinyManifest) {
  auto lines = testing::split_lines(base);
  lines.at(6) += "\n" + parts_yaml;
  return testing::join_lines(lines);
}

// Line 4 ("  variants: [a, b]") becomes a block list; variant b's mapping is line 6.
std::string with_variant_b(const std::string& b_mapping, const std::string& base = kTinyManifest) {
  auto lines = testing::split_lines(base);
  lines.at(3) = "  variants:\n    - a\n    - " + b_mapping;
  return testing::join_lines(lines);
}

ManifestReport analyze(const std::string& text) { return analyze_manifest(text, "tiny/manifest.yaml"); }

std::string issues_text(const ManifestReport& r) {
  std::string all;
  for (const auto& i : r.issues) all += "\n  [" + std::string(to_string(i.kind)) + "] " + to_string(i);
  return all;
}

/// Exactly one issue, of `kind` at `field` on `line`, whose message has `part`.
void expect_single_issue(const std::string& text, ManifestIssueKind kind, const std::string& field, int line,
                         const std::string& message_part = {}) {
  const auto r = analyze(text);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.issues.size(), 1U) << issues_text(r);
  const auto& i = r.issues[0];
  EXPECT_EQ(i.kind, kind) << to_string(i);
  EXPECT_EQ(i.field, field) << to_string(i);
  EXPECT_EQ(i.where.line, line) << to_string(i);
  if (!message_part.empty()) {
    EXPECT_NE(i.message.find(message_part), std::string::npos) << i.message;
  }
}

// ---------------------------------------------------------------- good manifests

TEST(ManifestParts, SingleFileManifestHasNoParts) {
  const auto r = analyze(kTinyManifest);
  ASSERT_TRUE(r.ok()) << issues_text(r);
  EXPECT_TRUE(r.manifest->parts.empty());
  EXPECT_TRUE(r.manifest->parts_of("a").empty());
  auto rv = r.manifest->resolve("b");
  ASSERT_TRUE(rv.ok());
  EXPECT_TRUE(rv->parts.empty());
}

TEST(ManifestParts, ModelLevelPartsAndAVariantOverride) {
  const std::string text = with_variant_b(
      "{name: b, parts: {dec: {onnx: b_dec.onnx}, extra: {onnx: b_extra.onnx, description: only b}}}",
      with_model_parts("  parts:\n"
                       "    dec: {onnx: dec.onnx, sha256: " + std::string(64, 'A') + ", description: decoder}\n"
                       "    det: {model: other, variant: v1, classes: [person, car]}"));
  const auto r = analyze(text);
  ASSERT_TRUE(r.ok()) << issues_text(r);
  const ModelManifest& m = *r.manifest;
  ASSERT_EQ(m.parts.size(), 2U);
  EXPECT_EQ(m.parts[0].name, "dec");
  EXPECT_EQ(m.parts[0].kind, PartKind::File);
  EXPECT_EQ(m.parts[0].onnx, "dec.onnx");
  EXPECT_EQ(m.parts[0].sha256, std::string(64, 'a'));  // lower-cased
  EXPECT_EQ(m.parts[0].description, "decoder");
  EXPECT_EQ(m.parts[0].field, "model.parts.dec");
  EXPECT_EQ(m.parts[0].where.line, 11);  // variants took lines 4-6, parts: is line 10
  EXPECT_EQ(m.parts[1].kind, PartKind::Model);
  EXPECT_EQ(m.parts[1].model, "other");
  EXPECT_EQ(m.parts[1].variant, "v1");
  EXPECT_EQ(m.parts[1].classes, (std::vector<std::string>{"person", "car"}));
  EXPECT_TRUE(m.parts[1].onnx.empty());

  // a: the model-level parts as declared.
  const auto a = m.parts_of("a");
  ASSERT_EQ(a.size(), 2U);
  EXPECT_EQ(a[0].onnx, "dec.onnx");
  EXPECT_EQ(a[1].name, "det");
  // b: its own `dec` replaces the model's in place, then its other part.
  const auto b = m.parts_of("b");
  ASSERT_EQ(b.size(), 3U);
  EXPECT_EQ(b[0].name, "dec");
  EXPECT_EQ(b[0].onnx, "b_dec.onnx");
  EXPECT_TRUE(b[0].sha256.empty());
  EXPECT_EQ(b[0].field, "model.variants[1].parts.dec");
  EXPECT_EQ(b[1].name, "det");
  EXPECT_EQ(b[2].name, "extra");
  EXPECT_EQ(b[2].description, "only b");
  auto rv = m.resolve("b");
  ASSERT_TRUE(rv.ok());
  ASSERT_EQ(rv->parts.size(), 3U);
  EXPECT_EQ(rv->parts[0].onnx, "b_dec.onnx");
  // The default variant is the empty name.
  EXPECT_EQ(m.parts_of().size(), 2U);
  EXPECT_TRUE(m.parts_of("nope").empty());
}

TEST(ManifestParts, CacheNamesAreDistinctPerPart) {
  EXPECT_EQ(part_cache_name("m", kMainPart), "m");
  EXPECT_EQ(part_cache_name("m", "detector"), "m+detector");
  EXPECT_EQ(part_cache_name("vit_b", "prompt_decoder"), "vit_b+prompt_decoder");
  // Over a manifest with several variants and parts: every (variant, part)
  // pair, main included, has its own name.
  const std::string text = with_variant_b("{name: b, parts: {x: {onnx: bx.onnx}}}",
                                          with_model_parts("  parts: {x: {onnx: x.onnx}, y: {onnx: y.onnx}}"));
  const auto r = analyze(text);
  ASSERT_TRUE(r.ok()) << issues_text(r);
  std::set<std::string> names;
  std::size_t count = 0;
  for (const auto& v : r.manifest->variants) {
    names.insert(part_cache_name(v.name, kMainPart));
    ++count;
    for (const auto& p : r.manifest->parts_of(v.name)) {
      names.insert(part_cache_name(v.name, p.name));
      ++count;
    }
  }
  EXPECT_EQ(count, 6U);
  EXPECT_EQ(names.size(), count);
}

// ---------------------------------------------------------------- rejections

TEST(ManifestParts, BothFileAndModel) {
  expect_single_issue(with_model_parts("  parts:\n    p: {onnx: p.onnx, model: other}"),
                      ManifestIssueKind::Inconsistent, "model.parts.p", 9, "names both a file");
}

TEST(ManifestParts, NeitherFileNorModel) {
  expect_single_issue(with_model_parts("  parts:\n    p: {description: nothing}"), ManifestIssueKind::MissingField,
                      "model.parts.p.onnx", 9, "names neither its ONNX file");
}

TEST(ManifestParts, MainIsReserved) {
  expect_single_issue(with_model_parts("  parts:\n    main: {onnx: p.onnx}"), ManifestIssueKind::Inconsistent,
                      "model.parts.main", 9, "the variant's own file");
}

TEST(ManifestParts, InvalidPartName) {
  expect_single_issue(with_model_parts("  parts:\n    Dec-1: {onnx: p.onnx}"), ManifestIssueKind::OutOfRange,
                      "model.parts.Dec-1", 9, "not a valid part name");
}

TEST(ManifestParts, DuplicatePartName) {
  expect_single_issue(with_model_parts("  parts:\n    p: {onnx: p.onnx}\n    p: {onnx: q.onnx}"),
                      ManifestIssueKind::DuplicateField, "model.parts.p", 10, "appears twice");
}

TEST(ManifestParts, UnknownKeyWithSuggestion) {
  expect_single_issue(with_model_parts("  parts:\n    p: {onx: p.onnx, model: other}"),
                      ManifestIssueKind::UnknownField, "model.parts.p.onx", 9, "did you mean 'onnx'?");
}

TEST(ManifestParts, VariantNeedsModel) {
  expect_single_issue(with_model_parts("  parts:\n    p: {onnx: p.onnx, variant: v1}"),
                      ManifestIssueKind::Inconsistent, "model.parts.p.variant", 9, "needs 'model'");
}

TEST(ManifestParts, ClassesNeedModel) {
  expect_single_issue(with_model_parts("  parts:\n    p: {onnx: p.onnx, classes: [person]}"),
                      ManifestIssueKind::Inconsistent, "model.parts.p.classes", 9, "needs 'model'");
}

TEST(ManifestParts, Sha256OnlyForFiles) {
  expect_single_issue(with_model_parts("  parts:\n    p: {model: other, sha256: " + std::string(64, 'a') + "}"),
                      ManifestIssueKind::Inconsistent, "model.parts.p.sha256", 9, "pins the part's own file");
  expect_single_issue(with_model_parts("  parts:\n    p: {onnx: p.onnx, sha256: abc}"),
                      ManifestIssueKind::OutOfRange, "model.parts.p.sha256", 9, "64 hexadecimal digits");
}

TEST(ManifestParts, EmptyFileName) {
  expect_single_issue(with_model_parts("  parts:\n    p: {onnx: ''}"), ManifestIssueKind::OutOfRange,
                      "model.parts.p.onnx", 9, "must name the part's ONNX file");
}

TEST(ManifestParts, PartsMustBeAMapping) {
  expect_single_issue(with_model_parts("  parts: [dec.onnx]"), ManifestIssueKind::WrongType, "model.parts", 8,
                      "expected a mapping");
  expect_single_issue(with_model_parts("  parts: {}"), ManifestIssueKind::OutOfRange, "model.parts", 8,
                      "names no part");
}

TEST(ManifestParts, NoReferenceToItself) {
  expect_single_issue(with_model_parts("  parts:\n    p: {model: tiny}"), ManifestIssueKind::Inconsistent,
                      "model.parts.p.model", 9, "its own model 'tiny'");
}

TEST(ManifestParts, VariantLevelErrorsNameTheVariant) {
  expect_single_issue(with_variant_b("{name: b, parts: {p: {onnx: p.onnx, model: other}}}"),
                      ManifestIssueKind::Inconsistent, "model.variants[1].parts.p", 6, "names both a file");
  expect_single_issue(with_variant_b("{name: b, parts: {p: {model: Other}}}"), ManifestIssueKind::OutOfRange,
                      "model.variants[1].parts.p.model", 6, "not a model name");
}

TEST(ManifestParts, ParseManifestIsInvalidArgumentNamingThePart) {
  auto r = parse_manifest(with_model_parts("  parts:\n    detector: {onnx: p.onnx, model: yolo}"),
                          "tiny/manifest.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("model.parts.detector"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("part 'detector'"), std::string::npos) << r.error().message();
}

// ---------------------------------------------------------------- finding a part's file

TEST(ManifestParts, FindPartOnnx) {
  ScratchDir dir;
  const std::string text = with_model_parts("  parts:\n    dec: {onnx: dec.onnx}\n    det: {model: other}");
  const auto file = dir.write_manifest("tiny", text);
  std::ofstream(dir.path() / "tiny" / "dec.onnx") << "decoder bytes";
  std::ofstream(dir.path() / "tiny" / "a.onnx") << "main bytes";
  auto m = load_manifest(file);
  ASSERT_TRUE(m.ok()) << m.error().message();

  auto dec = m->find_part_onnx("a", "dec");
  ASSERT_TRUE(dec.ok()) << dec.error().message();
  EXPECT_EQ(*dec, dir.path() / "tiny" / "dec.onnx");
  auto main = m->find_part_onnx("a", kMainPart);
  ASSERT_TRUE(main.ok()) << main.error().message();
  EXPECT_EQ(*main, dir.path() / "tiny" / "a.onnx");

  auto typo = m->find_part_onnx("a", "decc");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.error().code(), ErrorCode::NotFound);
  EXPECT_NE(typo.error().message().find("has no part 'decc' (did you mean 'dec'?); parts: main, dec, det"),
            std::string::npos)
      << typo.error().message();
  auto model_part = m->find_part_onnx("a", "det");
  ASSERT_FALSE(model_part.ok());
  EXPECT_EQ(model_part.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(model_part.error().message().find("model 'other'"), std::string::npos);

  // Variant b has the same part; its file is missing from a search dir too.
  std::filesystem::remove(dir.path() / "tiny" / "dec.onnx");
  auto missing = m->find_part_onnx("b", "dec", {dir.path() / "gen"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::NotFound);
  EXPECT_NE(missing.error().message().find("tiny variant 'b' part 'dec'"), std::string::npos)
      << missing.error().message();
  EXPECT_NE(missing.error().message().find((dir.path() / "gen" / "tiny" / "dec.onnx").string()), std::string::npos)
      << missing.error().message();
}

TEST(ManifestParts, PinnedPartFileMismatchIsCorrupt) {
  ScratchDir dir;
  const std::string good = "decoder bytes";
  const auto digest = sha256_hex(good);
  const auto file = dir.write_manifest(
      "tiny", with_model_parts("  parts:\n    dec: {onnx: dec.onnx, sha256: " + digest + "}"));
  std::ofstream(dir.path() / "tiny" / "dec.onnx") << good;
  auto m = load_manifest(file);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_TRUE(m->find_part_onnx("a", "dec").ok());
  std::ofstream(dir.path() / "tiny" / "dec.onnx") << "other bytes";
  auto bad = m->find_part_onnx("a", "dec");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::Corrupt);
  EXPECT_NE(bad.error().message().find("expected " + digest), std::string::npos) << bad.error().message();
}

// ---------------------------------------------------------------- references across the catalog

/// A catalog folder: "det" (tiny: detections of cat, dog) and "pose", which
/// takes `parts_yaml` at model level.
void write_pair(const ScratchDir& dir, const std::string& parts_yaml) {
  dir.write_manifest("det", tiny_named("det"));
  dir.write_manifest("pose", with_model_parts(parts_yaml, tiny_named("pose")));
}

TEST(CatalogParts, ReferenceResolvesToTheOtherModel) {
  ScratchDir dir;
  write_pair(dir, "  parts:\n    detector: {model: det, variant: b, classes: [dog]}\n    dec: {onnx: dec.onnx}");
  auto c = ModelCatalog::load_directory(dir.path());
  ASSERT_TRUE(c.ok()) << c.error().message();
  auto parts = c->parts("pose", "a");
  ASSERT_TRUE(parts.ok()) << parts.error().message();
  ASSERT_EQ(parts->size(), 3U);
  const auto& main = (*parts)[0];
  EXPECT_EQ(main.name, "main");
  EXPECT_EQ(main.model, "pose");
  EXPECT_EQ(main.variant, "a");
  EXPECT_EQ(main.onnx, "a.onnx");
  EXPECT_EQ(main.cache_name, "a");
  const auto& det = (*parts)[1];
  EXPECT_EQ(det.name, "detector");
  EXPECT_EQ(det.kind, PartKind::Model);
  EXPECT_EQ(det.model, "det");
  EXPECT_EQ(det.variant, "b");
  EXPECT_EQ(det.onnx, "b.onnx");
  EXPECT_EQ(det.cache_name, "a+detector");
  EXPECT_EQ(det.classes, (std::vector<std::string>{"dog"}));
  EXPECT_EQ(det.device_memory_bytes, 20U << 20);  // det's variant b: 20 MB
  const auto& dec = (*parts)[2];
  EXPECT_EQ(dec.model, "pose");
  EXPECT_EQ(dec.onnx, "dec.onnx");
  EXPECT_EQ(dec.cache_name, "a+dec");

  auto sel = c->validate_selection("pose", "onnx");
  ASSERT_TRUE(sel.ok()) << sel.error().message();
  ASSERT_EQ(sel->parts.size(), 3U);
  EXPECT_EQ(sel->parts[1].model, "det");

  // The files: main and dec are pose's, the detector's is det's b.onnx.
  std::ofstream(dir.path() / "det" / "b.onnx") << "det";
  std::ofstream(dir.path() / "pose" / "dec.onnx") << "dec";
  auto det_file = c->find_part_onnx("pose", "a", det);
  ASSERT_TRUE(det_file.ok()) << det_file.error().message();
  EXPECT_EQ(*det_file, dir.path() / "det" / "b.onnx");
  auto dec_file = c->find_part_onnx("pose", "a", dec);
  ASSERT_TRUE(dec_file.ok()) << dec_file.error().message();
  EXPECT_EQ(*dec_file, dir.path() / "pose" / "dec.onnx");
  auto main_file = c->find_part_onnx("pose", "a", main);
  ASSERT_FALSE(main_file.ok());
  EXPECT_EQ(main_file.error().code(), ErrorCode::NotFound);
  EXPECT_NE(main_file.error().message().find("pose variant 'a'"), std::string::npos) << main_file.error().message();
}

TEST(CatalogParts, DefaultVariantOfTheReferencedModel) {
  ScratchDir dir;
  write_pair(dir, "  parts: {detector: {model: det}}");
  auto c = ModelCatalog::load_directory(dir.path());
  ASSERT_TRUE(c.ok()) << c.error().message();
  auto parts = c->parts("pose");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ((*parts)[1].variant, "a");  // det's default_variant
}

/// Scans `dir`; expects pose dropped with one issue at `field` holding `part`.
void expect_reference_issue(const ScratchDir& dir, const std::string& field, const std::string& message_part) {
  const CatalogScan scan = ModelCatalog::scan_directory(dir.path());
  EXPECT_EQ(scan.catalog.find("pose"), nullptr);
  EXPECT_NE(scan.catalog.find("det"), nullptr);
  ASSERT_EQ(scan.issues.size(), 1U);
  const auto& i = scan.issues[0];
  EXPECT_EQ(i.kind, ManifestIssueKind::Inconsistent);
  EXPECT_EQ(i.field, field) << to_string(i);
  EXPECT_EQ(i.where.file, dir.path() / "pose" / "manifest.yaml");
  EXPECT_EQ(i.where.line, 9) << to_string(i);
  EXPECT_NE(i.message.find(message_part), std::string::npos) << i.message;
  auto loaded = ModelCatalog::load_directory(dir.path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(loaded.error().message().find(field), std::string::npos) << loaded.error().message();
}

TEST(CatalogParts, UnknownModel) {
  ScratchDir dir;
  write_pair(dir, "  parts:\n    detector: {model: dett}");
  expect_reference_issue(dir, "model.parts.detector.model",
                         "refers to model 'dett', which is not in the catalog (did you mean 'det'?)");
}

TEST(CatalogParts, UnknownVariant) {
  ScratchDir dir;
  write_pair(dir, "  parts:\n    detector: {model: det, variant: c}");
  expect_reference_issue(dir, "model.parts.detector.variant", "refers to variant 'c' of det");
}

TEST(CatalogParts, UnknownClass) {
  ScratchDir dir;
  write_pair(dir, "  parts:\n    detector: {model: det, classes: [dog, cow]}");
  expect_reference_issue(dir, "model.parts.detector.classes", "class 'cow' of part 'detector' is not a class of det");
}

TEST(CatalogParts, ReferencesAreOneLevelDeep) {
  ScratchDir dir;
  dir.write_manifest("base", tiny_named("base"));
  dir.write_manifest("det", with_model_parts("  parts: {inner: {model: base}}", tiny_named("det")));
  dir.write_manifest("pose", with_model_parts("  parts:\n    detector: {model: det}", tiny_named("pose")));
  const CatalogScan scan = ModelCatalog::scan_directory(dir.path());
  EXPECT_EQ(scan.catalog.names(), (std::vector<std::string>{"base", "det"}));
  ASSERT_EQ(scan.issues.size(), 1U);
  EXPECT_EQ(scan.issues[0].field, "model.parts.detector.model");
  EXPECT_NE(scan.issues[0].message.find("which itself has part 'inner' from model 'base'"), std::string::npos)
      << scan.issues[0].message;
}

TEST(CatalogParts, ABrokenReferencedManifestBreaksTheReference) {
  ScratchDir dir;
  write_pair(dir, "  parts:\n    detector: {model: det}");
  auto det = testing::split_lines(tiny_named("det"));
  det[5] = "  backends: [onnx, tensorrtt]";
  dir.write_manifest("det", testing::join_lines(det));
  const CatalogScan scan = ModelCatalog::scan_directory(dir.path());
  EXPECT_TRUE(scan.catalog.empty());
  ASSERT_EQ(scan.issues.size(), 2U);
  EXPECT_EQ(scan.issues[1].field, "model.parts.detector.model");
  EXPECT_NE(scan.issues[1].message.find("not in the catalog"), std::string::npos);
}

TEST(CatalogParts, SelectionChecksTheReferencedModel) {
  ScratchDir dir;
  // det runs on onnx only; pose also lists tensorrt.
  auto det = testing::split_lines(tiny_named("det"));
  det[5] = "  backends: [onnx]";
  dir.write_manifest("det", testing::join_lines(det));
  dir.write_manifest("pose", with_model_parts("  parts:\n    detector: {model: det}", tiny_named("pose")));
  auto c = ModelCatalog::load_directory(dir.path());
  ASSERT_TRUE(c.ok()) << c.error().message();
  ASSERT_TRUE(c->validate_selection("pose", "onnx").ok());
  auto trt = c->validate_selection("pose", "tensorrt", "", "fp16");
  ASSERT_FALSE(trt.ok());
  EXPECT_EQ(trt.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(trt.error().message().find(
                "pose part 'detector' is det variant 'a', which does not support backend tensorrt; supported: onnx"),
            std::string::npos)
      << trt.error().message();
}

// ---------------------------------------------------------------- the shipped manifests

TEST(CatalogParts, ShippedRtmposeAndSamDeclareTheirParts) {
  auto c = ModelCatalog::load_directory(std::filesystem::path(AEGISRT_SOURCE_DIR) / "models");
  ASSERT_TRUE(c.ok()) << c.error().message();
  auto rtm = c->parts("rtmpose");
  ASSERT_TRUE(rtm.ok()) << rtm.error().message();
  ASSERT_EQ(rtm->size(), 2U);
  EXPECT_EQ((*rtm)[0].onnx, "rtmpose-m_simcc-body7_256x192.onnx");
  EXPECT_EQ((*rtm)[1].name, "detector");
  EXPECT_EQ((*rtm)[1].model, "yolo");
  EXPECT_EQ((*rtm)[1].variant, "v8n");
  EXPECT_EQ((*rtm)[1].onnx, "yolov8n.onnx");
  EXPECT_EQ((*rtm)[1].classes, (std::vector<std::string>{"person"}));
  EXPECT_EQ((*rtm)[1].cache_name, "m+detector");
  std::set<std::string> files;
  for (const auto& v : {"vit_b", "vit_l", "vit_h"}) {
    auto sam = c->parts("segment_anything", v);
    ASSERT_TRUE(sam.ok()) << sam.error().message();
    // main, the model-level detector (yolo v8n, every class), the variant's prompt decoder.
    ASSERT_EQ(sam->size(), 3U);
    EXPECT_EQ((*sam)[1].name, "detector");
    EXPECT_EQ((*sam)[1].kind, PartKind::Model);
    EXPECT_EQ((*sam)[1].model, "yolo");
    EXPECT_EQ((*sam)[1].variant, "v8n");
    EXPECT_EQ((*sam)[1].onnx, "yolov8n.onnx");
    EXPECT_TRUE((*sam)[1].classes.empty());
    EXPECT_EQ((*sam)[1].cache_name, std::string(v) + "+detector");
    EXPECT_EQ((*sam)[2].name, "prompt_decoder");
    EXPECT_EQ((*sam)[2].kind, PartKind::File);
    EXPECT_EQ((*sam)[2].onnx, std::string("sam_") + v + "_decoder.onnx");
    files.insert((*sam)[0].onnx);
    files.insert((*sam)[2].onnx);
  }
  EXPECT_EQ(files.size(), 6U);
  // Single-file models are unchanged.
  auto yolo = c->parts("yolo");
  ASSERT_TRUE(yolo.ok());
  EXPECT_EQ(yolo->size(), 1U);
}

}  // namespace
}  // namespace aegisrt::models
