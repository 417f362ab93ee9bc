// The conformance suite run against deliberately broken mocks. This binary is
// expected to FAIL: CTest runs it per broken variant with WILL_FAIL, proving
// the suite catches each defect (a suite that cannot fail proves nothing).
#include <unistd.h>

#include <fstream>

#include "conformance/mock_case.h"

namespace aegisrt::testing {
namespace {

// Computes 2x + 2 instead of 2x + 1.
class WrongValuesMock : public MockBackend {
 public:
  WrongValuesMock() : MockBackend([] { MockConfig c; c.bias = 2.0f; return c; }()) {}
};

// Accepts any file as a model.
class AcceptsAnyFileMock : public MockBackend {
 protected:
  Result<void> do_load(const LoadOptions&) override { return {}; }
};

// Declares int32 outputs but returns float32.
class WrongOutputSpecMock : public MockBackend {
 protected:
  std::vector<TensorDesc> do_output_specs() const override {
    return {{"y", config_.input_shape, DType::Int32}};
  }
};

INSTANTIATE_TEST_SUITE_P(
    Broken, BackendConformance,
    ::testing::Values(
        make_mock_case("WrongValues", [] { return std::make_unique<WrongValuesMock>(); }),
        make_mock_case("AcceptsAnyFile", [] { return std::make_unique<AcceptsAnyFileMock>(); }),
        make_mock_case("WrongOutputSpec", [] { return std::make_unique<WrongOutputSpecMock>(); })),
    case_name);

}  // namespace
}  // namespace aegisrt::testing
