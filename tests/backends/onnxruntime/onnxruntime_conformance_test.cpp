// The backend conformance suite for ONNX Runtime: CPU provider (always), and
// the CUDA provider, which runs only where the loaded ORT offers it and a
// CUDA device works (the GPU machine with the onnxruntime-gpu wheel);
// elsewhere it is skipped with the reason.
#include <unistd.h>

#include "backends/onnxruntime/ort_test_util.h"
#include "conformance/dtype_conformance.h"
#include "conformance/mock_case.h"  // mock_inputs(), affine_reference(): y = 2x + 1 in C++

namespace aegisrt::testing {
namespace {

BackendUnderTest make_ort_case(std::string label, std::map<std::string, std::string> backend_options,
                               Device device) {
  BackendUnderTest c;
  c.label = std::move(label);
  c.make_backend = [] { return make_onnxruntime_backend(); };
  c.valid_options = [backend_options, device] {
    auto o = ort::options_for("affine", backend_options);
    o.device = device;
    return o;
  };
  c.make_inputs = mock_inputs;          // float32 [1..4, 4], seeded
  c.reference = affine_reference;       // computed here, not by ORT
  c.atol = 1e-6;
  c.rtol = 1e-6;
  return c;
}

BackendUnderTest cpu_case() {
  return make_ort_case("OnnxCpu", {{"provider", "cpu"}, {"intra_op_threads", "1"}}, Device::cpu());
}

BackendUnderTest cuda_case() {
  auto c = make_ort_case("OnnxCuda", {{"provider", "cuda"}}, Device::cuda(0));
  if (!ort::has_provider("cuda")) {
    c.skip_reason = "ONNX Runtime " + onnxruntime_version() +
                    " has no CUDA execution provider (available: " + ort::providers_string() +
                    "); build against the onnxruntime-gpu wheel to run this case";
    return c;
  }
  // The provider is there; make sure it also initialises (CUDA/cuDNN libraries, a device).
  auto probe = make_onnxruntime_backend();
  auto r = probe->load(c.valid_options());
  if (!r.ok()) {
    c.skip_reason = "the CUDA execution provider does not initialise here: " + r.error().to_string();
  }
  return c;
}

INSTANTIATE_TEST_SUITE_P(Onnx, BackendConformance, ::testing::Values(cpu_case(), cuda_case()),
                         case_name);

DTypeBackend ort_cpu_dtypes() {
  DTypeBackend b;
  b.label = "OnnxCpu";
  b.make_backend = [] { return make_onnxruntime_backend(); };
  b.options_for = [](const std::filesystem::path& model) {
    LoadOptions o;
    o.artifact_path = model;
    o.backend_options = {{"provider", "cpu"}, {"intra_op_threads", "1"}};
    return o;
  };
  b.models_dir = ort::models_dir();
  return b;
}

INSTANTIATE_TEST_SUITE_P(Onnx, DTypeConformance,
                         ::testing::Combine(::testing::Values(ort_cpu_dtypes()), ::testing::ValuesIn(kAllDTypes)),
                         dtype_case_name);
INSTANTIATE_TEST_SUITE_P(Onnx, OnnxModelConformance, ::testing::Values(ort_cpu_dtypes()), model_case_name);

}  // namespace
}  // namespace aegisrt::testing
