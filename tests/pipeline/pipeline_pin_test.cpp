// Issue 12 §3: a manifest that pins the SHA-256 of a variant's ONNX file makes
// a damaged or different file a typed Corrupt error before anything loads;
// the matching pin runs as usual.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "aegisrt/cache/sha256.h"
#include "aegisrt/models/catalog.h"
#include "aegisrt/pipeline/pipeline.h"
#include "demo_fixture.h"

namespace aegisrt::pipeline {
namespace {

namespace fs = std::filesystem;
using aegisrt::testing::demo_dir;
using aegisrt::testing::demo_options;
using aegisrt::testing::source_models_dir;

/// The shipped yolo manifest with `sha256: <pin>` added to the demo variant.
Result<models::ModelCatalog> yolo_catalog_pinning(const std::string& pin) {
  std::ifstream in(source_models_dir() / "yolo" / "manifest.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const std::string anchor = "      onnx: demo.onnx\n";
  const auto at = text.find(anchor);
  if (at == std::string::npos) return Error(ErrorCode::Internal, "yolo manifest layout changed");
  text.insert(at + anchor.size(), "      sha256: " + pin + "\n");
  AEGIS_ASSIGN_OR_RETURN(auto manifest, models::parse_manifest(text, source_models_dir() / "yolo" / "manifest.yaml"));
  models::ModelCatalog c;
  AEGIS_TRY(c.add(std::move(manifest)));
  return c;
}

TEST(PipelinePin, MismatchedSha256IsCorruptBeforeLoading) {
  AEGISRT_SKIP_WITHOUT_ORT();  // the selection needs the onnx backend before the file is resolved
  if (!fs::exists(demo_dir() / "demo.onnx")) GTEST_SKIP() << "demo model not generated";
  const std::string wrong(64, '0');
  auto catalog = yolo_catalog_pinning(wrong);
  ASSERT_TRUE(catalog.ok()) << catalog.error();
  auto p = Pipeline::create(*catalog, demo_options());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::Corrupt) << p.error();
  EXPECT_NE(p.error().message().find((demo_dir() / "demo.onnx").string()), std::string::npos) << p.error();
  EXPECT_NE(p.error().message().find("expected " + wrong), std::string::npos) << p.error();
}

TEST(PipelinePin, MatchingSha256Runs) {
  AEGISRT_SKIP_WITHOUT_ORT();
  if (!fs::exists(demo_dir() / "demo.onnx")) GTEST_SKIP() << "demo model not generated";
  auto hash = sha256_file(demo_dir() / "demo.onnx");
  ASSERT_TRUE(hash.ok()) << hash.error();
  auto catalog = yolo_catalog_pinning(*hash);
  ASSERT_TRUE(catalog.ok()) << catalog.error();
  auto p = Pipeline::create(*catalog, demo_options());
  ASSERT_TRUE(p.ok()) << p.error();
}

}  // namespace
}  // namespace aegisrt::pipeline
