// ONNX Runtime backend behaviour beyond the conformance suite: option and
// provider errors, models of every kind the generator writes (checked against
// numpy references), dynamic batch, fp16, int8 Q/DQ, several inputs and
// outputs, broken files, the optimised-model cache and concurrency.
#include <unistd.h>
#include "aegisrt/core/file_util.h"

#include <gmock/gmock.h>

#include <cstring>
#include <fstream>
#include <thread>

#include "aegisrt/backend/registry.h"
#include "backends/onnxruntime/ort_test_util.h"
#include "common/temp_dir.h"
#include "conformance/conformance.h"  // compare_tensors()

namespace aegisrt::testing {
// conformance.cpp (linked for compare_tensors) brings the suite's TEST_Ps;
// this binary instantiates them nowhere on purpose.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(BackendConformance);
}  // namespace aegisrt::testing

namespace aegisrt::testing::ort {
namespace {

using ::testing::HasSubstr;

class OnnxBackend : public ::testing::Test {
 protected:
  std::filesystem::path write_file(const std::string& name, const std::string& bytes) {
    const auto p = temp_dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  static std::string read_bytes(const std::filesystem::path& p) {
    auto r = aegisrt::read_file(p, "test file", std::uint64_t{1} << 32);
    return r.ok() ? *r : std::string();
  }

  /// Loads `name` (CPU, one thread unless overridden), runs its reference
  /// inputs and compares every output with the numpy reference.
  void expect_matches_reference(const std::string& name, double atol, double rtol,
                                std::map<std::string, std::string> opts = {{"intra_op_threads", "1"}}) {
    OnnxRuntimeBackend backend;
    auto loaded = backend.load(options_for(name, std::move(opts)));
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    const auto io = read_reference(name);
    auto r = run(backend, io.inputs);
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(r->outputs.size(), io.outputs.size());
    for (std::size_t i = 0; i < io.outputs.size(); ++i) {
      EXPECT_EQ(r->outputs[i].dtype(), io.outputs[i].dtype()) << name << " output " << i;
      EXPECT_EQ(compare_tensors(r->outputs[i], io.outputs[i], atol, rtol), "")
          << name << " output " << i << " (" << r->outputs[i].name() << ")";
    }
  }

  aegisrt::testing::TempDir temp_{"aegisrt_ort_"};
  std::filesystem::path temp_dir_ = temp_.path();
};

// --- models against numpy references -----------------------------------------------

TEST_F(OnnxBackend, SmallCnnMatchesNumpy) { expect_matches_reference("small_cnn", 1e-4, 1e-4); }
TEST_F(OnnxBackend, MatMulAddMatchesNumpy) { expect_matches_reference("matmul_add", 1e-4, 1e-4); }
TEST_F(OnnxBackend, BenchCnnMatchesNumpy) { expect_matches_reference("bench_cnn", 1e-4, 1e-4); }
TEST_F(OnnxBackend, BenchMicroMatchesNumpy) { expect_matches_reference("bench_micro", 1e-4, 1e-4); }

TEST_F(OnnxBackend, EveryGraphOptimisationLevelAndThreadCountGivesTheReference) {
  for (const char* level : {"disable", "basic", "extended", "all"}) {
    for (const char* threads : {"1", "2"}) {
      SCOPED_TRACE(std::string(level) + ", " + threads + " thread(s)");
      expect_matches_reference("small_cnn", 1e-4, 1e-4,
                               {{"graph_optimization", level}, {"intra_op_threads", threads},
                                {"inter_op_threads", "1"}});
    }
  }
}

TEST_F(OnnxBackend, Fp16ModelMatchesNumpy) {
  OnnxRuntimeBackend backend;
  ASSERT_TRUE(backend.load(options_for("fp16_mlp")).ok());
  ASSERT_EQ(backend.input_specs().size(), 1u);
  EXPECT_EQ(backend.input_specs()[0].dtype, DType::Float16);
  EXPECT_EQ(backend.output_specs()[0].dtype, DType::Float16);
  expect_matches_reference("fp16_mlp", 2e-2, 1e-2);
}

TEST_F(OnnxBackend, Int8QdqModelMatchesNumpyWithinOneQuantisationStep) {
  OnnxRuntimeBackend backend;
  ASSERT_TRUE(backend.load(options_for("int8_qdq")).ok());
  const auto outs = backend.output_specs();
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs[0].name, "y_q");
  EXPECT_EQ(outs[0].dtype, DType::Int8);
  EXPECT_EQ(outs[1].dtype, DType::Float32);
  const auto io = read_reference("int8_qdq");
  auto r = run(backend, io.inputs);
  ASSERT_TRUE(r.ok()) << r.error();
  // ORT may run this as integer QLinearMatMul: results can differ from the
  // float reference by one step at rounding ties (output scale 0.1).
  EXPECT_EQ(compare_tensors(r->outputs[0], io.outputs[0], 1.0, 0.0), "");
  EXPECT_EQ(compare_tensors(r->outputs[1], io.outputs[1], 0.1 + 1e-6, 0.0), "");
  // And most values must agree exactly: a sign that quantisation really happened the same way.
  const auto got = r->outputs[0].span<std::int8_t>();
  const auto want = io.outputs[0].span<std::int8_t>();
  std::size_t equal = 0;
  for (std::size_t i = 0; i < got.size(); ++i) equal += got[i] == want[i] ? 1 : 0;
  EXPECT_GE(equal * 10, got.size() * 9) << equal << " of " << got.size() << " exact";
}

TEST_F(OnnxBackend, TwoInputsTwoOutputsByNameInAnyOrder) {
  OnnxRuntimeBackend backend;
  ASSERT_TRUE(backend.load(options_for("two_in_two_out")).ok());
  const auto ins = backend.input_specs();
  const auto outs = backend.output_specs();
  ASSERT_EQ(ins.size(), 2u);
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(ins[0].name, "a");
  EXPECT_EQ(ins[1].name, "b");
  EXPECT_EQ(outs[0], (TensorDesc{"sum", {2, 3}, DType::Float32}));
  EXPECT_EQ(outs[1], (TensorDesc{"argmax", {2}, DType::Int64}));

  const auto io = read_reference("two_in_two_out");
  ExecutionRequest req;
  req.inputs = {{"b", io.inputs[1].view()}, {"a", io.inputs[0].view()}};  // reversed on purpose
  auto r = backend.execute(req);
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_NE(r->find("sum"), nullptr);
  ASSERT_NE(r->find("argmax"), nullptr);
  EXPECT_EQ(compare_tensors(*r->find("sum"), io.outputs[0], 1e-6, 1e-6), "");
  EXPECT_EQ(compare_tensors(*r->find("argmax"), io.outputs[1], 0, 0), "");
}

TEST_F(OnnxBackend, DynamicBatchOneToEight) {
  OnnxRuntimeBackend backend;
  ASSERT_TRUE(backend.load(options_for("dynamic_batch", {{"intra_op_threads", "1"}})).ok());
  const auto in_spec = backend.input_specs().at(0);
  const auto out_spec = backend.output_specs().at(0);
  EXPECT_EQ(in_spec.shape, (Shape{kDynamicDim, 3, 8, 8}));
  EXPECT_EQ(out_spec.shape, (Shape{kDynamicDim, 5}));
  EXPECT_TRUE(in_spec.is_dynamic());

  const auto io = read_reference("dynamic_batch");  // batch 8; the model is per-sample
  const auto& x8 = io.inputs[0];
  const auto& y8 = io.outputs[0];
  const auto per_in = static_cast<std::size_t>(x8.element_count() / 8);
  const auto per_out = static_cast<std::size_t>(y8.element_count() / 8);
  for (std::int64_t b = 1; b <= 8; ++b) {
    SCOPED_TRACE("batch " + std::to_string(b));
    const auto bs = static_cast<std::size_t>(b);
    auto x = Tensor::from_bytes({b, 3, 8, 8}, DType::Float32,
                                std::as_bytes(x8.span<float>().first(bs * per_in)), "images");
    auto want = Tensor::from_bytes({b, 5}, DType::Float32,
                                   std::as_bytes(y8.span<float>().first(bs * per_out)), "logits");
    ASSERT_TRUE(x.ok() && want.ok());
    ExecutionRequest req;
    req.inputs = {{"images", x->view()}};
    auto r = backend.execute(req);
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(r->outputs.size(), 1u);
    EXPECT_EQ(r->outputs[0].shape(), (Shape{b, 5}));
    EXPECT_EQ(compare_tensors(r->outputs[0], *want, 1e-4, 1e-4), "");
  }
}

// --- options and providers -------------------------------------------------------

TEST_F(OnnxBackend, MissingProvidersAreUnsupportedWithInstallHint) {
  const std::map<std::string, std::string> hints = {
      {"cuda", "onnxruntime-gpu"}, {"tensorrt", "onnxruntime-gpu"}, {"openvino", "onnxruntime-openvino"}};
  int checked = 0;
  for (const auto& [provider, hint] : hints) {
    SCOPED_TRACE(provider);
    OnnxRuntimeBackend backend;
    auto r = backend.load(options_for("affine", {{"provider", provider}}));
    if (has_provider(provider)) {
      // Present in this ORT: it either starts, or fails as Unsupported saying
      // what its runtime lacks (e.g. the GPU wheel on a machine without a driver).
      if (!r.ok()) {
        EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << r.error();
        EXPECT_THAT(r.error().message(), HasSubstr("failed to initialise"));
        EXPECT_THAT(r.error().message(), HasSubstr("library path"));
        ++checked;
      }
      continue;
    }
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << r.error();
    EXPECT_THAT(r.error().message(), HasSubstr("'" + provider + "'"));
    EXPECT_THAT(r.error().message(), HasSubstr("ExecutionProvider"));
    EXPECT_THAT(r.error().message(), HasSubstr(hint));
    EXPECT_THAT(r.error().message(), HasSubstr("available: "));
    EXPECT_FALSE(backend.is_loaded());
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "every optional provider is present and starts (" << providers_string() << ")";
}

TEST_F(OnnxBackend, CudaDeviceSelectsCudaProvider) {
  if (has_provider("cuda")) GTEST_SKIP() << "CUDA provider present; covered by OnnxCuda conformance";
  OnnxRuntimeBackend backend;
  auto o = options_for("affine");
  o.device = Device::cuda(0);
  auto r = backend.load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << r.error();
  EXPECT_THAT(r.error().message(), HasSubstr("'cuda'"));
}

TEST_F(OnnxBackend, UnknownOrBadOptionsAreInvalidArgumentNamingTheKey) {
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases = {
      {{{"no_such_knob", "1"}}, "no_such_knob"},
      {{{"provider", "tpu"}}, "provider"},
      {{{"intra_op_threads", "two"}}, "intra_op_threads"},
      {{{"inter_op_threads", "-1"}}, "inter_op_threads"},
      {{{"graph_optimization", "max"}}, "graph_optimization"},
      {{{"trt_fp16_enable", "1"}}, "trt_fp16_enable"},          // tensorrt-only key on cpu
      {{{"cuda_gpu_mem_limit", "1024"}}, "cuda_gpu_mem_limit"},  // cuda-only key on cpu
      {{{"calibration_table", "calib.flatbuffers"}}, "calibration_table"},
      {{{"optimized_model_path", ""}}, "optimized_model_path"},
  };
  for (const auto& [opts, key] : cases) {
    SCOPED_TRACE(key);
    OnnxRuntimeBackend backend;
    auto r = backend.load(options_for("affine", opts));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument) << r.error();
    EXPECT_THAT(r.error().message(), HasSubstr(key));
  }
  OnnxRuntimeBackend backend;
  auto o = options_for("affine", {{"provider", "cpu"}});
  o.device = Device::cuda(0);
  auto r = backend.load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument) << r.error();
  EXPECT_THAT(r.error().message(), HasSubstr("cuda:0"));
}

TEST_F(OnnxBackend, CpuCapabilitiesAndRegistry) {
  OnnxRuntimeBackend backend;
  EXPECT_EQ(backend.name(), "onnx");
  EXPECT_EQ(backend.active_provider(), "");
  ASSERT_TRUE(backend.load(options_for("affine")).ok());
  EXPECT_EQ(backend.active_provider(), "cpu");
  const auto caps = backend.capabilities();
  EXPECT_TRUE(caps.thread_safe_execute);
  EXPECT_TRUE(caps.dynamic_shapes);
  EXPECT_FALSE(caps.device_inputs);
  EXPECT_FALSE(caps.device_outputs);
  EXPECT_EQ(backend.input_specs().at(0), (TensorDesc{"x", {kDynamicDim, 4}, DType::Float32}));
  auto mem = backend.estimate_memory();
  ASSERT_TRUE(mem.ok());
  EXPECT_GE(*mem, std::filesystem::file_size(model_path("affine")));

  auto made = BackendFactory::create("onnx");
  ASSERT_TRUE(made.ok()) << made.error();
  EXPECT_EQ((*made)->name(), "onnx");
  bool listed = false;
  for (const auto& info : BackendFactory::builtin().list()) {
    if (info.name == "onnx") {
      listed = true;
      EXPECT_EQ(info.version, onnxruntime_version());
    }
  }
  EXPECT_TRUE(listed);
  EXPECT_THAT(onnxruntime_version(), ::testing::MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+.*"));
  EXPECT_THAT(onnxruntime_available_providers(), ::testing::Contains("cpu"));
}

TEST_F(OnnxBackend, DeviceOutputsOnCpuProviderAreUnsupported) {
  OnnxRuntimeBackend backend;
  ASSERT_TRUE(backend.load(options_for("affine")).ok());
  auto x = Tensor::allocate_host({2, 4}, DType::Float32, "x");
  ASSERT_TRUE(x.ok());
  ExecutionRequest req;
  req.inputs = {{"x", x->view()}};
  req.output_placement = OutputPlacement::Device;
  auto r = backend.execute(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << r.error();
  EXPECT_THAT(r.error().message(), HasSubstr("cuda"));
}

// --- broken inputs and files --------------------------------------------------------

TEST_F(OnnxBackend, WrongShapedInputIsInvalidArgumentNamingTheTensor) {
  OnnxRuntimeBackend backend;
  ASSERT_TRUE(backend.load(options_for("matmul_add")).ok());  // x: float32 [3,16]
  auto x = Tensor::allocate_host({2, 16}, DType::Float32, "x");
  ASSERT_TRUE(x.ok());
  auto r = run(backend, [&] {
    std::vector<Tensor> v;
    v.push_back(std::move(*x));
    return v;
  }());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument) << r.error();
  EXPECT_THAT(r.error().message(), HasSubstr("'x'"));
  EXPECT_THAT(r.error().message(), HasSubstr("2x16"));
  EXPECT_THAT(r.error().message(), HasSubstr("3x16"));
}

TEST_F(OnnxBackend, TruncatedModelIsCorruptNamingTheFile) {
  const auto bytes = read_bytes(model_path("small_cnn"));
  ASSERT_GT(bytes.size(), 100u);
  const auto p = write_file("truncated.onnx", bytes.substr(0, bytes.size() / 2));
  OnnxRuntimeBackend backend;
  auto r = backend.load(options_for("affine"));
  ASSERT_TRUE(r.ok());
  auto o = options_for("affine");
  o.artifact_path = p;
  r = backend.load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Corrupt) << r.error();
  EXPECT_THAT(r.error().to_string(), HasSubstr("truncated.onnx"));
  EXPECT_THAT(r.error().message(), HasSubstr("ORT code"));
  EXPECT_FALSE(backend.is_loaded());  // the failed load left nothing half-loaded
}

TEST_F(OnnxBackend, NonOnnxFileIsCorruptNamingTheFile) {
  for (const std::string& junk :
       {std::string("name: yolo\nfamily: detection\n"), std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)}) {
    const auto p = write_file("not_a_model.onnx", junk);
    OnnxRuntimeBackend backend;
    auto o = options_for("affine");
    o.artifact_path = p;
    auto r = backend.load(o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::Corrupt) << r.error();
    EXPECT_THAT(r.error().to_string(), HasSubstr("not_a_model.onnx"));
  }
}

