// `aegisrt info` through the real binary: it says whether nvJPEG GPU JPEG
// decoding is compiled in, in the text and the JSON form. The expectation is
// CMake's own detection (AEGISRT_HAVE_NVJPEG, passed to this test as
// AEGISRT_TEST_EXPECT_NVJPEG), not the library's answer being tested.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli_test_util.h"

namespace aegisrt::cli_test {
namespace {

using aegisrt::testing::TempDir;

constexpr bool kExpectNvjpeg = AEGISRT_TEST_EXPECT_NVJPEG != 0;

TEST(InfoCli, TextSaysWhetherNvjpegIsCompiledIn) {
  TempDir dir;
  const auto r = testing::run_cli("info", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string want = kExpectNvjpeg ? "\n  nvjpeg (GPU JPEG decode): compiled in\n"
                                         : "\n  nvjpeg (GPU JPEG decode): not compiled in (AEGISRT_WITH_NVJPEG)\n";
  EXPECT_NE(r.out.find("\nfeatures:" + want), std::string::npos) << r.out;
}

TEST(InfoCli, JsonSaysWhetherNvjpegIsCompiledIn) {
  TempDir dir;
  const auto r = testing::run_cli("info --json", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  ASSERT_TRUE(j.contains("nvjpeg") && j["nvjpeg"].contains("compiled_in")) << r.out;
  ASSERT_TRUE(j["nvjpeg"]["compiled_in"].is_boolean()) << r.out;
  EXPECT_EQ(j["nvjpeg"]["compiled_in"].get<bool>(), kExpectNvjpeg) << r.out;
  EXPECT_EQ(j["nvjpeg"]["cmake_option"], "AEGISRT_WITH_NVJPEG") << r.out;
}

}  // namespace
}  // namespace aegisrt::cli_test
