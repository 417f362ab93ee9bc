// The OpenVINO backend through the real `aegisrt` binary: `info` reports it,
// `run` with no --backend picks it for depth_anything on a machine without a
// usable CUDA device (CUDA_VISIBLE_DEVICES is emptied for these runs), and
// `compare --backends onnx,openvino` agrees with ONNX Runtime.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "aegisrt/vision/image.h"
#include "backends/openvino/ov_test_util.h"
#include "cli/cli_test_util.h"

namespace aegisrt::testing {
namespace {

namespace fs = std::filesystem;

#if defined(AEGISRT_CLI_PATH)
class OpenVinoCli : public ::testing::Test {
 protected:
  /// Runs the CLI with no CUDA device visible and the source tree's models/.
  CliRun cli(const std::string& args) const {
    CliOptions options;
    options.env_prefix = "CUDA_VISIBLE_DEVICES= AEGISRT_MODELS_DIR=" + std::string(AEGISRT_SOURCE_DIR) + "/models ";
    return run_cli(args, tmp_, options);
  }

  /// A uniform PNG of the colour depth_tiny.constant_rgb.npy names.
  fs::path uniform_png(int w, int h) const {
    auto rgb = ort::read_npy(openvino::own_dir() / "depth_tiny.constant_rgb.npy");
    EXPECT_TRUE(rgb.ok());
    auto img = vision::Image::create(w, h, 3);
    EXPECT_TRUE(img.ok());
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c) img->at(x, y)[c] = rgb->span<std::uint8_t>()[static_cast<std::size_t>(c)];
    const auto path = dir_ / "uniform.png";
    EXPECT_TRUE(vision::save_png(*img, path).ok());
    return path;
  }

  TempDir tmp_;
  fs::path dir_ = tmp_.path();
};

TEST_F(OpenVinoCli, InfoReportsVersionAndDevices) {
  auto r = cli("info --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  bool found = false;
  for (const auto& b : j["backends"]) {
    if (b["name"] != "openvino") continue;
    found = true;
    EXPECT_TRUE(b["compiled_in"].get<bool>());
    EXPECT_EQ(b["version"].get<std::string>(), openvino_version());
    ASSERT_TRUE(b.contains("devices")) << b.dump();
    EXPECT_EQ(b["devices"][0].get<std::string>().rfind("CPU", 0), 0u) << b.dump();
  }
  EXPECT_TRUE(found) << r.out;
}

TEST_F(OpenVinoCli, RunDepthAnythingWithoutBackendFlagPicksOpenVino) {
  const auto png = uniform_png(64, 48);
  const auto onnx = openvino::own_model("depth_tiny");
  auto r = cli("run --model depth_anything --onnx " + onnx.string() + " --input " + png.string() + " --output " +
               (dir_ / "out").string() + " --cache-dir " + openvino::test_cache().string() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("backend: openvino (the first of cuda, rocm, openvino"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rocm: backend 'rocm' is not available in this build: needs"), std::string::npos) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  // A uniform picture gives a uniform depth map: numpy's value for that colour.
  auto want = ort::read_npy(openvino::own_dir() / "depth_tiny.constant_depth.npy");
  ASSERT_TRUE(want.ok());
  const float expected = want->span<float>()[0];
  EXPECT_NEAR(j["depth"]["min"].get<double>(), expected, 1e-4) << j.dump();
  EXPECT_NEAR(j["depth"]["max"].get<double>(), expected, 1e-4) << j.dump();
  EXPECT_TRUE(fs::is_regular_file(dir_ / "out" / "uniform.annotated.png"));
}

TEST_F(OpenVinoCli, DeviceFlagOnlyForOpenVino) {
  const auto png = uniform_png(16, 16);
  auto r = cli("run --model depth_anything --onnx " + openvino::own_model("depth_tiny").string() + " --input " +
               png.string() + " --output " + (dir_ / "out").string() + " --device NO_SUCH_DEVICE");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("NO_SUCH_DEVICE"), std::string::npos) << r.err;
  r = cli("run --model yolo --variant demo --backend onnx --input " + png.string() + " --device GPU");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("--device"), std::string::npos) << r.err;
}

TEST_F(OpenVinoCli, RocmIsAClearNotAvailableError) {
  const auto png = uniform_png(16, 16);
  auto r = cli("run --model depth_anything --backend rocm --onnx " + openvino::own_model("depth_tiny").string() +
               " --input " + png.string() + " --output " + (dir_ / "out").string());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("backend 'rocm' is not available in this build: needs"), std::string::npos) << r.err;
}

TEST_F(OpenVinoCli, ValidateAndModelsShowThePick) {
  auto r = cli("validate --model depth_anything");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("on backend openvino"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("backend picked: openvino"), std::string::npos) << r.out;
  r = cli("validate --model depth_anything --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["backend"], "openvino");
  EXPECT_TRUE(j["backend_picked"].get<bool>());
  r = cli("models depth_anything --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["auto_backend"]["backend"], "openvino") << j["auto_backend"].dump();
  r = cli("models depth_anything");
  EXPECT_NE(r.out.find("backend without --backend here: openvino"), std::string::npos) << r.out;
  // An explicit --backend is never overridden.
  r = cli("validate --model depth_anything --backend cuda");
  EXPECT_NE(r.out.find("on backend cuda"), std::string::npos) << r.out << r.err;
}

#if defined(AEGISRT_HAVE_ONNXRUNTIME)
TEST_F(OpenVinoCli, CompareWithOnnxRuntimeAgreesOnTheTestModels) {
  const std::vector<fs::path> models = {openvino::shared_model("small_cnn"), openvino::shared_model("matmul_add"),
                                        openvino::shared_model("two_in_two_out"), openvino::shared_model("bench_cnn"),
                                        openvino::shared_model("fp16_mlp"), openvino::own_model("depth_tiny")};
  for (const auto& m : models) {
    SCOPED_TRACE(m.filename().string());
    // Default fp32 tolerances of `compare`, except fp16 I/O (half-precision rounding).
    const std::string tol = m.stem() == "fp16_mlp" ? " --atol 1e-2 --rtol 1e-2" : "";
    auto r = cli("compare --backends onnx,openvino --model-file " + m.string() + " --cache-dir " +
                 openvino::test_cache().string() + tol + " --json");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.out << r.err;
    EXPECT_TRUE(j.dump().find("\"passed\":false") == std::string::npos) << j.dump();
  }
}
#endif
#endif  // AEGISRT_CLI_PATH

}  // namespace
}  // namespace aegisrt::testing