TEST_F(OnnxBackend, DirectoryInsteadOfModelIsTypedError) {
  OnnxRuntimeBackend backend;
  auto o = options_for("affine");
  o.artifact_path = temp_dir_;
  auto r = backend.load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().code(), ErrorCode::Internal) << r.error();
  EXPECT_THAT(r.error().to_string(), HasSubstr(temp_dir_.filename().string()));
}

// --- optimised-model cache ------------------------------------------------------------

TEST_F(OnnxBackend, OptimisedModelCacheIsWrittenReusedAndRebuiltWhenBad) {
  const auto cache = temp_dir_ / "cache" / "small_cnn.opt.onnx";
  const auto io = read_reference("small_cnn");
  auto load_and_check = [&] {
    OnnxRuntimeBackend backend;
    auto loaded = backend.load(options_for("small_cnn", {{"optimized_model_path", cache.string()},
                                                         {"intra_op_threads", "1"}}));
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    auto r = run(backend, io.inputs);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(compare_tensors(r->outputs[0], io.outputs[0], 1e-4, 1e-4), "");
  };
  load_and_check();
  ASSERT_TRUE(std::filesystem::exists(cache));
  ASSERT_TRUE(std::filesystem::exists(cache.string() + ".key"));
  const auto first_write = std::filesystem::last_write_time(cache);

  load_and_check();  // a hit: the cache file is read, not rewritten
  EXPECT_EQ(std::filesystem::last_write_time(cache), first_write);

  std::ofstream(cache, std::ios::binary | std::ios::trunc) << "garbage, not a model";
  load_and_check();  // unusable cache: rebuilt from the source model
  EXPECT_GT(std::filesystem::file_size(cache), 100u);
  EXPECT_NE(read_bytes(cache), "garbage, not a model");
}

