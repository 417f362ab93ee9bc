// `aegisrt build --backend tvm` through the real CLI binary: first run builds,
// second run is a cache hit, editing the ONNX file makes the next run rebuild
// and say why; `aegisrt cache verify/list/clean` see the entry.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "aegisrt/cache/artifact_cache.h"
#include "aegisrt/core/file_util.h"
#include "backends/tvm/tvm_test_util.h"
#include "cli/cli_test_util.h"

namespace aegisrt::testing {
namespace {

namespace fs = std::filesystem;

class TvmCli : public ::testing::Test {
 protected:
  void SetUp() override {
#if !defined(AEGISRT_CLI_PATH)
    GTEST_SKIP() << "the aegisrt CLI is not part of this build (AEGISRT_BUILD_TOOLS=OFF)";
#endif
  }

  /// Runs the CLI; `out` holds stdout and stderr together.
  CliRun run_cli(const std::string& args) const {
#if defined(AEGISRT_CLI_PATH)
    CliOptions options;
    options.merge_stderr = true;
    return aegisrt::testing::run_cli(args, scratch_, options);
#else
    (void)args;
    return {};
#endif
  }

  TempDir scratch_;
  fs::path tmp_ = scratch_.path();
};

TEST_F(TvmCli, BuildHitThenRebuildOnEditedModel) {
  const fs::path model = tmp_ / "net.onnx";
  const fs::path cache = tmp_ / "libs";
  fs::copy_file(test_model("affine"), model);
  const std::string build = "build --backend tvm --model-file '" + model.string() + "' --variant net --cache-dir '" + cache.string() + "'";

  auto first = run_cli(build);
  ASSERT_EQ(first.exit_code, 0) << first.out;
  EXPECT_NE(first.out.find("built " + (cache / "net_fp32_cpu.so").string()), std::string::npos) << first.out;
  EXPECT_TRUE(fs::exists(cache / "net_fp32_cpu.so"));
  EXPECT_TRUE(fs::exists(cache / "net_fp32_cpu.so.json"));

  auto second = run_cli(build);
  ASSERT_EQ(second.exit_code, 0) << second.out;
  EXPECT_NE(second.out.find("cache hit: " + (cache / "net_fp32_cpu.so").string()), std::string::npos) << second.out;

  // "Edit" the ONNX file: another valid model at the same path.
  fs::copy_file(test_model("matmul_add"), model, fs::copy_options::overwrite_existing);
  auto third = run_cli(build);
  ASSERT_EQ(third.exit_code, 0) << third.out;
  EXPECT_NE(third.out.find("rebuilt " + (cache / "net_fp32_cpu.so").string()), std::string::npos) << third.out;
  EXPECT_NE(third.out.find("reason: source model changed"), std::string::npos) << third.out;

  auto verify = run_cli("cache verify --dir '" + cache.string() + "'");
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_NE(verify.out.find("net_fp32_cpu.so"), std::string::npos) << verify.out;
  EXPECT_NE(verify.out.find("valid"), std::string::npos) << verify.out;

  // Corrupt the library: verify fails and names the problem; clean removes it.
  fs::resize_file(cache / "net_fp32_cpu.so", 100);
  verify = run_cli("cache verify --dir '" + cache.string() + "'");
  EXPECT_EQ(verify.exit_code, 1) << verify.out;
  EXPECT_NE(verify.out.find("STALE: artefact corrupt: size mismatch"), std::string::npos) << verify.out;
  auto clean = run_cli("cache clean --dir '" + cache.string() + "'");
  EXPECT_EQ(clean.exit_code, 0) << clean.out;
  EXPECT_FALSE(fs::exists(cache / "net_fp32_cpu.so"));
  auto list = run_cli("cache list --json --dir '" + cache.string() + "'");
  EXPECT_EQ(list.exit_code, 0) << list.out;
  EXPECT_NE(list.out.find("[]"), std::string::npos) << list.out;
}

// A multi-part --model (docs/MANIFEST.md "Multi-part models"): `build` builds
// and caches every part, each under its own key ({variant}+{part}), from its
// own file: the variant's own file, a file part and a part that is another
// catalog model; a second run hits all three; --part builds one.
TEST_F(TvmCli, BuildCachesEveryPartUnderItsOwnKey) {
  const fs::path models = tmp_ / "models";
  const fs::path cache = tmp_ / "libs";
  fs::create_directories(models / "duo");
  fs::create_directories(models / "helper");
  fs::copy_file(test_model("affine"), models / "duo" / "a.onnx");
  fs::copy_file(test_model("matmul_add"), models / "duo" / "second.onnx");
  fs::copy_file(test_model("affine"), models / "helper" / "h.onnx");
  auto manifest = [](const std::string& name, const std::string& variant, const std::string& parts) {
    return "model:\n  name: " + name + "\n  family: test\n  variants: [" + variant + "]\n  default_variant: " +
           variant + "\n  backends: [tvm]\n  precisions: [fp32]\n" + parts +
           "source: {weights: none, export: none}\n"
           "input:\n  type: image\n  color_format: rgb\n"
           "  preprocessing: {resize: resize, size: [4, 4], normalize: {mean: [0, 0, 0], std: [1, 1, 1]}, layout: NCHW}\n"
           "output:\n  type: depth_map\n  layout: metric_depth\n"
           "  fields: [{name: y, dtype: float32, shape: [1, 4, 4]}]\n"
           "resources:\n  device_memory_mb: {" + variant + ": 1}\n";
  };
  ASSERT_TRUE(write_file_atomic(models / "duo" / "manifest.yaml",
                                manifest("duo", "a", "  parts:\n    second: {onnx: second.onnx}\n"
                                                     "    det: {model: helper}\n"))
                  .ok());
  ASSERT_TRUE(write_file_atomic(models / "helper" / "manifest.yaml", manifest("helper", "h", "")).ok());
  const std::string build = "--models-dir '" + models.string() + "' build --backend tvm --model duo --cache-dir '" +
                            cache.string() + "'";

  auto first = run_cli(build);
  ASSERT_EQ(first.exit_code, 0) << first.out;
  // Each part under its own key, built from its own file.
  const std::vector<std::pair<std::string, fs::path>> expected = {
      {"a_fp32_cpu.so", models / "duo" / "a.onnx"},
      {"a+second_fp32_cpu.so", models / "duo" / "second.onnx"},
      {"a+det_fp32_cpu.so", models / "helper" / "h.onnx"}};
  for (const auto& [lib, source] : expected) {
    EXPECT_NE(first.out.find("built " + (cache / lib).string()), std::string::npos) << lib << "\n" << first.out;
    auto md = ArtifactMetadata::read(cache / (lib + ".json"));
    ASSERT_TRUE(md.ok()) << lib << ": " << md.error().message();
    EXPECT_EQ(fs::weakly_canonical(md->source_model), fs::weakly_canonical(source)) << lib;
    EXPECT_EQ(md->variant + "_fp32_cpu.so", lib);
  }
  EXPECT_NE(first.out.find("part main:"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("part second:"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("part det (helper variant h):"), std::string::npos) << first.out;

  auto second = run_cli(build);
  ASSERT_EQ(second.exit_code, 0) << second.out;
  for (const auto& [lib, source] : expected) {
    EXPECT_NE(second.out.find("cache hit: " + (cache / lib).string()), std::string::npos) << lib << "\n" << second.out;
  }

  auto one = run_cli(build + " --part second");
  ASSERT_EQ(one.exit_code, 0) << one.out;
  EXPECT_NE(one.out.find("cache hit: " + (cache / "a+second_fp32_cpu.so").string()), std::string::npos) << one.out;
  EXPECT_EQ(one.out.find("a_fp32_cpu.so"), std::string::npos) << one.out;

  auto unknown = run_cli(build + " --part third");
  EXPECT_EQ(unknown.exit_code, 3) << unknown.out;
  EXPECT_NE(unknown.out.find("duo variant 'a' has no part 'third'; parts: main, second, det"), std::string::npos)
      << unknown.out;

  // A part's file missing: nothing is built, and the error names the part.
  fs::remove(models / "duo" / "second.onnx");
  fs::remove_all(cache);
  auto missing = run_cli(build);
  EXPECT_EQ(missing.exit_code, 3) << missing.out;
  EXPECT_NE(missing.out.find("no ONNX file for duo variant 'a' part 'second'"), std::string::npos) << missing.out;
  EXPECT_FALSE(fs::exists(cache / "a_fp32_cpu.so"));
}

TEST_F(TvmCli, BadArgumentsAreUsageOrInvalid) {
  auto r = run_cli("build --backend tvm");
  EXPECT_EQ(r.exit_code, 3) << r.out;  // neither --model nor --model-file
  r = run_cli("build --backend onnx --model-file '" + test_model("affine").string() + "'");
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("no build step"), std::string::npos) << r.out;
  r = run_cli("build --backend tvm --model-file '" + test_model("affine").string() + "' --precision int8 --cache-dir '" +
              (tmp_ / "c").string() + "'");
  EXPECT_EQ(r.exit_code, 3) << r.out;  // Unsupported
  // --tune: a budget of 1 s to 7 days, TVM only; nothing is built on a refusal.
  const std::string model = " --model-file '" + test_model("small_cnn").string() + "' --cache-dir '" +
                            (tmp_ / "c").string() + "'";
  for (const char* budget : {"0", "-5", "soon", "604801"}) {
    r = run_cli(std::string("build --backend tvm --tune ") + budget + model);
    EXPECT_EQ(r.exit_code, 2) << budget << ": " << r.out;
    EXPECT_NE(r.out.find("--tune"), std::string::npos) << r.out;
  }
  r = run_cli("build --backend tensorrt --tune 60" + model);
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("backend 'tensorrt' has no tuning step"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(tmp_ / "c"));
}

// `aegisrt build --tune`: a tuned library beside nothing else, the summary
// printed, `cache list` showing the tuning key and `cache verify` calling it
// valid; a second run is a hit.
TEST_F(TvmCli, BuildTuneCachesATunedLibraryAndSaysHowItWasTuned) {
  const fs::path cache = tmp_ / "libs";
  const std::string build = "build --backend tvm --tune 2 --model-file '" + test_model("small_cnn").string() +
                            "' --variant sc --cache-dir '" + cache.string() + "'";
  auto first = run_cli(build);
  ASSERT_EQ(first.exit_code, 0) << first.out;
  const fs::path lib = cache / "sc_fp32_cpu-tuned.so";
  EXPECT_NE(first.out.find("built " + lib.string()), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("(budget 2 s), best records of "), std::string::npos) << first.out;
  EXPECT_FALSE(fs::exists(cache / "sc_fp32_cpu.so"));
  auto md = ArtifactMetadata::read(cache / "sc_fp32_cpu-tuned.so.json");
  ASSERT_TRUE(md.ok()) << md.error();
  auto summary = tvm_tuning_summary(*md, "sidecar");
  ASSERT_TRUE(summary.ok() && summary->has_value()) << first.out;
  EXPECT_NE(first.out.find("tuned: " + std::to_string((*summary)->trials) + " trials over " +
                           std::to_string((*summary)->tasks) + " tasks"),
            std::string::npos)
      << first.out;

  auto second = run_cli(build);
  ASSERT_EQ(second.exit_code, 0) << second.out;
  EXPECT_NE(second.out.find("cache hit: " + lib.string()), std::string::npos) << second.out;
  auto list = run_cli("cache list --dir '" + cache.string() + "'");
  EXPECT_EQ(list.exit_code, 0) << list.out;
  EXPECT_NE(list.out.find("tuning=metaschedule:2s"), std::string::npos) << list.out;
  auto verify = run_cli("cache verify --dir '" + cache.string() + "'");
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
}

}  // namespace
}  // namespace aegisrt::testing
