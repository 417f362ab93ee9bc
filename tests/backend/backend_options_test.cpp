// The shared backend_options reader: one message shape naming the backend,
// the option and what is allowed.
#include "aegisrt/backend/backend_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aegisrt {
namespace {

using ::testing::HasSubstr;

TEST(BackendOptionReader, UnknownKeyNamesBackendKeyAndKnownKeys) {
  const BackendOptionReader r("tvm", "arch, memory");
  const Error e = r.unknown("mem");
  EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(e.message(), "unknown backend option 'mem' for backend 'tvm'; known: arch, memory");
}

TEST(BackendOptionReader, BadValueNamesBackendKeyValueAndAllowed) {
  const BackendOptionReader r("openvino", "cache");
  const Error e = r.bad_value("cache", "maybe", "on, off");
  EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(e.message(), "backend option 'cache' of backend 'openvino' has value 'maybe'; allowed: on, off");
}

TEST(BackendOptionReader, IntegerAcceptsRangeAndRejectsTheRest) {
  const BackendOptionReader r("onnx", "threads");
  auto ok = r.integer("threads", "12", 0, 16, "0..16");
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(*ok, 12);
  EXPECT_EQ(*r.integer("threads", "0", 0, 16, "0..16"), 0);
  EXPECT_EQ(*r.integer("threads", "16", 0, 16, "0..16"), 16);
  for (const char* bad : {"", "17", "-1", "1x", "x", " 1", "99999999999999999999"}) {
    auto e = r.integer("threads", bad, 0, 16, "0..16");
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.error().code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(e.error().message(),
              std::string("backend option 'threads' of backend 'onnx' has value '") + bad + "'; allowed: 0..16");
  }
}

TEST(BackendOptionReader, OneOfListsTheAllowedValues) {
  const BackendOptionReader r("tvm", "memory");
  auto ok = r.one_of("memory", "naive", {"pooled", "naive"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "naive");
  auto bad = r.one_of("memory", "Pooled", {"pooled", "naive"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message(), HasSubstr("'Pooled'"));
  EXPECT_THAT(bad.error().message(), HasSubstr("allowed: pooled, naive"));
  EXPECT_THAT(bad.error().message(), HasSubstr("backend 'tvm'"));
}

TEST(BackendOptionReader, NonEmpty) {
  const BackendOptionReader r("onnx", "optimized_model_path");
  EXPECT_EQ(*r.non_empty("optimized_model_path", "/x", "a file path"), "/x");
  auto bad = r.non_empty("optimized_model_path", "", "a file path");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message(), HasSubstr("allowed: a file path"));
}

}  // namespace
}  // namespace aegisrt