// Issue 12 §3: the cache is keyed on content (the .onnx and its external data),
// and a replaced cache file is detected by its own checksum.
TEST_F(OnnxBackend, OptimisedModelCacheIsKeyedOnContentAndChecksCacheFile) {
  const auto dir = temp_dir_ / "m";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(model_path("ext_matmul"), dir / "ext_matmul.onnx");
  std::filesystem::copy_file(models_dir() / "ext_matmul.weights", dir / "ext_matmul.weights");
  const auto cache = temp_dir_ / "cache" / "ext.opt.onnx";
  const std::vector<float> x = {1, 2, 3, 4, -1, 0.5f, 0.25f, 2};
  auto xt = std::move(Tensor::from_bytes({2, 4}, DType::Float32, std::as_bytes(std::span<const float>(x)))).value();
  auto weights = [&] {
    const std::string b = read_bytes(dir / "ext_matmul.weights");
    std::vector<float> w(b.size() / sizeof(float));
    std::memcpy(w.data(), b.data(), w.size() * sizeof(float));
    return w;
  };
  // y = x @ W (x [2,4], W [4,3]) in double: the independent reference.
  auto reference = [&](const std::vector<float>& w) {
    std::vector<float> y(6);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) {
        double acc = 0;
        for (int k = 0; k < 4; ++k) acc += double{x[static_cast<std::size_t>(i * 4 + k)]} * w[static_cast<std::size_t>(k * 3 + j)];
        y[static_cast<std::size_t>(i * 3 + j)] = static_cast<float>(acc);
      }
    auto t = Tensor::from_bytes({2, 3}, DType::Float32, std::as_bytes(std::span<const float>(y)));
    return std::move(*t);
  };
  auto run_once = [&]() -> Tensor {
    OnnxRuntimeBackend backend;
    LoadOptions o;
    o.artifact_path = dir / "ext_matmul.onnx";
    o.backend_options = {{"optimized_model_path", cache.string()}, {"intra_op_threads", "1"}};
    auto loaded = backend.load(o);
    EXPECT_TRUE(loaded.ok()) << loaded.error();
    if (!loaded.ok()) return {};
    ExecutionRequest req;
    req.inputs.push_back({"", xt.view()});
    auto r = backend.execute(req);
    EXPECT_TRUE(r.ok()) << r.error();
    if (!r.ok()) return {};
    return std::move(r->outputs[0]);
  };
  const auto w1 = weights();
  ASSERT_EQ(w1.size(), 12u);
  EXPECT_EQ(compare_tensors(run_once(), reference(w1), 1e-5, 1e-5), "");
  ASSERT_TRUE(std::filesystem::exists(cache));

  // New weights, same .onnx (path, size and mtime unchanged): rebuilt from the new data.
  std::vector<float> w2 = w1;
  for (auto& v : w2) v = -3.0f * v + 0.5f;
  std::ofstream(dir / "ext_matmul.weights", std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(w2.data()), static_cast<std::streamsize>(w2.size() * sizeof(float)));
  EXPECT_EQ(compare_tensors(run_once(), reference(w2), 1e-5, 1e-5), "");

  // The cache file replaced by another valid model with the same I/O (the
  // first build's graph, saved before the weights changed): detected, rebuilt.
  const auto stale_copy = temp_dir_ / "stale.onnx";
  {
    std::ofstream(dir / "ext_matmul.weights", std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(w1.data()), static_cast<std::streamsize>(w1.size() * sizeof(float)));
    EXPECT_EQ(compare_tensors(run_once(), reference(w1), 1e-5, 1e-5), "");
    std::filesystem::copy_file(cache, stale_copy);
    std::ofstream(dir / "ext_matmul.weights", std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(w2.data()), static_cast<std::streamsize>(w2.size() * sizeof(float)));
    EXPECT_EQ(compare_tensors(run_once(), reference(w2), 1e-5, 1e-5), "");
  }
  std::filesystem::copy_file(stale_copy, cache, std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(compare_tensors(run_once(), reference(w2), 1e-5, 1e-5), "");

  // A cache file others may write is refused, naming it.
  std::filesystem::permissions(cache, std::filesystem::perms::others_write, std::filesystem::perm_options::add);
  OnnxRuntimeBackend backend;
  LoadOptions o;
  o.artifact_path = dir / "ext_matmul.onnx";
  o.backend_options = {{"optimized_model_path", cache.string()}};
  auto r = backend.load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_THAT(r.error().to_string(), HasSubstr(cache.string()));
}

