// OpenVinoBackend against numpy references (the shared test models), its
// typed errors (corrupt/missing/foreign files, wrong dtype/shape, bad options,
// devices), precision handling and the compiled-model cache.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "aegisrt/backend/registry.h"
#include "aegisrt/cache/artifact_cache.h"
#include "backends/openvino/ov_test_util.h"
#include "common/temp_dir.h"
#include "conformance/conformance.h"  // compare_tensors()

namespace aegisrt::testing {
namespace {

namespace fs = std::filesystem;
using openvino::options_for;
using openvino::own_model;
using openvino::shared_model;

class OpenVinoTest : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, const std::string& bytes) const {
    const auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  static std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  TempDir temp_{"aegisrt_ov_"};
  fs::path dir_ = temp_.path();
};

Result<ExecutionResult> run(RuntimeBackend& b, const std::vector<Tensor>& inputs) {
  return ort::run(b, inputs);
}

/// Loads `model` (fp32, CPU) and checks every output against the saved numpy reference.
void expect_matches_reference(const std::string& name, double atol, double rtol,
                              std::map<std::string, std::string> options = {}) {
  SCOPED_TRACE(name);
  auto b = make_openvino_backend();
  auto loaded = b->load(options_for(shared_model(name), std::move(options)));
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const auto ref = ort::read_reference(name);
  auto r = run(*b, ref.inputs);
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->outputs.size(), ref.outputs.size());
  for (std::size_t i = 0; i < ref.outputs.size(); ++i) {
    EXPECT_EQ(r->outputs[i].dtype(), ref.outputs[i].dtype()) << "output " << i;
    EXPECT_EQ(compare_tensors(r->outputs[i], ref.outputs[i], atol, rtol), "") << "output " << i;
  }
}

TEST_F(OpenVinoTest, RegisteredUnderItsName) {
  EXPECT_TRUE(BackendFactory::builtin().contains("openvino"));
  auto b = BackendFactory::create("openvino");
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ((*b)->name(), "openvino");
  EXPECT_FALSE(openvino_version().empty());
  // The version names the installed wheel's release (scripts/deps/35-openvino.sh).
  EXPECT_EQ(openvino_version().rfind("2026.4.1", 0), 0u) << openvino_version();
}

TEST_F(OpenVinoTest, SeesTheCpuDevice) {
  auto devices = openvino_devices();
  ASSERT_TRUE(devices.ok()) << devices.error();
  bool cpu = false;
  for (const auto& d : *devices) cpu |= d.rfind("CPU", 0) == 0;
  EXPECT_TRUE(cpu) << "devices: " << devices->size();
}

TEST_F(OpenVinoTest, CapabilitiesAreTruthful) {
  auto b = make_openvino_backend();
  const auto c = b->capabilities();
  EXPECT_TRUE(c.dynamic_shapes);
  EXPECT_TRUE(c.thread_safe_execute);
  EXPECT_FALSE(c.device_inputs);
  EXPECT_EQ(c.devices, std::vector<DeviceKind>{DeviceKind::CPU});
  // Each declared dtype really goes through: the shared models cover f32, f16 and int8 outputs;
  // dynamic_batch proves dynamic shapes (below).
  for (DType t : {DType::Float32, DType::Float16, DType::Int8}) {
    EXPECT_NE(std::find(c.dtypes.begin(), c.dtypes.end(), t), c.dtypes.end()) << dtype_name(t);
  }
}

TEST_F(OpenVinoTest, NumpyReferencesFp32) {
  expect_matches_reference("small_cnn", 1e-4, 1e-4);
  expect_matches_reference("matmul_add", 1e-4, 1e-4);
  expect_matches_reference("two_in_two_out", 1e-4, 1e-4);
  expect_matches_reference("bench_cnn", 1e-4, 1e-4);
}

TEST_F(OpenVinoTest, Float16InputsAndOutputs) {
  // fp16_mlp has float16 I/O; at precision fp32 OpenVINO computes in f32.
  expect_matches_reference("fp16_mlp", 2e-2, 1e-2);
}

