// ONNX Runtime with the CUDA execution provider: host inputs, device inputs
// and device outputs (IoBinding) against the numpy references. Runs only where
// the loaded ORT has the CUDA provider and it initialises (the GPU machine with
// the onnxruntime-gpu wheel); skipped with the reason elsewhere. Device memory
// comes from the CUDA runtime directly so this test does not depend on
// AegisRT's cuda layer.
#include <gmock/gmock.h>

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

#else

TEST_F(OnnxCuda, DeviceInputsAndOutputsAgreeWithHost) {
  GTEST_SKIP() << "this test binary was built without the CUDA runtime (CUDAToolkit not found)";
}

#endif

}  // namespace
}  // namespace aegisrt::testing::ort
