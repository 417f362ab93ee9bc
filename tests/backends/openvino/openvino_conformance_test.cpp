// The backend conformance suite for OpenVINO on the CPU device: with the
// compiled-model cache (a reload imports the exported blob) and without it.
// No case is skipped: the backend supports every feature the suite checks.
#include "backends/openvino/ov_test_util.h"
#include "conformance/dtype_conformance.h"
#include "conformance/mock_case.h"  // mock_inputs(), affine_reference(): y = 2x + 1 in C++

namespace aegisrt::testing {
namespace {

BackendUnderTest ov_affine_case(std::string label, std::map<std::string, std::string> backend_options) {
  BackendUnderTest c;
  c.label = std::move(label);
  c.make_backend = [] { return make_openvino_backend(); };
  c.valid_options = [backend_options] {
    return openvino::options_for(openvino::shared_model("affine"), backend_options);
  };
  // affine: x float32 [N,4] with a symbolic batch; OpenVINO keeps N dynamic,
  // so every batch size of mock_inputs (1..4) runs on one compiled model.
  c.make_inputs = mock_inputs;
  c.reference = affine_reference;
  c.atol = 1e-6;
  c.rtol = 1e-6;
  return c;
}

INSTANTIATE_TEST_SUITE_P(OpenVino, BackendConformance,
                         ::testing::Values(ov_affine_case("OpenVinoCpuCached", {}),
                                           ov_affine_case("OpenVinoCpuUncached", {{"cache", "off"}}),
                                           ov_affine_case("OpenVinoCpuOneThread", {{"num_threads", "1"}})),
                         case_name);

// Element types: the declared ones must match numpy exactly, the others must be
// refused at load naming the tensor and the type. Plus no-input, '/'-named,
// Shape/Slice/Unsqueeze and sequence-output models.
DTypeBackend ov_cpu_dtypes() {
  DTypeBackend b;
  b.label = "OpenVinoCpu";
  b.make_backend = [] { return make_openvino_backend(); };
  b.options_for = [](const std::filesystem::path& model) {
    return openvino::options_for(model, {{"cache", "off"}});
  };
  b.models_dir = std::filesystem::path(AEGISRT_TEST_DATA_DIR) / "models";
  return b;
}

INSTANTIATE_TEST_SUITE_P(OpenVino, DTypeConformance,
                         ::testing::Combine(::testing::Values(ov_cpu_dtypes()), ::testing::ValuesIn(kAllDTypes)),
                         dtype_case_name);
INSTANTIATE_TEST_SUITE_P(OpenVino, OnnxModelConformance, ::testing::Values(ov_cpu_dtypes()), model_case_name);

}  // namespace
}  // namespace aegisrt::testing
