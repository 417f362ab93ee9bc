// ONNX Runtime with the CUDA execution provider: host inputs, device inputs
// and device outputs (IoBinding) against the numpy references. Runs only where
// the loaded ORT has the CUDA provider and it initialises (the GPU machine with
// the onnxruntime-gpu wheel); skipped with the reason elsewhere. Device memory
// comes from the CUDA runtime directly so this test does not depend on
// AegisRT's cuda layer.
#include <gmock/gmock.h>

#include <cmath>
#include <random>

#if AEGISRT_TEST_HAVE_CUDART
#include <cuda_runtime_api.h>
#endif

#include "backends/onnxruntime/ort_test_util.h"
#include "conformance/conformance.h"  // compare_tensors()

namespace aegisrt::testing {
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(BackendConformance);
}  // namespace aegisrt::testing

namespace aegisrt::testing::ort {
namespace {

class OnnxCuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!has_provider("cuda")) {
      GTEST_SKIP() << "ONNX Runtime " << onnxruntime_version()
                   << " has no CUDA execution provider (available: " << providers_string()
                   << "); build against the onnxruntime-gpu wheel";
    }
  }

  /// Loads `name` on CUDA; skips (with ORT's reason) if the provider cannot start here.
  void load(OnnxRuntimeBackend& backend, const std::string& name) {
    auto o = options_for(name, {{"provider", "cuda"}});
    o.device = Device::cuda(0);
    auto r = backend.load(o);
    if (!r.ok() && r.error().code() == ErrorCode::Unsupported) {
      GTEST_SKIP() << "CUDA provider does not initialise here: " << r.error();
    }
    ASSERT_TRUE(r.ok()) << r.error();
  }
};

TEST_F(OnnxCuda, CapabilitiesReportDeviceIo) {
  OnnxRuntimeBackend backend;
  load(backend, "matmul_add");
  if (::testing::Test::IsSkipped()) return;
  EXPECT_EQ(backend.active_provider(), "cuda");
  const auto caps = backend.capabilities();
  EXPECT_TRUE(caps.device_inputs);
  EXPECT_TRUE(caps.device_outputs);
  EXPECT_THAT(caps.devices, ::testing::Contains(DeviceKind::CUDA));
}

TEST_F(OnnxCuda, HostInputsMatchNumpy) {
  for (const std::string name : {"matmul_add", "two_in_two_out", "int8_qdq", "fp16_mlp", "small_cnn",
                                 "dynamic_batch"}) {
    SCOPED_TRACE(name);
    OnnxRuntimeBackend backend;
    load(backend, name);
    if (::testing::Test::IsSkipped()) return;
    const auto io = read_reference(name);
    auto r = run(backend, io.inputs);
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(r->outputs.size(), io.outputs.size());
    // GPU kernels (TF32, fused fp16, integer requantisation) round differently.
    const double atol = name == "int8_qdq" ? 1.0 : name == "fp16_mlp" ? 3e-2 : 2e-3;
    for (std::size_t i = 0; i < io.outputs.size(); ++i) {
      EXPECT_TRUE(r->outputs[i].location().is_host());
      EXPECT_EQ(compare_tensors(r->outputs[i], io.outputs[i], atol, 2e-3), "") << "output " << i;
    }
  }
}

#if AEGISRT_TEST_HAVE_CUDART

