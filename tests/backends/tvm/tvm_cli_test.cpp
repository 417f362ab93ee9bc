// `aegisrt build --backend tvm` through the real CLI binary: first run builds,
// second run is a cache hit, editing the ONNX file makes the next run rebuild
// and say why; `aegisrt cache verify/list/clean` see the entry.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "backends/tvm/tvm_test_util.h"

namespace aegisrt::testing {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout + stderr
};

CliRun run_cli(const std::string& args) {
  CliRun r;
#if defined(AEGISRT_CLI_PATH)
  const std::string cmd = std::string("'") + AEGISRT_CLI_PATH + "' " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) r.output += buf.data();
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
#else
  (void)args;
#endif
  return r;
}

class TvmCli : public ::testing::Test {
 protected:
  void SetUp() override {
#if !defined(AEGISRT_CLI_PATH)
    GTEST_SKIP() << "the aegisrt CLI is not part of this build (AEGISRT_BUILD_TOOLS=OFF)";
#endif
    tmp_ = fs::temp_directory_path() / ("aegisrt_tvmcli_" + std::to_string(::getpid()));
    fs::remove_all(tmp_);
    fs::create_directories(tmp_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
  fs::path tmp_;
};

TEST_F(TvmCli, BuildHitThenRebuildOnEditedModel) {
  const fs::path model = tmp_ / "net.onnx";
  const fs::path cache = tmp_ / "libs";
  fs::copy_file(test_model("affine"), model);
  const std::string build = "build --backend tvm --model-file '" + model.string() + "' --variant net --cache-dir '" + cache.string() + "'";

  auto first = run_cli(build);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("built " + (cache / "net_fp32_cpu.so").string()), std::string::npos) << first.output;
  EXPECT_TRUE(fs::exists(cache / "net_fp32_cpu.so"));
  EXPECT_TRUE(fs::exists(cache / "net_fp32_cpu.so.json"));

  auto second = run_cli(build);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("cache hit: " + (cache / "net_fp32_cpu.so").string()), std::string::npos) << second.output;

  // "Edit" the ONNX file: another valid model at the same path.
  fs::copy_file(test_model("matmul_add"), model, fs::copy_options::overwrite_existing);
  auto third = run_cli(build);
  ASSERT_EQ(third.exit_code, 0) << third.output;
  EXPECT_NE(third.output.find("rebuilt " + (cache / "net_fp32_cpu.so").string()), std::string::npos) << third.output;
  EXPECT_NE(third.output.find("reason: source model changed"), std::string::npos) << third.output;

  auto verify = run_cli("cache verify --dir '" + cache.string() + "'");
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("net_fp32_cpu.so"), std::string::npos) << verify.output;
  EXPECT_NE(verify.output.find("valid"), std::string::npos) << verify.output;

  // Corrupt the library: verify fails and names the problem; clean removes it.
  fs::resize_file(cache / "net_fp32_cpu.so", 100);
  verify = run_cli("cache verify --dir '" + cache.string() + "'");
  EXPECT_EQ(verify.exit_code, 1) << verify.output;
  EXPECT_NE(verify.output.find("STALE: artefact corrupt: size mismatch"), std::string::npos) << verify.output;
  auto clean = run_cli("cache clean --dir '" + cache.string() + "'");
  EXPECT_EQ(clean.exit_code, 0) << clean.output;
  EXPECT_FALSE(fs::exists(cache / "net_fp32_cpu.so"));
  auto list = run_cli("cache list --json --dir '" + cache.string() + "'");
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("[]"), std::string::npos) << list.output;
}

TEST_F(TvmCli, BadArgumentsAreUsageOrInvalid) {
  auto r = run_cli("build --backend tvm");
  EXPECT_EQ(r.exit_code, 3) << r.output;  // neither --model nor --model-file
  r = run_cli("build --backend onnx --model-file '" + test_model("affine").string() + "'");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("no build step"), std::string::npos) << r.output;
  r = run_cli("build --backend tvm --model-file '" + test_model("affine").string() + "' --precision int8 --cache-dir '" +
              (tmp_ / "c").string() + "'");
  EXPECT_EQ(r.exit_code, 3) << r.output;  // Unsupported
}

}  // namespace
}  // namespace aegisrt::testing
