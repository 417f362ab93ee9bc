// Issue 12 for the models layer: manifests that are links to nothing, link
// loops or FIFOs are reported (never silently skipped, never blocking), the
// work a manifest can cause is bounded (variants, name lists, size), the
// ONNX SHA-256 pin is enforced, and ONNX Runtime refuses fp16/int8.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <fstream>
#include <string>

#include "aegisrt/models/catalog.h"
#include "aegisrt/models/manifest.h"
#include "models/manifest_fixtures.h"

namespace aegisrt::models {
namespace {

namespace fs = std::filesystem;
using testing::kTinyManifest;
using testing::ScratchDir;
using testing::tiny_named;
using testing::tiny_with_line;

bool any_issue_has(const std::vector<ManifestIssue>& issues, const fs::path& file, const std::string& part) {
  for (const auto& i : issues) {
    if (i.where.file == file && i.message.find(part) != std::string::npos) return true;
  }
  return false;
}

std::string all_issues(const std::vector<ManifestIssue>& issues) {
  std::string s;
  for (const auto& i : issues) s += to_string(i) + "\n";
  return s;
}

// ---------------------------------------------------------------- links and FIFOs

TEST(HostileCatalog, DanglingManifestLinkIsReportedNotSkipped) {
  ScratchDir dir;
  dir.write_manifest("alpha", tiny_named("alpha"));
  fs::create_directories(dir.path() / "beta");
  const auto link = dir.path() / "beta" / "manifest.yaml";
  fs::create_symlink(dir.path() / "nowhere.yaml", link);
  const auto scan = ModelCatalog::scan_directory(dir.path());
  EXPECT_EQ(scan.manifests_seen, 2U);
  EXPECT_TRUE(any_issue_has(scan.issues, link, "dangling")) << all_issues(scan.issues);
  EXPECT_NE(scan.catalog.find("alpha"), nullptr);
  auto loaded = ModelCatalog::load_directory(dir.path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(loaded.error().message().find(link.string()), std::string::npos) << loaded.error();
}

TEST(HostileCatalog, ManifestLinkLoopIsReported) {
  ScratchDir dir;
  fs::create_directories(dir.path() / "loop");
  const auto link = dir.path() / "loop" / "manifest.yaml";
  fs::create_symlink(link, link);  // points at itself
  const auto scan = ModelCatalog::scan_directory(dir.path());
  EXPECT_EQ(scan.manifests_seen, 1U);
  EXPECT_TRUE(any_issue_has(scan.issues, link, "loop")) << all_issues(scan.issues);
  auto direct = load_manifest(link);
  ASSERT_FALSE(direct.ok());
  EXPECT_NE(direct.error().message().find(link.string()), std::string::npos) << direct.error();
}

TEST(HostileCatalog, FifoManifestIsRefusedWithoutBlocking) {
  ScratchDir dir;
  fs::create_directories(dir.path() / "pipe");
  const auto fifo = dir.path() / "pipe" / "manifest.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Before the fix this blocked for ever (no writer); ctest's timeout would
  // catch it, the CLI test runs the same case under `timeout`.
  const auto report = analyze_manifest_file(fifo);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(any_issue_has(report.issues, fifo, "FIFO")) << all_issues(report.issues);
  auto direct = load_manifest(fifo);
  ASSERT_FALSE(direct.ok());
  EXPECT_EQ(direct.error().code(), ErrorCode::InvalidArgument);
}

TEST(HostileCatalog, OversizedManifestFileIsOutOfRange) {
  ScratchDir dir;
  const auto file = dir.write_manifest("big", std::string(kTinyManifest) + "#" + std::string(1 << 20, 'x') + "\n");
  const auto report = analyze_manifest_file(file);
  ASSERT_EQ(report.issues.size(), 1U) << all_issues(report.issues);
  EXPECT_EQ(report.issues[0].kind, ManifestIssueKind::OutOfRange);
  EXPECT_NE(report.issues[0].message.find("1048576"), std::string::npos) << report.issues[0].message;
}

// ---------------------------------------------------------------- bounded work

std::string manifest_with_variants(std::size_t n) {
  std::string variants = "  variants: [";
  std::string memory = "  device_memory_mb: {";
  for (std::size_t i = 0; i < n; ++i) {
    variants += (i ? ", v" : "v") + std::to_string(i);
    memory += (i ? ", v" : "v") + std::to_string(i) + ": 1";
  }
  auto lines = testing::split_lines(tiny_with_line(4, variants + "]"));
  // Line 5 (default_variant) and 30 (memory) follow the variants.
  lines.at(4) = "  default_variant: v0";
  lines.at(29) = memory + "}";
  return testing::join_lines(lines);
}

TEST(HostileManifest, VariantCountIsBounded) {
  auto at_limit = analyze_manifest(manifest_with_variants(256), "m.yaml");
  ASSERT_TRUE(at_limit.ok()) << all_issues(at_limit.issues);
  EXPECT_EQ(at_limit.manifest->variants.size(), 256U);

  for (std::size_t n : {257U, 16000U}) {
    auto over = analyze_manifest(manifest_with_variants(n), "m.yaml");
    ASSERT_FALSE(over.ok()) << n;
    bool variants_issue = false;
    bool memory_issue = false;
    for (const auto& i : over.issues) {
      if (i.field == "model.variants" && i.kind == ManifestIssueKind::OutOfRange &&
          i.message.find(std::to_string(n) + " variants; the limit is 256") != std::string::npos) {
        variants_issue = true;
      }
      if (i.field == "resources.device_memory_mb" && i.kind == ManifestIssueKind::OutOfRange) memory_issue = true;
    }
    EXPECT_TRUE(variants_issue) << n << "\n" << all_issues(over.issues);
    EXPECT_TRUE(memory_issue) << n << "\n" << all_issues(over.issues);
    EXPECT_LE(over.issues.size(), 3U) << all_issues(over.issues);
  }
}

TEST(HostileManifest, AliasedNameListsAreBoundedInTotal) {
  // One anchored list of 2,000 names used by 256 variants = 512,000 names.
  std::string names = "[";
  for (int i = 0; i < 2000; ++i) names += (i ? ", n" : "n") + std::to_string(i);
  names += "]";
  std::string variants = "  variants:\n";
  std::string memory = "  device_memory_mb: {";
  for (int i = 0; i < 256; ++i) {
    variants += "    - {name: v" + std::to_string(i) + ", class_names: " + (i == 0 ? "&names " + names : "*names") + "}\n";
    memory += (i ? ", v" : "v") + std::to_string(i) + ": 1";
  }
  auto lines = testing::split_lines(kTinyManifest);
  lines.at(3) = variants.substr(0, variants.size() - 1);
  lines.at(4) = "  default_variant: v0";
  lines.at(29) = memory + "}";
  auto report = analyze_manifest(testing::join_lines(lines), "m.yaml");
  ASSERT_FALSE(report.ok());
  bool bounded = false;
  for (const auto& i : report.issues) {
    if (i.kind == ManifestIssueKind::OutOfRange && i.message.find("65536 names in all") != std::string::npos) {
      bounded = true;
    }
  }
  EXPECT_TRUE(bounded) << all_issues(report.issues);
}

// ---------------------------------------------------------------- SHA-256 pin

// SHA-256("abc"), FIPS 180-2 appendix B.1.
constexpr const char* kAbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

std::string tiny_with_pinned_variant(const std::string& sha) {
  auto lines = testing::split_lines(kTinyManifest);
  lines.at(3) = "  variants: [{name: a, onnx: a.onnx, sha256: " + sha + "}, b]";
  return testing::join_lines(lines);
}

TEST(HostileManifest, PinnedSha256MatchesOrIsCorrupt) {
  ScratchDir dir;
  const auto file = dir.write_manifest("tiny", tiny_with_pinned_variant(kAbcSha256));
  std::ofstream(dir.path() / "tiny" / "a.onnx", std::ios::binary) << "abc";
  auto m = load_manifest(file);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->find_variant("a")->sha256, kAbcSha256);
  auto found = m->find_onnx("a");
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_EQ(*found, dir.path() / "tiny" / "a.onnx");

  // One changed byte: refused, naming the file and both hashes.
  std::ofstream(dir.path() / "tiny" / "a.onnx", std::ios::binary) << "abd";
  auto bad = m->find_onnx("a");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::Corrupt);
  const auto& msg = bad.error().message();
  EXPECT_NE(msg.find((dir.path() / "tiny" / "a.onnx").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::string("expected ") + kAbcSha256), std::string::npos) << msg;
  EXPECT_NE(msg.find("actual "), std::string::npos) << msg;