TEST_F(OpenVinoTest, DynamicBatchRunsEveryBatchSize) {
  auto b = make_openvino_backend();
  ASSERT_TRUE(b->load(options_for(shared_model("affine"))).ok());
  ASSERT_EQ(b->input_specs().size(), 1u);
  EXPECT_TRUE(b->input_specs()[0].is_dynamic());
  for (std::int64_t n : {1, 3, 7, 2}) {
    auto x = Tensor::allocate_host({n, 4}, DType::Float32, "x");
    ASSERT_TRUE(x.ok());
    for (std::int64_t i = 0; i < 4 * n; ++i) x->span<float>()[static_cast<std::size_t>(i)] = static_cast<float>(i) - 5.f;
    std::vector<Tensor> in;
    in.push_back(std::move(*x));
    auto r = run(*b, in);
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(r->outputs[0].shape(), (Shape{n, 4}));
    for (std::int64_t i = 0; i < 4 * n; ++i) {
      EXPECT_FLOAT_EQ(r->outputs[0].span<float>()[static_cast<std::size_t>(i)], 2.f * (static_cast<float>(i) - 5.f) + 1.f);
    }
  }
  expect_matches_reference("dynamic_batch", 1e-4, 1e-4);
}

TEST_F(OpenVinoTest, DepthAnythingShapedModel) {
  auto b = make_openvino_backend();
  auto loaded = b->load(options_for(own_model("depth_tiny")));
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  ASSERT_EQ(b->output_specs().size(), 1u);
  EXPECT_EQ(b->output_specs()[0].name, "depth");
  EXPECT_EQ(b->output_specs()[0].shape, (Shape{1, 518, 518}));
  auto x = ort::read_npy(openvino::own_dir() / "depth_tiny.input_0.npy");
  auto y = ort::read_npy(openvino::own_dir() / "depth_tiny.output_0.npy");
  ASSERT_TRUE(x.ok() && y.ok());
  std::vector<Tensor> in;
  in.push_back(std::move(*x));
  auto r = run(*b, in);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(compare_tensors(r->outputs[0], *y, 1e-4, 1e-4), "");
}

// ---------------------------------------------------------------- errors

TEST_F(OpenVinoTest, MissingFileIsNotFound) {
  auto b = make_openvino_backend();
  auto r = b->load(options_for(dir_ / "nope.onnx"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound) << r.error();
  EXPECT_NE(r.error().to_string().find("nope.onnx"), std::string::npos) << r.error();
}

TEST_F(OpenVinoTest, CorruptOnnxIsCorruptNamingTheFile) {
  auto b = make_openvino_backend();
  // A real model cut short, then plain text that is no protobuf at all.
  const std::string bytes = slurp(shared_model("small_cnn"));
  for (const auto& [name, content] :
       std::vector<std::pair<std::string, std::string>>{{"cut.onnx", bytes.substr(0, bytes.size() / 3)},
                                                        {"text.onnx", "this is not an ONNX model\n"}}) {
    auto r = b->load(options_for(write(name, content), {{"cache", "off"}}));
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code(), ErrorCode::Corrupt) << r.error();
    EXPECT_NE(r.error().to_string().find(name), std::string::npos) << r.error();
    EXPECT_FALSE(b->is_loaded());
  }
  // Through the cache the same error comes back, and nothing is published.
  auto r = b->load(options_for(write("cut2.onnx", bytes.substr(0, bytes.size() / 2))));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Corrupt) << r.error();
}

TEST_F(OpenVinoTest, WrongDtypeAndShapeNameTheTensor) {
  auto b = make_openvino_backend();
  ASSERT_TRUE(b->load(options_for(shared_model("small_cnn"))).ok());
  const auto spec = b->input_specs().at(0);
  {
    Shape shape = spec.shape;
    auto t = Tensor::allocate_host(shape, DType::Int32, spec.name);
    ASSERT_TRUE(t.ok());
    std::vector<Tensor> in;
    in.push_back(std::move(*t));
    auto r = run(*b, in);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message().find(spec.name), std::string::npos) << r.error();
  }
  {
    Shape shape = spec.shape;
    shape.back() += 1;
    auto t = Tensor::allocate_host(shape, DType::Float32, spec.name);
    ASSERT_TRUE(t.ok());
    std::vector<Tensor> in;
    in.push_back(std::move(*t));
    auto r = run(*b, in);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message().find(spec.name), std::string::npos) << r.error();
  }
}

TEST_F(OpenVinoTest, BadOptionsAreInvalidArgumentNamingTheKey) {
  auto b = make_openvino_backend();
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"provider", "cpu"}, {"num_threads", "-2"}, {"num_threads", "x"}, {"performance_hint", "fast"},
           {"inference_precision", "f8"}, {"cache", "maybe"}}) {
    auto r = b->load(options_for(shared_model("affine"), {{k, v}}));
    ASSERT_FALSE(r.ok()) << k << "=" << v;
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument) << r.error();
    EXPECT_NE(r.error().message().find("'" + k + "'"), std::string::npos) << r.error();
  }
}

