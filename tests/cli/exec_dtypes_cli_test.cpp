// `aegisrt exec` on every ONNX element type and on a model with no inputs,
// compared with what raw ONNX Runtime (the Python package, run by
// tests/data/gen_onnx_models.py) gives for the same inputs, and with numpy's
// reference where ORT's Python API cannot take the type (bfloat16, float8,
// int4). The issue-11 target: exec passes every model raw ORT passes.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "aegisrt/build_config.h"
#include "aegisrt/io/compare.h"
#include "aegisrt/io/npy.h"
#include "cli/cli_test_util.h"

namespace aegisrt::cli_test {
namespace {

using aegisrt::testing::TempDir;
using aegisrt::testing::run_cli;
namespace fs = std::filesystem;

const fs::path kModels = fs::path(AEGISRT_TEST_DATA_DIR) / "models";

/// Same dtype, shape and values exactly (strings as strings, 64-bit integers
/// as integers).
void expect_identical(const fs::path& got_path, const fs::path& want_path) {
  auto got = io::read_npy(got_path);
  auto want = io::read_npy(want_path);
  ASSERT_TRUE(got.ok()) << got.error();
  ASSERT_TRUE(want.ok()) << want.error();
  EXPECT_EQ(got->dtype(), want->dtype()) << got_path;
  io::Tolerance exact;
  exact.atol = 0;
  exact.rtol = 0;
  auto c = io::compare_tensors(want_path.filename().string(), *want, *got, exact);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(c->passed) << got_path << " vs " << want_path << ": " << c->note << " (" << c->mismatches
                         << " of " << c->elements << " differ, max abs error " << c->max_abs_error << ")";
}

class ExecDTypes : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    if (!build::kHaveOnnxRuntime) GTEST_SKIP() << "ONNX Runtime backend not compiled in";
    if (!fs::exists(kModels / "no_input.onnx")) GTEST_SKIP() << "test models not generated (aegisrt_test_models)";
  }
  TempDir dir_;
};

TEST_P(ExecDTypes, MatchesRawOnnxRuntime) {
  const std::string stem = "dtype_" + std::string(dtype_name(GetParam()));
  std::string args = "exec -m " + (kModels / (stem + ".onnx")).string();
  const char* names[] = {"x", "y"};
  for (int k = 0; k < 2; ++k) {
    const auto in = kModels / (stem + ".input_" + std::to_string(k) + ".npy");
    if (fs::exists(in)) args += std::string(" -i ") + names[k] + "=" + in.string();
  }
  auto r = run_cli(args + " --save-outputs " + (dir_ / "out").string(), dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The models' outputs are z (and w for float8/int4); the reference files are
  // in output order, which gen_onnx_models.py writes as listed in the model.
  const bool has_ort = fs::exists(kModels / (stem + ".ort_output_0.npy"));
  const std::vector<std::string> outs =
      dtype_is_float8(GetParam()) ? std::vector<std::string>{"z", "w"}
      : dtype_is_int4(GetParam()) ? std::vector<std::string>{"w", "z"}
                                  : std::vector<std::string>{"z"};
  for (std::size_t k = 0; k < outs.size(); ++k) {
    const auto ref = kModels / (stem + (has_ort ? ".ort_output_" : ".output_") + std::to_string(k) + ".npy");
    expect_identical(dir_ / "out" / (outs[k] + ".npy"), ref);
  }
  // Seeded random inputs of the type run too.
  auto random = run_cli("exec -m " + (kModels / (stem + ".onnx")).string(), dir_);
  EXPECT_EQ(random.exit_code, 0) << random.err;
}

INSTANTIATE_TEST_SUITE_P(AllDTypes, ExecDTypes, ::testing::ValuesIn(kAllDTypes),
                         [](const ::testing::TestParamInfo<DType>& i) { return std::string(dtype_name(i.param)); });

TEST(ExecNoInputs, MatchesRawOnnxRuntime) {
  if (!build::kHaveOnnxRuntime) GTEST_SKIP() << "ONNX Runtime backend not compiled in";
  if (!fs::exists(kModels / "no_input.ort_output_0.npy")) GTEST_SKIP() << "no raw ORT outputs generated";
  TempDir dir;
  auto r = run_cli("exec -m " + (kModels / "no_input.onnx").string() + " --save-outputs " + (dir / "out").string(),
                   dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_identical(dir / "out" / "z.npy", kModels / "no_input.ort_output_0.npy");
  expect_identical(dir / "out" / "n.npy", kModels / "no_input.ort_output_1.npy");
  // And numpy's reference agrees.
  expect_identical(dir / "out" / "z.npy", kModels / "no_input.output_0.npy");
}

}  // namespace
}  // namespace aegisrt::cli_test