  // Upper-case hex is accepted (normalised); the unpinned variant is not hashed.
  std::string upper = kAbcSha256;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto u = parse_manifest(tiny_with_pinned_variant(upper), "m.yaml");
  ASSERT_TRUE(u.ok()) << u.error();
  EXPECT_EQ(u->find_variant("a")->sha256, kAbcSha256);
  EXPECT_TRUE(u->find_variant("b")->sha256.empty());
}

TEST(HostileManifest, MalformedSha256IsAnIssue) {
  for (const std::string& bad : {std::string("abc"), std::string(63, 'a'), std::string(64, 'g')}) {
    auto r = analyze_manifest(tiny_with_pinned_variant(bad), "m.yaml");
    ASSERT_FALSE(r.ok()) << bad;
    ASSERT_EQ(r.issues.size(), 1U) << all_issues(r.issues);
    EXPECT_EQ(r.issues[0].kind, ManifestIssueKind::OutOfRange);
    EXPECT_EQ(r.issues[0].field, "model.variants[0].sha256");
  }
}

TEST(HostileManifest, OnnxCandidateThatIsAFifoIsNamed) {
  ScratchDir dir;
  const auto file = dir.write_manifest("tiny", kTinyManifest);
  ASSERT_EQ(::mkfifo((dir.path() / "tiny" / "a.onnx").c_str(), 0600), 0);
  auto m = load_manifest(file);
  ASSERT_TRUE(m.ok()) << m.error();
  auto found = m->find_onnx("a");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(found.error().message().find("FIFO"), std::string::npos) << found.error();
}

// ---------------------------------------------------------------- precision

TEST(HostileSelection, OnnxRuntimeRefusesFp16AndInt8) {
  ModelCatalog c;
  ASSERT_TRUE(c.add(*parse_manifest(tiny_with_line(7, "  precisions: [fp32, fp16, int8]"), "t.yaml")).ok());
  for (const char* p : {"fp16", "int8"}) {
    auto r = c.validate_selection("tiny", "onnx", "", p);
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.error().code(), ErrorCode::Unsupported);
    EXPECT_NE(r.error().message().find("supports fp32 only"), std::string::npos) << r.error();
    EXPECT_NE(r.error().message().find(p), std::string::npos) << r.error();
    // TensorRT builds at the precision asked.
    auto trt = c.validate_selection("tiny", "tensorrt", "", p);
    EXPECT_TRUE(trt.ok()) << trt.error();
  }
  auto fp32 = c.validate_selection("tiny", "onnx", "", "fp32");
  ASSERT_TRUE(fp32.ok()) << fp32.error();
  EXPECT_EQ(fp32->precision, Precision::FP32);
}

}  // namespace
}  // namespace aegisrt::models
