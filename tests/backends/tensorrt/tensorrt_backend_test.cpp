// TensorRT backend integration tests and its conformance instance. Compiled
// only with TensorRT; every case skips with a reason when no CUDA device is
// usable. Expected values are computed here (y = 2x + 1), independently of
// TensorRT.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "aegisrt/trt_plan/engine_builder.h"
#include "aegisrt/backends/tensorrt/tensorrt_backend.h"
#include "aegisrt/cuda/device_info.h"
#include "conformance/conformance.h"
#include "conformance/mock_case.h"

namespace aegisrt::testing {
namespace {

namespace fs = std::filesystem;
const fs::path kAffine = fs::path(AEGISRT_TEST_DATA_DIR) / "models/affine.onnx";
const fs::path kConv = fs::path(AEGISRT_TEST_DATA_DIR) / "tensorrt/conv.onnx";

std::string gpu_skip_reason() {
  auto n = cuda::device_count();
  if (!n.ok()) return "no usable CUDA device: " + n.error().to_string();
  if (n.value() == 0) return "no CUDA device";
  return {};
}

fs::path cache_dir() {
  static const fs::path dir = fs::temp_directory_path() / ("aegisrt_trt_it_" + std::to_string(::getpid()));
  return dir;
}

LoadOptions affine_onnx_options() {
  LoadOptions o;
  o.artifact_path = kAffine;
  o.device = Device::cuda(0);
  o.precision = Precision::FP32;
  o.cache_dir = cache_dir();
  o.variant = "affine";
  o.backend_options = {{"max_batch", "4"}};  // mock_inputs use batches 1..4
  return o;
}

/// The engine built from affine.onnx (built once per process).
LoadOptions affine_engine_options() {
  static const fs::path engine = [] {
    auto bo = trt::engine_build_options_from(affine_onnx_options());
    if (!bo.ok()) return fs::path();
    auto built = trt::build_tensorrt_engine(bo.value());
    return built.ok() ? built->engine_path : fs::path();
  }();
  LoadOptions o = affine_onnx_options();
  o.artifact_path = engine;
  return o;
}

BackendUnderTest trt_case(std::string label, std::function<LoadOptions()> options) {
  BackendUnderTest c;
  c.label = std::move(label);
  c.make_backend = [] { return make_tensorrt_backend(); };
  c.valid_options = std::move(options);
  c.make_inputs = mock_inputs;
  c.reference = affine_reference;
  c.atol = 1e-5;
  c.rtol = 1e-5;
  c.skip_reason = gpu_skip_reason();
  return c;
}

INSTANTIATE_TEST_SUITE_P(TensorRT, BackendConformance,
                         ::testing::Values(trt_case("TensorRTFromOnnx", affine_onnx_options),
                                           trt_case("TensorRTEngine", affine_engine_options)),
                         case_name);

class TensorRTBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto r = gpu_skip_reason(); !r.empty()) GTEST_SKIP() << r;
    backend_ = make_tensorrt_backend();
  }
  std::unique_ptr<RuntimeBackend> backend_;
};

TEST_F(TensorRTBackendTest, ReportsVersionAndSpecs) {
  EXPECT_FALSE(tensorrt_version().empty());
  ASSERT_TRUE(backend_->load(affine_onnx_options()).ok());
  auto in = backend_->input_specs();
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].name, "x");
  EXPECT_EQ(in[0].shape, (Shape{kDynamicDim, 4}));
  EXPECT_EQ(backend_->capabilities().max_batch, 4);
  EXPECT_GT(backend_->estimate_memory().value_or(0), 0u);
}

TEST_F(TensorRTBackendTest, BatchOutsideTheProfileIsInvalidArgument) {
  ASSERT_TRUE(backend_->load(affine_onnx_options()).ok());
  auto x = Tensor::allocate_host({8, 4}, DType::Float32, "x");
  ExecutionRequest req;
  req.inputs = {{"x", x->view()}};
  auto r = backend_->execute(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument) << r.error();
}

TEST_F(TensorRTBackendTest, Fp16EngineAgreesWithFp32Engine) {
  auto o = affine_onnx_options();
  o.artifact_path = kConv;
  o.variant = "conv";
  o.backend_options = {{"input_sizes", "32x32"}, {"max_batch", "2"}};
  auto x = Tensor::allocate_host({2, 3, 32, 32}, DType::Float32, "images");
  float v = -1.f;
  for (auto& e : x->span<float>()) e = (v += 0.001f);
  ExecutionRequest req;
  req.inputs = {{"images", x->view()}};
  o.precision = Precision::FP32;
  ASSERT_TRUE(backend_->load(o).ok());
  auto a = backend_->execute(req);
  ASSERT_TRUE(a.ok()) << a.error();
  o.precision = Precision::FP16;
  auto fp16_loaded = backend_->load(o);
  if (!fp16_loaded.ok() && fp16_loaded.error().code() == ErrorCode::Unsupported) {
    GTEST_SKIP() << fp16_loaded.error();  // TensorRT 11 wants conv_fp16.onnx
  }
  ASSERT_TRUE(fp16_loaded.ok()) << fp16_loaded.error();
  auto b = backend_->execute(req);
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(compare_tensors(b->outputs[0], a->outputs[0], 2e-2, 2e-2), "");
}

TEST_F(TensorRTBackendTest, SidecarFromAnotherTensorRtIsStale) {
  auto o = affine_engine_options();
  ASSERT_FALSE(o.artifact_path.empty()) << "engine build failed";
  const fs::path copy = cache_dir() / "stale_copy.engine";
  fs::copy_file(o.artifact_path, copy, fs::copy_options::overwrite_existing);
  auto md = ArtifactMetadata::read(fs::path(o.artifact_path.string() + ".json"));
  ASSERT_TRUE(md.ok()) << md.error();
  md->backend_version = "7.0.0.1";
  std::ofstream(copy.string() + ".json") << md->to_json();
  o.artifact_path = copy;
  auto r = backend_->load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Stale) << r.error();
}

}  // namespace
}  // namespace aegisrt::testing
