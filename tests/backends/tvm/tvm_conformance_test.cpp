// The conformance suite for TVM: CPU from an .onnx (built through the cache),
// CPU from the built library, and CUDA (skipped unless a GPU is present).
#include "backends/tvm/tvm_test_util.h"
#include "conformance/dtype_conformance.h"
#include "conformance/mock_case.h"

namespace aegisrt::testing {
namespace {

BackendUnderTest tvm_affine_case(std::string label, Device device, bool from_library) {
  BackendUnderTest c;
  c.label = std::move(label);
  c.make_backend = [] { return make_tvm_backend(); };
  c.valid_options = [device, from_library] {
    LoadOptions o;
    o.device = device;
    o.cache_dir = tvm_test_cache();
    o.artifact_path = test_model("affine");
    if (from_library) {
      TvmBuildOptions b;
      b.model = o.artifact_path;
      b.cache_dir = o.cache_dir;
      b.device = device;
      auto built = build_tvm_library(b);
      if (built.ok()) o.artifact_path = built->artifact_path;
      else ADD_FAILURE() << "building affine for TVM: " << built.error();
    }
    return o;
  };
  // The affine model has a symbolic batch (x: float32 [N,4]); Relax keeps N
  // symbolic, so every batch size in mock_inputs (1..4) runs on one library.
  c.make_inputs = mock_inputs;
  c.reference = affine_reference;
  // 2x+1 in float32 is exact for these inputs up to one rounding.
  c.atol = 1e-6;
  c.rtol = 1e-6;
  if (device.kind == DeviceKind::CUDA) c.skip_reason = cuda_skip_reason();
  return c;
}

INSTANTIATE_TEST_SUITE_P(Tvm, BackendConformance,
                         ::testing::Values(tvm_affine_case("TvmCpuOnnx", Device::cpu(), false),
                                           tvm_affine_case("TvmCpuLibrary", Device::cpu(), true),
                                           tvm_affine_case("TvmCuda", Device::cuda(0), false)),
                         case_name);

DTypeBackend tvm_cpu_dtypes() {
  DTypeBackend b;
  b.label = "TvmCpu";
  b.make_backend = [] { return make_tvm_backend(); };
  b.options_for = [](const std::filesystem::path& model) {
    LoadOptions o;
    o.device = Device::cpu();
    o.cache_dir = tvm_test_cache();
    o.artifact_path = model;
    return o;
  };
  b.models_dir = test_model("affine").parent_path();
  return b;
}

INSTANTIATE_TEST_SUITE_P(Tvm, DTypeConformance,
                         ::testing::Combine(::testing::Values(tvm_cpu_dtypes()), ::testing::ValuesIn(kAllDTypes)),
                         dtype_case_name);
// The same special models through TVM's CUDA target (issue 11: '/' in tensor
// names broke the generated kernel's parameters there). Skipped without a GPU.
DTypeBackend tvm_cuda_models() {
  DTypeBackend b = tvm_cpu_dtypes();
  b.label = "TvmCuda";
  b.options_for = [](const std::filesystem::path& model) {
    LoadOptions o;
    o.device = Device::cuda(0);
    o.cache_dir = tvm_test_cache();
    o.artifact_path = model;
    return o;
  };
  b.skip_reason = cuda_skip_reason();
  return b;
}

INSTANTIATE_TEST_SUITE_P(Tvm, OnnxModelConformance, ::testing::Values(tvm_cpu_dtypes(), tvm_cuda_models()),
                         model_case_name);

}  // namespace
}  // namespace aegisrt::testing
