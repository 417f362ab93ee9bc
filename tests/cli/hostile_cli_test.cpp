// Issue 12 through the real `aegisrt` binary: FIFOs given as a model file, a
// tensor file or a manifest fail fast with a typed error (each command runs
// under `timeout`, so a regression fails instead of hanging), manifests that
// are dangling links are reported, `--models-dir ""` and misspelt options are
// usage errors saying so, `build --input-shape` for an unknown input is
// refused, and the onnx backend refuses fp16/int8 instead of running fp32.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "aegisrt/build_config.h"
#include "cli/cli_test_util.h"

namespace aegisrt::cli_test {
namespace {

using aegisrt::testing::TempDir;
namespace fs = std::filesystem;

const fs::path kModels = fs::path(AEGISRT_TEST_DATA_DIR) / "models";
constexpr int kTimedOut = 124;  // timeout(1)

using aegisrt::testing::CliRun;

/// The CLI under timeout(1), with no models folder from the environment and no stdin
/// (a wrapper of testing::run_cli, which argument-dependent lookup also finds: hence its own name).
CliRun run_guarded(const std::string& args, const TempDir& dir) {
  testing::CliOptions options;
  options.env_prefix = "env -u AEGISRT_MODELS_DIR timeout -s KILL 30 ";
  options.suffix = " </dev/null";
  CliRun r = testing::run_cli(args, dir, options);
  if (r.exit_code == 128 + 9) r.exit_code = kTimedOut;  // killed by timeout -s KILL
  return r;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class HostileCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kModels / "affine.onnx")) GTEST_SKIP() << "test models not generated (aegisrt_test_models)";
  }
  TempDir dir_;
};

TEST_F(HostileCli, ModelFileThatIsAFifoFailsFast) {
  const auto fifo = dir_ / "model.onnx";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r = run_guarded("exec --model-file " + fifo.string(), dir_);
  ASSERT_NE(r.exit_code, kTimedOut) << "aegisrt blocked on the FIFO";
  EXPECT_EQ(r.exit_code, 3) << r.err;  // invalid_argument
  EXPECT_TRUE(has(r.err, fifo.string()) && has(r.err, "FIFO")) << r.err;
}

TEST_F(HostileCli, InputTensorThatIsAFifoFailsFast) {
  if (!build::kHaveOnnxRuntime) GTEST_SKIP() << "ONNX Runtime backend not compiled in";
  const auto fifo = dir_ / "x.npy";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r = run_guarded("exec -m " + (kModels / "affine.onnx").string() + " --input x=" + fifo.string(), dir_);
  ASSERT_NE(r.exit_code, kTimedOut) << "aegisrt blocked on the FIFO";
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(has(r.err, fifo.string()) && has(r.err, "FIFO")) << r.err;
  // The same as a whole-file argument.
  auto whole = run_guarded("exec -m " + (kModels / "affine.onnx").string() + " --input " + fifo.string(), dir_);
  ASSERT_NE(whole.exit_code, kTimedOut);
  EXPECT_TRUE(has(whole.err, "FIFO")) << whole.err;
}

TEST_F(HostileCli, ManifestThatIsAFifoOrDanglingLinkIsReported) {
  const auto models = dir_ / "models";
  fs::create_directories(models / "pipe");
  ASSERT_EQ(::mkfifo((models / "pipe" / "manifest.yaml").c_str(), 0600), 0);
  fs::create_directories(models / "gone");
  fs::create_symlink(models / "nowhere.yaml", models / "gone" / "manifest.yaml");
  auto r = run_guarded("--models-dir " + models.string() + " models", dir_);
  ASSERT_NE(r.exit_code, kTimedOut) << "aegisrt blocked on the FIFO manifest";
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.err, (models / "pipe" / "manifest.yaml").string()) && has(r.err, "FIFO")) << r.err;
  EXPECT_TRUE(has(r.err, (models / "gone" / "manifest.yaml").string()) && has(r.err, "dangling")) << r.err;
}

TEST_F(HostileCli, EmptyModelsDirIsAUsageError) {
  auto r = run_guarded("--models-dir '' models", dir_);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(has(r.err, "--models-dir is empty")) << r.err;
  EXPECT_FALSE(has(r.out, "yolo")) << "fell back to the shipped catalog:\n" << r.out;
}

TEST_F(HostileCli, MisspeltOptionIsReportedAsUnknown) {
  auto r = run_guarded("exec --modle-file " + (kModels / "affine.onnx").string(), dir_);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(has(r.err, "unknown option '--modle-file'")) << r.err;
  EXPECT_FALSE(has(r.err, "is required")) << r.err;
}

TEST_F(HostileCli, OnnxBackendRefusesFp16AndInt8) {
  if (!build::kHaveOnnxRuntime) GTEST_SKIP() << "ONNX Runtime backend not compiled in";
  for (const char* p : {"fp16", "int8"}) {
    auto r = run_guarded("exec -m " + (kModels / "affine.onnx").string() + " --shape x=2x4 --precision " + p, dir_);
    EXPECT_EQ(r.exit_code, 3) << p << ": " << r.out << r.err;  // unsupported
    EXPECT_TRUE(has(r.err, "supports precision fp32 only")) << r.err;
  }
  auto ok = run_guarded("exec -m " + (kModels / "affine.onnx").string() + " --shape x=2x4 --precision fp32", dir_);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(HostileCli, BuildFromAFifoModelFileFailsFast) {
  const auto fifo = dir_ / "model.onnx";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r = run_guarded("build --backend tvm --model-file " + fifo.string() + " --cache-dir " + (dir_ / "cache").string(),
                   dir_);
  ASSERT_NE(r.exit_code, kTimedOut) << "aegisrt blocked on the FIFO";
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_TRUE(has(r.err, fifo.string()) && has(r.err, "FIFO")) << r.err;
}

TEST_F(HostileCli, BuildInputShapeForUnknownInputIsRefused) {
  if (!build::kHaveTvm) GTEST_SKIP() << "TVM backend not compiled in (AEGISRT_WITH_TVM)";
  auto r = run_guarded("build --backend tvm --model-file " + (kModels / "affine.onnx").string() +
                       " --cache-dir " + (dir_ / "cache").string() + " --input-shape nope:2x4",
                   dir_);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_TRUE(has(r.err, "has no input 'nope'") && has(r.err, "its inputs: x")) << r.err;
  EXPECT_FALSE(has(r.out, "built")) << r.out;
}

}  // namespace
}  // namespace aegisrt::cli_test