// --- concurrency ------------------------------------------------------------------------

TEST_F(OnnxBackend, ConcurrentExecuteWithDifferentBatchSizesIsCorrect) {
  OnnxRuntimeBackend backend;
  ASSERT_TRUE(backend.load(options_for("dynamic_batch", {{"intra_op_threads", "1"}})).ok());
  const auto io = read_reference("dynamic_batch");
  const auto per_in = static_cast<std::size_t>(io.inputs[0].element_count() / 8);
  const auto per_out = static_cast<std::size_t>(io.outputs[0].element_count() / 8);
  constexpr int kThreads = 6;
  constexpr int kIters = 25;
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIters && failures[t].empty(); ++i) {
        const std::int64_t b = 1 + (t + i) % 8;
        const auto bs = static_cast<std::size_t>(b);
        auto x = Tensor::from_bytes({b, 3, 8, 8}, DType::Float32,
                                    std::as_bytes(io.inputs[0].span<float>().first(bs * per_in)));
        auto want = Tensor::from_bytes({b, 5}, DType::Float32,
                                       std::as_bytes(io.outputs[0].span<float>().first(bs * per_out)));
        ExecutionRequest req;
        req.inputs = {{"images", x->view()}};
        auto r = backend.execute(req);
        if (!r.ok()) {
          failures[t] = r.error().to_string();
        } else if (auto d = compare_tensors(r->outputs[0], *want, 1e-4, 1e-4); !d.empty()) {
          failures[t] = "thread " + std::to_string(t) + " batch " + std::to_string(b) + ": " + d;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& f : failures) EXPECT_EQ(f, "");
}

TEST_F(OnnxBackend, OutputsOutliveTheBackend) {
  std::vector<Tensor> outputs;
  const auto io = read_reference("matmul_add");
  {
    OnnxRuntimeBackend backend;
    ASSERT_TRUE(backend.load(options_for("matmul_add")).ok());
    auto r = run(backend, io.inputs);
    ASSERT_TRUE(r.ok()) << r.error();
    outputs = std::move(r->outputs);
  }  // session destroyed; the outputs own their ORT buffers
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(compare_tensors(outputs[0], io.outputs[0], 1e-4, 1e-4), "");
}

}  // namespace
}  // namespace aegisrt::testing::ort
