// The conformance suite against MockBackend, plus mock-only checks of the
// behaviours the suite cannot provoke on a real backend (injected errors,
// exceptions thrown inside a backend).
#include <unistd.h>

#include "conformance/mock_case.h"

namespace aegisrt::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Mock, BackendConformance,
                         ::testing::Values(make_mock_case("Mock", [] {
                           return std::make_unique<MockBackend>();
                         }), make_mock_case("MockSerialised", [] {
                           MockConfig cfg;
                           cfg.thread_safe = false;  // base class must serialise
                           cfg.random_latency_max = std::chrono::microseconds(200);
                           return std::make_unique<MockBackend>(cfg);
                         })),
                         case_name);

class MockBehaviour : public ::testing::Test {
 protected:
  void SetUp() override {
    LoadOptions o;
    o.artifact_path = write_mock_artefact(std::filesystem::temp_directory_path() /
                                          ("aegisrt_mockb_" + std::to_string(::getpid())));
    ASSERT_TRUE(mock_.load(o).ok());
    inputs_ = mock_inputs(2);
    req_.inputs = {{"x", inputs_[0].view()}};
  }
  MockBackend mock_;
  std::vector<Tensor> inputs_;
  ExecutionRequest req_;
};

TEST_F(MockBehaviour, InjectedErrorOnNthCallSurfacesAsResult) {
  mock_.fail_on_call(3, ErrorCode::BackendError);
  EXPECT_TRUE(mock_.execute(req_).ok());
  EXPECT_TRUE(mock_.execute(req_).ok());
  auto r = mock_.execute(req_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::BackendError);
  EXPECT_TRUE(mock_.execute(req_).ok());
  EXPECT_EQ(mock_.execute_count(), 4u);
}

TEST_F(MockBehaviour, FailAlwaysUntilCleared) {
  mock_.fail_always(ErrorCode::Timeout);
  for (int i = 0; i < 3; ++i) {
    auto r = mock_.execute(req_);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::Timeout);
  }
  mock_.clear_failures();
  EXPECT_TRUE(mock_.execute(req_).ok());
}

TEST_F(MockBehaviour, ExceptionInsideBackendBecomesInternalError) {
  mock_.throw_on_execute(true);
  Result<ExecutionResult> r = Error(ErrorCode::Internal, "unset");
  EXPECT_NO_THROW(r = mock_.execute(req_));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Internal);
  EXPECT_NE(r.error().message().find("injected exception"), std::string::npos);
}

TEST_F(MockBehaviour, TracksCallsAndResets) {
  ASSERT_TRUE(mock_.execute(req_).ok());
  EXPECT_EQ(mock_.last_input_shape(), inputs_[0].shape());
  EXPECT_EQ(mock_.batch_history(), std::vector<std::int64_t>{inputs_[0].shape()[0]});
  mock_.reset();
  EXPECT_EQ(mock_.execute_count(), 0u);
  EXPECT_TRUE(mock_.batch_history().empty());
}

TEST_F(MockBehaviour, FixedLatencyIsMeasured) {
  MockConfig cfg;
  cfg.fixed_latency = std::chrono::milliseconds(5);
  MockBackend slow(cfg);
  LoadOptions o;
  o.artifact_path = write_mock_artefact(std::filesystem::temp_directory_path() /
                                        ("aegisrt_mockc_" + std::to_string(::getpid())));
  ASSERT_TRUE(slow.load(o).ok());
  auto r = slow.execute(req_);
  ASSERT_TRUE(r.ok());
  EXPECT_GE(r->latency, std::chrono::milliseconds(5));
}

}  // namespace
}  // namespace aegisrt::testing
