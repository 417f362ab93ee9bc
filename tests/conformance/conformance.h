// The one backend conformance suite. A backend joins it by providing a
// BackendUnderTest and instantiating the parameterised suite:
//
//   INSTANTIATE_TEST_SUITE_P(Onnx, BackendConformance,
//                            ::testing::Values(make_onnx_case()),
//                            aegisrt::testing::case_name);
//
// The artefact must compute a function the test can check independently
// (`reference`), e.g. y = 2x + 1 on a float32 [N,4] input. Features a backend
// lacks are listed in `unsupported` with the reason; those cases are skipped
// with that reason, never passed silently.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aegisrt/backend/runtime_backend.h"

namespace aegisrt::testing {

struct BackendUnderTest {
  std::string label;  // gtest-safe name: letters, digits, underscore
  std::function<std::unique_ptr<RuntimeBackend>()> make_backend;
  /// Options that load a valid artefact.
  std::function<LoadOptions()> valid_options;
  /// A fresh set of host inputs (contiguous, spec order), seeded per call index.
  std::function<std::vector<Tensor>(int seed)> make_inputs;
  /// Independent expected outputs for the given inputs (spec order).
  std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs)> reference;
  double atol = 1e-5;
  double rtol = 1e-5;
  /// Case name -> reason it does not apply ("device_inputs", "foreign_file", ...).
  std::map<std::string, std::string> unsupported;
  /// Non-empty: the whole backend is skipped here (e.g. "no CUDA device").
  std::string skip_reason;
};

/// gtest prints the label instead of the object's bytes.
inline void PrintTo(const BackendUnderTest& c, std::ostream* os) { *os << c.label; }

/// For INSTANTIATE_TEST_SUITE_P's name generator.
std::string case_name(const ::testing::TestParamInfo<BackendUnderTest>& info);

/// Element-wise comparison of two host tensors (any numeric dtype, compared
/// as double). Returns an empty string when equal within tolerance, else a
/// description of the worst element.
std::string compare_tensors(const Tensor& actual, const Tensor& expected, double atol, double rtol);

class BackendConformance : public ::testing::TestWithParam<BackendUnderTest> {
 protected:
  void SetUp() override;
  void TearDown() override;
  /// Writes `bytes` to a fresh file in a per-test temp dir and returns its path.
  std::filesystem::path write_temp_file(const std::string& name, const std::string& bytes);
  void skip_if_unsupported(const std::string& feature);

  std::unique_ptr<RuntimeBackend> backend_;
  std::filesystem::path temp_dir_;
};

}  // namespace aegisrt::testing
