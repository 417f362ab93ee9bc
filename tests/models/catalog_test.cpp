// ModelCatalog: folder scans that report every broken manifest at once,
// selection validation with its messages, suggestions and folder resolution.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "aegisrt/models/catalog.h"
#include "models/manifest_fixtures.h"

namespace aegisrt::models {
namespace {

using testing::kTinyManifest;
using testing::ScratchDir;
using testing::tiny_named;
using testing::tiny_with_line;
using testing::tiny_without_line;

ModelCatalog tiny_catalog() {
  ModelCatalog c;
  auto with_default_backends = parse_manifest(tiny_without_line(6), "tiny/manifest.yaml");
  EXPECT_TRUE(with_default_backends.ok());
  EXPECT_TRUE(c.add(std::move(*with_default_backends)).ok());
  auto other = parse_manifest(tiny_named("yolo"), "yolo/manifest.yaml");
  EXPECT_TRUE(other.ok());
  EXPECT_TRUE(c.add(std::move(*other)).ok());
  return c;
}

// ---------------------------------------------------------------- directory loading

TEST(CatalogLoad, SeveralBrokenManifestsAreReportedTogether) {
  ScratchDir dir;
  dir.write_manifest("alpha", tiny_named("alpha"));
  // beta: unknown backend on line 6.
  auto beta = testing::split_lines(tiny_named("beta"));
  beta[5] = "  backends: [onnx, tensorrtt]";
  dir.write_manifest("beta", testing::join_lines(beta));
  // gamma: negative memory on line 30 and default variant not in variants on line 5.
  auto gamma = testing::split_lines(tiny_named("gamma"));
  gamma[29] = "  device_memory_mb: {a: 10, b: -1}";
  gamma[4] = "  default_variant: z";
  dir.write_manifest("gamma", testing::join_lines(gamma));
  // delta: malformed YAML on line 3.
  auto delta = testing::split_lines(tiny_named("delta"));
  delta[2] = "  family: [test";
  dir.write_manifest("delta", testing::join_lines(delta));
  dir.write_manifest("omega", tiny_named("omega"));
  std::filesystem::create_directories(dir.path() / "generated");  // no manifest: not a model

  const CatalogScan scan = ModelCatalog::scan_directory(dir.path());
  EXPECT_EQ(scan.manifests_seen, 5U);
  EXPECT_EQ(scan.catalog.names(), (std::vector<std::string>{"alpha", "omega"}));
  // file name -> lines reported for it
  std::map<std::string, std::set<int>> by_file;
  for (const auto& i : scan.issues) by_file[i.where.file.parent_path().filename().string()].insert(i.where.line);
  ASSERT_EQ(by_file.size(), 3U);
  EXPECT_EQ(by_file["beta"], (std::set<int>{6}));
  EXPECT_EQ(by_file["gamma"], (std::set<int>{5, 30}));
  ASSERT_EQ(by_file["delta"].size(), 1U);
  EXPECT_GE(*by_file["delta"].begin(), 3);

  auto loaded = ModelCatalog::load_directory(dir.path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code(), ErrorCode::InvalidArgument);
  const std::string& msg = loaded.error().message();
  EXPECT_NE(msg.find("3 broken manifest(s)"), std::string::npos) << msg;
  EXPECT_NE(msg.find((dir.path() / "beta" / "manifest.yaml").string() + ":6:20: model.backends[1]: unknown backend "
                                                                          "'tensorrtt'"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find((dir.path() / "gamma" / "manifest.yaml").string() + ":30:32: resources.device_memory_mb.b"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find((dir.path() / "gamma" / "manifest.yaml").string() + ":5:20: model.default_variant"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find((dir.path() / "delta" / "manifest.yaml").string() + ":"), std::string::npos) << msg;
}

TEST(CatalogLoad, GoodFolderLoadsSorted) {
  ScratchDir dir;
  dir.write_manifest("zeta", tiny_named("zeta"));
  dir.write_manifest("alpha", tiny_named("alpha"));
  auto c = ModelCatalog::load_directory(dir.path());
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->names(), (std::vector<std::string>{"alpha", "zeta"}));
  EXPECT_EQ(c->find("zeta")->manifest_path, dir.path() / "zeta" / "manifest.yaml");
}

TEST(CatalogLoad, ModelNameMustMatchFolder) {
  ScratchDir dir;
  const auto file = dir.write_manifest("wrong_folder", kTinyManifest);
  const auto scan = ModelCatalog::scan_directory(dir.path());
  ASSERT_EQ(scan.issues.size(), 1U);
  EXPECT_EQ(scan.issues[0].where.file, file);
  EXPECT_EQ(scan.issues[0].field, "model.name");
  EXPECT_NE(scan.issues[0].message.find("'wrong_folder'"), std::string::npos);
}

TEST(CatalogLoad, MissingFolderIsNotFound) {
  auto c = ModelCatalog::load_directory("/nonexistent/aegisrt/models");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::NotFound);
}

TEST(CatalogLoad, DuplicateNameIsRejectedByAdd) {
  ModelCatalog c;
  ASSERT_TRUE(c.add(*parse_manifest(kTinyManifest, "a.yaml")).ok());
  auto again = c.add(*parse_manifest(kTinyManifest, "b.yaml"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::InvalidArgument);
}

// ---------------------------------------------------------------- validate_selection

TEST(ValidateSelection, DefaultBackendsRuleDecidesSupport) {
  const auto c = tiny_catalog();
  auto r = validate_selection(c, "tiny", "tensorrt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported);
  EXPECT_EQ(r.error().message(), "tiny does not support backend tensorrt; supported: cuda, rocm, openvino");
  for (const char* b : {"cuda", "rocm", "openvino"}) EXPECT_TRUE(validate_selection(c, "tiny", b).ok()) << b;
  EXPECT_FALSE(validate_selection(c, "tiny", "onnx").ok());
}

TEST(ValidateSelection, FillsDefaultsAndMemory) {
  const auto c = tiny_catalog();
  auto r = c.validate_selection("yolo", "tensorrt");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->model, "yolo");
  EXPECT_EQ(r->backend, "tensorrt");
  EXPECT_EQ(r->variant, "a");
  EXPECT_EQ(r->precision, Precision::FP32);
  EXPECT_EQ(r->device_memory_bytes, 10U * 1024U * 1024U);
  auto b = c.validate_selection("yolo", "tensorrt", "b", "fp16");
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(b->variant, "b");
  EXPECT_EQ(b->precision, Precision::FP16);
  EXPECT_EQ(b->device_memory_bytes, 20U * 1024U * 1024U);
}

TEST(ValidateSelection, DefaultPrecisionIsFirstListedWhenFp32IsNot) {
  ModelCatalog c;
  ASSERT_TRUE(c.add(*parse_manifest(tiny_with_line(7, "  precisions: [int8, fp16]"), "t.yaml")).ok());
  auto r = c.validate_selection("tiny", "tensorrt");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->precision, Precision::INT8);
  // ONNX Runtime applies no precision: its default would be int8, which it
  // cannot do, so the selection is refused rather than run as fp32.
  auto ort = c.validate_selection("tiny", "onnx");
  ASSERT_FALSE(ort.ok());
  EXPECT_EQ(ort.error().code(), ErrorCode::Unsupported);
}

TEST(ValidateSelection, UnknownModelSuggestsNearest) {
  const auto c = tiny_catalog();
  auto r = c.validate_selection("yollo", "onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound);
  EXPECT_EQ(r.error().message(), "unknown model 'yollo' (did you mean 'yolo'?); known models: tiny, yolo");
  auto far = c.validate_selection("segmenter", "onnx");
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.error().message().find("did you mean"), std::string::npos) << far.error().message();
}

TEST(ValidateSelection, UnknownBackendNamesVocabulary) {
  const auto c = tiny_catalog();
  auto r = c.validate_selection("yolo", "tensorrtx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound);
  EXPECT_NE(r.error().message().find("unknown backend 'tensorrtx' (did you mean 'tensorrt'?)"), std::string::npos);
  EXPECT_NE(r.error().message().find("tensorrt, onnx, cuda, rocm, openvino, tvm, cpu"), std::string::npos);
}

TEST(ValidateSelection, UnknownVariantListsVariants) {
  const auto c = tiny_catalog();
  auto r = c.validate_selection("yolo", "onnx", "c");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound);
  EXPECT_EQ(r.error().message(), "yolo has no variant 'c'; variants: a, b");
  auto near = c.validate_selection("yolo", "onnx", "bb");
  ASSERT_FALSE(near.ok());
  EXPECT_EQ(near.error().message(), "yolo has no variant 'bb' (did you mean 'b'?); variants: a, b");
}

TEST(ValidateSelection, UnknownPrecisionText) {
  const auto c = tiny_catalog();
  auto r = c.validate_selection("yolo", "onnx", "", "fp64");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(r.error().message(), "unknown precision 'fp64' (did you mean 'fp32'?); valid: fp32, fp16, int8");
}

TEST(ValidateSelection, PrecisionNotSupportedByModel) {
  const auto c = tiny_catalog();
  auto r = c.validate_selection("yolo", "onnx", "a", "int8");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported);
  EXPECT_EQ(r.error().message(), "yolo does not support precision int8; supported: fp32, fp16");
}

// ---------------------------------------------------------------- suggestions

TEST(Suggest, EditDistanceMatchesHandComputedValues) {
  EXPECT_EQ(edit_distance("", ""), 0U);
  EXPECT_EQ(edit_distance("abc", ""), 3U);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3U);
  EXPECT_EQ(edit_distance("yolo", "yollo"), 1U);
  EXPECT_EQ(edit_distance("flaw", "lawn"), 2U);
}

TEST(Suggest, NearestNameOnlyForPlausibleTypos) {
  const std::vector<std::string> names = {"yolo", "depth_anything", "zoedepth", "rtmpose"};
  EXPECT_EQ(nearest_name("yolo8", names), "yolo");
  EXPECT_EQ(nearest_name("depth_anythin", names), "depth_anything");
  EXPECT_EQ(nearest_name("depth", names), "depth_anything");  // prefix
  EXPECT_EQ(nearest_name("rtm_pose", names), "rtmpose");
  EXPECT_EQ(nearest_name("segment_anything", names), "");
  EXPECT_EQ(nearest_name("", names), "");
  EXPECT_EQ(nearest_name("c", {"a", "b"}), "");  // one letter is never "a typo of" another
  EXPECT_EQ(nearest_name("yolo", {}), "");
}

// ---------------------------------------------------------------- models folder resolution

class EnvGuard {
 public:
  explicit EnvGuard(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
  }
  ~EnvGuard() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(ModelsDirectory, FlagBeatsEnvBeatsDefaults) {
  EnvGuard guard("AEGISRT_MODELS_DIR");
  ScratchDir flag_dir;
  ScratchDir env_dir;
  ::setenv("AEGISRT_MODELS_DIR", env_dir.path().c_str(), 1);
  auto by_flag = resolve_models_directory(flag_dir.path().string());
  ASSERT_TRUE(by_flag.ok());
  EXPECT_EQ(by_flag->path, flag_dir.path());
  EXPECT_EQ(by_flag->origin, "--models-dir");
  auto by_env = resolve_models_directory();
  ASSERT_TRUE(by_env.ok());
  EXPECT_EQ(by_env->path, env_dir.path());
  EXPECT_EQ(by_env->origin, "AEGISRT_MODELS_DIR");
  ::unsetenv("AEGISRT_MODELS_DIR");
  auto by_default = resolve_models_directory();
  ASSERT_TRUE(by_default.ok()) << by_default.error();
  EXPECT_TRUE(by_default->origin == "installed" || by_default->origin == "source tree") << by_default->origin;
  if (by_default->origin == "source tree") {
    EXPECT_EQ(by_default->path, std::filesystem::path(AEGISRT_SOURCE_DIR) / "models");
  }
}

TEST(ModelsDirectory, ExplicitMissingFolderDoesNotFallBack) {
  EnvGuard guard("AEGISRT_MODELS_DIR");
  auto flag = resolve_models_directory("/nonexistent/aegisrt/models");
  ASSERT_FALSE(flag.ok());
  EXPECT_EQ(flag.error().code(), ErrorCode::NotFound);
  EXPECT_NE(flag.error().message().find("--models-dir"), std::string::npos);
  ::setenv("AEGISRT_MODELS_DIR", "/nonexistent/aegisrt/models", 1);
  auto env = resolve_models_directory();
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.error().message().find("AEGISRT_MODELS_DIR"), std::string::npos);
}

}  // namespace
}  // namespace aegisrt::models
