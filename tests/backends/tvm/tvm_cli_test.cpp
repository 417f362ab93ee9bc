// `aegisrt build --backend tvm` through the real CLI binary: first run builds,
// second run is a cache hit, editing the ONNX file makes the next run rebuild
// and say why; `aegisrt cache verify/list/clean` see the entry.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

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

TEST_F(TvmCli, BadArgumentsAreUsageOrInvalid) {
  auto r = run_cli("build --backend tvm");
  EXPECT_EQ(r.exit_code, 3) << r.out;  // neither --model nor --model-file
  r = run_cli("build --backend onnx --model-file '" + test_model("affine").string() + "'");
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("no build step"), std::string::npos) << r.out;
  r = run_cli("build --backend tvm --model-file '" + test_model("affine").string() + "' --precision int8 --cache-dir '" +
              (tmp_ / "c").string() + "'");
  EXPECT_EQ(r.exit_code, 3) << r.out;  // Unsupported
}

}  // namespace
}  // namespace aegisrt::testing