struct DeviceBuffer {
  void* ptr = nullptr;
  explicit DeviceBuffer(std::size_t bytes) {
    if (cudaMalloc(&ptr, bytes) != cudaSuccess) ptr = nullptr;
  }
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

Tensor to_host(const Tensor& device_tensor) {
  auto h = Tensor::allocate_host(device_tensor.shape(), device_tensor.dtype(), device_tensor.name());
  EXPECT_TRUE(h.ok());
  EXPECT_EQ(cudaMemcpy(h->data(), device_tensor.data(), device_tensor.byte_size(), cudaMemcpyDeviceToHost),
            cudaSuccess);
  return std::move(*h);
}

TEST_F(OnnxCuda, DeviceInputsAndOutputsAgreeWithHost) {
  OnnxRuntimeBackend backend;
  load(backend, "two_in_two_out");
  if (::testing::Test::IsSkipped()) return;
  const auto io = read_reference("two_in_two_out");
  DeviceBuffer da(io.inputs[0].byte_size()), db(io.inputs[1].byte_size());
  ASSERT_NE(da.ptr, nullptr);
  ASSERT_NE(db.ptr, nullptr);
  ASSERT_EQ(cudaMemcpy(da.ptr, io.inputs[0].data(), io.inputs[0].byte_size(), cudaMemcpyHostToDevice), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(db.ptr, io.inputs[1].data(), io.inputs[1].byte_size(), cudaMemcpyHostToDevice), cudaSuccess);

  for (bool mixed : {false, true}) {
    for (auto placement : {OutputPlacement::Host, OutputPlacement::Device}) {
      SCOPED_TRACE(std::string(mixed ? "host a + device b" : "device a + device b") +
                   (placement == OutputPlacement::Device ? ", device outputs" : ", host outputs"));
      ExecutionRequest req;
      req.inputs = {{"a", mixed ? io.inputs[0].view()
                                : TensorView(da.ptr, io.inputs[0].shape(), DType::Float32, Location::device(0))},
                    {"b", TensorView(db.ptr, io.inputs[1].shape(), DType::Float32, Location::device(0))}};
      req.output_placement = placement;
      auto r = backend.execute(req);
      ASSERT_TRUE(r.ok()) << r.error();
      ASSERT_EQ(r->outputs.size(), 2u);
      for (std::size_t i = 0; i < 2; ++i) {
        const auto& out = r->outputs[i];
        if (placement == OutputPlacement::Device) {
          EXPECT_TRUE(out.location().is_device()) << to_string(out.location());
          EXPECT_EQ(compare_tensors(to_host(out), io.outputs[i], 1e-6, 1e-6), "") << "output " << i;
        } else {
          EXPECT_TRUE(out.location().is_host());
          EXPECT_EQ(compare_tensors(out, io.outputs[i], 1e-6, 1e-6), "") << "output " << i;
        }
      }
    }
  }
}

// --- backend option cuda_graph=1 (CUDA graph capture + replay) --------------

/// Host float32 tensor of `shape` with values from `rng` (standard normal).
Tensor random_host(const Shape& shape, std::mt19937& rng, const std::string& name) {
  auto t = Tensor::allocate_host(shape, DType::Float32, name);
  EXPECT_TRUE(t.ok());
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (float& v : t->span<float>()) v = dist(rng);
  return std::move(*t);
}

/// One host input, by view (Tensor is move-only).
Result<ExecutionResult> run_one(RuntimeBackend& backend, const Tensor& x) {
  ExecutionRequest req;
  req.inputs = {{x.name(), x.view()}};
  return backend.execute(req);
}

class OnnxCudaGraph : public OnnxCuda {
 protected:
  /// Loads `name` on CUDA with cuda_graph=1 (graph) or without (plain).
  void load_graph(OnnxRuntimeBackend& backend, const std::string& name, bool graph) {
    auto o = options_for(name, {{"provider", "cuda"}});
    if (graph) o.backend_options["cuda_graph"] = "1";
    o.device = Device::cuda(0);
    auto r = backend.load(o);
    if (!r.ok() && r.error().code() == ErrorCode::Unsupported &&
        r.error().message().find("failed to initialise") != std::string::npos) {
      GTEST_SKIP() << "CUDA provider does not initialise here: " << r.error();
    }
    ASSERT_TRUE(r.ok()) << r.error();
  }
};

// Host inputs: the slot's fixed device input buffers must receive each new
// input (a replay reading the captured values would repeat the first sums).
// Expectation computed here: sum = a + b, argmax = argmax_j(a * b).
TEST_F(OnnxCudaGraph, HostInputsReplayTheNewInputs) {
  OnnxRuntimeBackend backend;
  load_graph(backend, "two_in_two_out", true);
  if (::testing::Test::IsSkipped()) return;
  std::mt19937 rng(16);
  for (int k = 0; k < 20; ++k) {
    SCOPED_TRACE("run " + std::to_string(k));
    const Tensor a = random_host({2, 3}, rng, "a");
    const Tensor b = random_host({2, 3}, rng, "b");
    ExecutionRequest req;
    req.inputs = {{"a", a.view()}, {"b", b.view()}};
    req.output_placement = k % 2 == 0 ? OutputPlacement::Host : OutputPlacement::Device;
    auto r = backend.execute(req);
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(r->outputs.size(), 2u);
    const Tensor sum = r->outputs[0].location().is_device() ? to_host(r->outputs[0]) : r->outputs[0].clone().value();
    const Tensor argmax =
        r->outputs[1].location().is_device() ? to_host(r->outputs[1]) : r->outputs[1].clone().value();
    EXPECT_EQ(r->outputs[0].location().is_device(), k % 2 == 1);
    ASSERT_EQ(sum.shape(), (Shape{2, 3}));
    ASSERT_EQ(argmax.shape(), (Shape{2}));
    const auto av = a.span<float>(), bv = b.span<float>(), sv = sum.span<float>();
    for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(sv[i], av[i] + bv[i]) << "sum element " << i;
    for (std::size_t row = 0; row < 2; ++row) {
      std::int64_t best = 0;
      for (std::int64_t j = 1; j < 3; ++j) {
        if (av[row * 3 + j] * bv[row * 3 + j] > av[row * 3 + best] * bv[row * 3 + best]) best = j;
      }
      EXPECT_EQ(argmax.span<std::int64_t>()[row], best) << "argmax row " << row;
    }
  }
}

// Device inputs at two fixed addresses (two pipeline instances' input
// tensors, one graph each), interleaved over 20 different inputs: each equals
// the plain CUDA session on the same input, and one run on the reference
// input equals numpy.
TEST_F(OnnxCudaGraph, TwoDeviceInputAddressesEqualThePlainSession) {
  OnnxRuntimeBackend graph, plain;
  load_graph(graph, "small_cnn", true);
  if (::testing::Test::IsSkipped()) return;
  load_graph(plain, "small_cnn", false);
  if (::testing::Test::IsSkipped()) return;
  const auto io = read_reference("small_cnn");
  const Shape shape{1, 3, 16, 16};
  const std::size_t bytes = io.inputs[0].byte_size();
  DeviceBuffer da(bytes), db(bytes);
  ASSERT_NE(da.ptr, nullptr);
  ASSERT_NE(db.ptr, nullptr);
  std::mt19937 rng(1616);
  for (int k = 0; k < 20; ++k) {
    for (void* dev : {da.ptr, db.ptr}) {
      SCOPED_TRACE("run " + std::to_string(k) + (dev == da.ptr ? ", instance A" : ", instance B"));
      const bool reference = k == 7 && dev == db.ptr;
      Tensor x = reference ? io.inputs[0].clone().value() : random_host(shape, rng, "x");
      x.set_name("x");
      ASSERT_EQ(cudaMemcpy(dev, x.data(), bytes, cudaMemcpyHostToDevice), cudaSuccess);
      ExecutionRequest req;
      req.inputs = {{"x", TensorView(dev, shape, DType::Float32, Location::device(0))}};
      auto g = graph.execute(req);
      ASSERT_TRUE(g.ok()) << g.error();
      auto p = run_one(plain, x);
      ASSERT_TRUE(p.ok()) << p.error();
      ASSERT_TRUE(g->outputs[0].location().is_host());
      EXPECT_EQ(compare_tensors(g->outputs[0], p->outputs[0], 1e-5, 1e-5), "");
      if (reference) {
        EXPECT_EQ(compare_tensors(g->outputs[0], io.outputs[0], 2e-3, 2e-3), "");
      }
    }
  }
}

// A graph replays fixed shapes: a caller that changes them is refused by name.
TEST_F(OnnxCudaGraph, AShapeChangeIsRefused) {
  OnnxRuntimeBackend backend;
  load_graph(backend, "dynamic_batch", true);
  if (::testing::Test::IsSkipped()) return;
  std::mt19937 rng(7);
  const Tensor two = random_host({2, 3, 8, 8}, rng, "images");
  for (int k = 0; k < 3; ++k) {  // learn, capture, replay
    auto r = run_one(backend, two);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->outputs[0].shape(), (Shape{2, 5}));
  }
  const Tensor three = random_host({3, 3, 8, 8}, rng, "images");
  auto r = run_one(backend, three);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_THAT(r.error().message(), ::testing::HasSubstr("'images'"));
  EXPECT_THAT(r.error().message(), ::testing::HasSubstr("cuda_graph"));
}

#else

TEST_F(OnnxCuda, DeviceInputsAndOutputsAgreeWithHost) {
  GTEST_SKIP() << "this test binary was built without the CUDA runtime (CUDAToolkit not found)";
}

#endif

}  // namespace
}  // namespace aegisrt::testing::ort