TEST_F(OpenVinoTest, DevicesOpenVinoLacksAreUnsupported) {
  auto b = make_openvino_backend();
  auto cuda = options_for(shared_model("affine"));
  cuda.device = Device::cuda(0);
  auto r = b->load(cuda);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << r.error();
  EXPECT_NE(r.error().message().find("CUDA"), std::string::npos) << r.error();

  r = b->load(options_for(shared_model("affine"), {{"device", "NO_SUCH_DEVICE"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << r.error();
  EXPECT_NE(r.error().message().find("NO_SUCH_DEVICE"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("CPU"), std::string::npos) << "should list what OpenVINO sees: " << r.error();
}

// ---------------------------------------------------------------- precision

TEST_F(OpenVinoTest, Int8NeedsAQdqModel) {
  auto b = make_openvino_backend();
  auto o = options_for(shared_model("affine"), {{"cache", "off"}});
  o.precision = Precision::INT8;
  auto r = b->load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << r.error();
  EXPECT_NE(r.error().message().find("affine.onnx"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("Q/DQ"), std::string::npos) << r.error();
}

TEST_F(OpenVinoTest, Int8FromQdqModelMatchesNumpy) {
  auto b = make_openvino_backend();
  auto o = options_for(shared_model("int8_qdq"));
  o.precision = Precision::INT8;
  auto loaded = b->load(o);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const auto ref = ort::read_reference("int8_qdq");
  auto r = run(*b, ref.inputs);
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->outputs.size(), 2u);
  EXPECT_EQ(r->outputs[0].dtype(), DType::Int8);
  // Quantised values may differ by one step at rounding ties (integer vs float accumulation).
  EXPECT_EQ(compare_tensors(r->outputs[0], ref.outputs[0], 1.0, 0.0), "");
  EXPECT_EQ(compare_tensors(r->outputs[1], ref.outputs[1], 0.1 + 1e-6, 0.0), "");
}

TEST_F(OpenVinoTest, HalfPrecisionFollowsTheDeviceCapabilities) {
  // fp16 and bf16 run only where the CPU lists them (AVX512-FP16/AMX, AVX512-BF16);
  // elsewhere the load is Unsupported, naming the device and its capabilities.
  // Either way the outcome must agree with the capabilities the error or
  // OpenVINO reports, never silently run in another precision.
  for (const auto& [precision, hint, cap] :
       std::vector<std::tuple<Precision, std::string, std::string>>{{Precision::FP16, "", "FP16"},
                                                                    {Precision::FP32, "bf16", "BF16"}}) {
    SCOPED_TRACE(cap);
    auto b = make_openvino_backend();
    std::map<std::string, std::string> opts{{"cache", "off"}};
    if (!hint.empty()) opts["inference_precision"] = hint;
    auto o = options_for(shared_model("small_cnn"), opts);
    o.precision = precision;
    auto r = b->load(o);
    if (!r.ok()) {
      EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << r.error();
      EXPECT_NE(r.error().message().find("device CPU"), std::string::npos) << r.error();
      EXPECT_NE(r.error().message().find("capabilities are"), std::string::npos) << r.error();
      EXPECT_EQ(r.error().message().find(" " + cap), std::string::npos) << "listed yet refused: " << r.error();
      continue;
    }
    const auto ref = ort::read_reference("small_cnn");
    auto out = run(*b, ref.inputs);
    ASSERT_TRUE(out.ok()) << out.error();
    EXPECT_EQ(out->outputs[0].dtype(), DType::Float32);  // I/O stays the model's
    EXPECT_EQ(compare_tensors(out->outputs[0], ref.outputs[0], 5e-2, 5e-2), "");
  }
}

// ---------------------------------------------------------------- cache

TEST_F(OpenVinoTest, WarmStartImportsTheCachedBlob) {
  const fs::path model = dir_ / "affine_copy.onnx";
  fs::copy_file(shared_model("affine"), model);
  auto o = options_for(model);
  o.cache_dir = dir_ / "cache";
  auto cold = std::make_unique<OpenVinoBackend>();
  ASSERT_TRUE(cold->load(o).ok());
  EXPECT_EQ(cold->cache_outcome(), "built");
  const fs::path blob = o.cache_dir / "affine_copy_cpu_fp32.bin";
  EXPECT_TRUE(fs::is_regular_file(blob));
  EXPECT_TRUE(fs::is_regular_file(blob.string() + ".json"));
  auto sidecar = ArtifactMetadata::read(blob.string() + ".json");
  ASSERT_TRUE(sidecar.ok()) << sidecar.error();
  EXPECT_EQ(sidecar->backend, "openvino");
  EXPECT_EQ(sidecar->backend_version, openvino_version());
  EXPECT_EQ(sidecar->build_options.at("device"), "CPU");
  EXPECT_EQ(sidecar->build_options.at("inference_precision"), "f32");

  auto warm = std::make_unique<OpenVinoBackend>();
  ASSERT_TRUE(warm->load(o).ok());
  EXPECT_EQ(warm->cache_outcome(), "hit");
  EXPECT_EQ(warm->input_specs(), cold->input_specs());
  EXPECT_EQ(warm->output_specs(), cold->output_specs());
  const std::vector<float> xs = {-1.5f, 0.f, 2.25f, 7.f, 1.f, -3.f, 0.5f, 4.f};
  auto x = Tensor::from_bytes({2, 4}, DType::Float32, std::as_bytes(std::span(xs)), "x");
  ASSERT_TRUE(x.ok());
  std::vector<Tensor> in;
  in.push_back(std::move(*x));
  auto r = run(*warm, in);
  ASSERT_TRUE(r.ok()) << r.error();
  for (std::size_t i = 0; i < xs.size(); ++i) EXPECT_FLOAT_EQ(r->outputs[0].span<float>()[i], 2.f * xs[i] + 1.f);

  // Another precision hint is another entry, not a reuse of this one.
  auto one_thread = o;
  one_thread.backend_options["num_threads"] = "1";
  auto b3 = std::make_unique<OpenVinoBackend>();
  ASSERT_TRUE(b3->load(one_thread).ok());
  EXPECT_NE(b3->cache_outcome(), "hit");
}

TEST_F(OpenVinoTest, ChangedModelOrDamagedBlobIsRebuilt) {
  const fs::path model = dir_ / "m.onnx";
  fs::copy_file(shared_model("affine"), model);
  auto o = options_for(model);
  o.cache_dir = dir_ / "cache";
  {
    OpenVinoBackend b;
    ASSERT_TRUE(b.load(o).ok());
    EXPECT_EQ(b.cache_outcome(), "built");
  }
  // Same file name, another function (y = 3x - 1): the source hash differs.
  fs::copy_file(own_model("scale3"), model, fs::copy_options::overwrite_existing);
  {
    OpenVinoBackend b;
    ASSERT_TRUE(b.load(o).ok());
    EXPECT_EQ(b.cache_outcome(), "built");
    const std::vector<float> xs = {1.f, 2.f, -1.f, 0.f};
    auto x = Tensor::from_bytes({1, 4}, DType::Float32, std::as_bytes(std::span(xs)), "x");
    ASSERT_TRUE(x.ok());
    std::vector<Tensor> in;
    in.push_back(std::move(*x));
    auto r = run(b, in);
    ASSERT_TRUE(r.ok()) << r.error();
    for (std::size_t i = 0; i < xs.size(); ++i) EXPECT_FLOAT_EQ(r->outputs[0].span<float>()[i], 3.f * xs[i] - 1.f);
  }
  // A flipped byte in the blob fails the sidecar's checksum: rebuilt, not imported.
  const fs::path blob = o.cache_dir / "m_cpu_fp32.bin";
  std::string bytes = slurp(blob);
  ASSERT_FALSE(bytes.empty());
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x5A);
  std::ofstream(blob, std::ios::binary | std::ios::trunc) << bytes;
  {
    OpenVinoBackend b;
    ASSERT_TRUE(b.load(o).ok());
    EXPECT_EQ(b.cache_outcome(), "built");
  }
}

TEST_F(OpenVinoTest, UnusableCacheDirectoryStillLoads) {
  const fs::path blocker = write("not_a_dir", "x");
  auto o = options_for(shared_model("affine"));
  o.cache_dir = blocker / "cache";  // a file in the way: the cache cannot be created
  OpenVinoBackend b;
  auto r = b.load(o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(b.cache_outcome(), "built-uncached");
}

}  // namespace
}  // namespace aegisrt::testing
