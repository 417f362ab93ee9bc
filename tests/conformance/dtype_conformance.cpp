// The element-type conformance cases (see dtype_conformance.h). References are
// numpy's (written by tests/data/gen_onnx_models.py), read with src/io.
#include "conformance/dtype_conformance.h"

#include <algorithm>

#include "aegisrt/io/compare.h"
#include "aegisrt/io/npy.h"

namespace aegisrt::testing {
namespace {

/// <stem>.<kind>_<k>.npy for k = 0, 1, ... until one is missing.
std::vector<Tensor> read_series(const std::filesystem::path& dir, const std::string& stem,
                                const std::string& kind) {
  std::vector<Tensor> out;
  for (int k = 0;; ++k) {
    const auto p = dir / (stem + "." + kind + "_" + std::to_string(k) + ".npy");
    if (!std::filesystem::exists(p)) break;
    auto t = io::read_npy(p);
    if (!t.ok()) {
      ADD_FAILURE() << t.error();
      break;
    }
    out.push_back(std::move(*t));
  }
  return out;
}

/// Runs `stem`.onnx on its saved inputs (bound by the backend's input names)
/// and checks every output against the numpy reference.
void run_against_reference(RuntimeBackend& backend, const DTypeBackend& b, const std::string& stem,
                           double tol) {
  auto loaded = backend.load(b.options_for(b.models_dir / (stem + ".onnx")));
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  auto inputs = read_series(b.models_dir, stem, "input");
  auto expected = read_series(b.models_dir, stem, "output");
  ASSERT_FALSE(expected.empty()) << "no reference outputs for " << stem << " in " << b.models_dir;
  const auto specs = backend.input_specs();
  ASSERT_EQ(specs.size(), inputs.size()) << stem;
  ExecutionRequest req;
  for (std::size_t i = 0; i < specs.size(); ++i) req.inputs.push_back({specs[i].name, inputs[i].view()});
  auto r = backend.execute(req);
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->outputs.size(), expected.size());
  const auto out_specs = backend.output_specs();
  io::Tolerance t;
  t.atol = tol;
  t.rtol = tol;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& got = r->outputs[i];
    EXPECT_EQ(got.name(), out_specs[i].name);
    EXPECT_EQ(got.dtype(), expected[i].dtype()) << stem << " output " << got.name();
    auto c = io::compare_tensors(got.name(), expected[i], got, t);
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_TRUE(c->passed) << stem << " output '" << got.name() << "': " << c->note << " " << c->mismatches
                           << " of " << c->elements << " differ, max abs error " << c->max_abs_error;
  }
}

}  // namespace

// The suite is linked into every test binary of the conformance library; only
// the ONNX backends' binaries instantiate these two.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DTypeConformance);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(OnnxModelConformance);

std::string dtype_case_name(const ::testing::TestParamInfo<DTypeParam>& info) {
  return std::get<0>(info.param).label + "_" + std::string(dtype_name(std::get<1>(info.param)));
}

std::string model_case_name(const ::testing::TestParamInfo<DTypeBackend>& info) { return info.param.label; }

TEST_P(DTypeConformance, DeclaredTypesMatchNumpyOthersAreRefused) {
  const auto& [b, dtype] = GetParam();
  if (!b.skip_reason.empty()) GTEST_SKIP() << b.skip_reason;
  const std::string name(dtype_name(dtype));
  const std::string stem = "dtype_" + name;
  const auto model = b.models_dir / (stem + ".onnx");
  ASSERT_TRUE(std::filesystem::exists(model)) << model << " missing: every DType needs a case (gen_onnx_models.py)";
  auto backend = b.make_backend();
  const auto caps = backend->capabilities();
  const bool declared = std::find(caps.dtypes.begin(), caps.dtypes.end(), dtype) != caps.dtypes.end();
  if (declared) {
    run_against_reference(*backend, b, stem, 0.0);  // exact: the inputs make every result representable
    return;
  }
  // Not declared: a clean refusal at load naming the tensor and the type.
  auto r = backend->load(b.options_for(model));
  ASSERT_FALSE(r.ok()) << b.label << " loaded a " << name << " model it does not declare";
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << r.error();
  EXPECT_NE(r.error().message().find("'x'"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find(name), std::string::npos) << r.error();
}

TEST_P(OnnxModelConformance, ModelWithNoInputs) {
  const auto& b = GetParam();
  if (!b.skip_reason.empty()) GTEST_SKIP() << b.skip_reason;
  auto backend = b.make_backend();
  // no_input.onnx computes a float64 constant (gen_onnx_models.py): a backend
  // that does not bind float64 reports so, and the case says why it skips.
  const auto caps = backend->capabilities();
  if (std::find(caps.dtypes.begin(), caps.dtypes.end(), DType::Float64) == caps.dtypes.end()) {
    GTEST_SKIP() << b.label << " does not bind float64, the output type of no_input.onnx";
  }
  run_against_reference(*backend, b, "no_input", 0.0);
  EXPECT_TRUE(backend->input_specs().empty());
}

TEST_P(OnnxModelConformance, SlashesInTensorNamesKeepTheirNames) {
  const auto& b = GetParam();
  if (!b.skip_reason.empty()) GTEST_SKIP() << b.skip_reason;
  auto backend = b.make_backend();
  run_against_reference(*backend, b, "slash_names", 1e-5);
  ASSERT_EQ(backend->input_specs().size(), 1u);
  EXPECT_EQ(backend->input_specs()[0].name, "gpu_0/data_0");
  ASSERT_EQ(backend->output_specs().size(), 1u);
  EXPECT_EQ(backend->output_specs()[0].name, "gpu_0/softmax_1");
}

TEST_P(OnnxModelConformance, NonTensorValueIsRefusedNamingItsKind) {
  const auto& b = GetParam();
  if (!b.skip_reason.empty()) GTEST_SKIP() << b.skip_reason;
  auto backend = b.make_backend();
  auto r = backend->load(b.options_for(b.models_dir / "sequence_output.onnx"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << r.error();
  EXPECT_NE(r.error().message().find("output 's'"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("sequence"), std::string::npos) << r.error();
}

TEST_P(OnnxModelConformance, DeclaredShapesOfShapeSliceUnsqueeze) {
  const auto& b = GetParam();
  if (!b.skip_reason.empty()) GTEST_SKIP() << b.skip_reason;
  auto backend = b.make_backend();
  run_against_reference(*backend, b, "shape_ops", 0.0);
  const auto outs = backend->output_specs();
  ASSERT_EQ(outs.size(), 3u);
  EXPECT_EQ(outs[0].shape, (Shape{3}));
  EXPECT_EQ(outs[1].shape, (Shape{2, 3, 2}));
  EXPECT_EQ(outs[2].shape, (Shape{1, 2, 3, 4}));
}

}  // namespace aegisrt::testing
