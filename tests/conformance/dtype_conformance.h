// Element-type conformance: one case per AegisRT DType per backend. The model
// dtype_<name>.onnx (tests/data/gen_onnx_models.py: Add / Concat / Identity /
// Cast per type) runs on the numpy-written inputs and must give the numpy
// reference outputs exactly. A dtype the backend declares in capabilities()
// must pass; one it does not declare must be refused at load with
// Unsupported naming the tensor and the type (never a crash or a wrong
// result). Plus special models every ONNX backend must run: no inputs,
// '/' in tensor names, fully declared Shape/Slice/Unsqueeze outputs.
//
//   INSTANTIATE_TEST_SUITE_P(Onnx, DTypeConformance,
//       ::testing::Combine(::testing::Values(backend), ::testing::ValuesIn(kAllDTypes)),
//       dtype_case_name);
//   INSTANTIATE_TEST_SUITE_P(Onnx, OnnxModelConformance, ::testing::Values(backend),
//       model_case_name);
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <tuple>

#include "aegisrt/backend/runtime_backend.h"

namespace aegisrt::testing {

struct DTypeBackend {
  std::string label;  // gtest-safe
  std::function<std::unique_ptr<RuntimeBackend>()> make_backend;
  /// LoadOptions for an .onnx model file.
  std::function<LoadOptions(const std::filesystem::path& model)> options_for;
  /// Where gen_onnx_models.py wrote the models and their .npy references.
  std::filesystem::path models_dir;
  /// Non-empty: skipped here with this reason.
  std::string skip_reason;
};

inline void PrintTo(const DTypeBackend& b, std::ostream* os) { *os << b.label; }

using DTypeParam = std::tuple<DTypeBackend, DType>;

std::string dtype_case_name(const ::testing::TestParamInfo<DTypeParam>& info);
std::string model_case_name(const ::testing::TestParamInfo<DTypeBackend>& info);

class DTypeConformance : public ::testing::TestWithParam<DTypeParam> {};
class OnnxModelConformance : public ::testing::TestWithParam<DTypeBackend> {};

}  // namespace aegisrt::testing
