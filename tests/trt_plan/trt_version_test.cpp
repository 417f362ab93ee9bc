// TensorRT version parsing and per-version features (no TensorRT needed).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "aegisrt/trt_plan/trt_version.h"

namespace aegisrt::trt {
namespace {

TEST(TrtVersion, ParsesDottedVersions) {
  auto v = parse_trt_version("10.16.0.72");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value(), (TrtVersion{10, 16, 0, 72}));
  EXPECT_EQ(parse_trt_version("v11.1").value(), (TrtVersion{11, 1, 0, 0}));
  EXPECT_EQ(parse_trt_version(" 8.6.1 ").value(), (TrtVersion{8, 6, 1, 0}));
  EXPECT_EQ(parse_trt_version("10.16.0.72").value().to_string(), "10.16.0.72");
  EXPECT_EQ(parse_trt_version("11.1").value().to_string(), "11.1.0");
}

TEST(TrtVersion, RejectsMalformedText) {
  for (const char* bad : {"", "10", "10.", "10.x", "a.b", "10.16.0.72.1", "10..1", "-1.2", "10.16rc"}) {
    auto v = parse_trt_version(bad);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(v.error().message().find(std::string("'") + bad + "'"), std::string::npos);
  }
}

TEST(TrtVersion, OrdersNumerically) {
  EXPECT_LT((TrtVersion{8, 6, 1, 0}), (TrtVersion{10, 0, 0, 0}));
  EXPECT_LT((TrtVersion{10, 9, 0, 0}), (TrtVersion{10, 16, 0, 0}));  // not lexicographic
  EXPECT_GE((TrtVersion{8, 6, 0, 0}), kMinimumTrtVersion);
  EXPECT_LT((TrtVersion{8, 5, 3, 1}), kMinimumTrtVersion);
}

// The exact #define layouts of NvInferVersion.h in 10.x/11.x and in 8.x.
constexpr const char* kHeader10 = R"(
#ifndef NV_INFER_VERSION_H
#define NV_INFER_VERSION_H
#define TRT_MAJOR_ENTERPRISE 10
#define TRT_MINOR_ENTERPRISE 16
#define TRT_PATCH_ENTERPRISE 0
#define TRT_BUILD_ENTERPRISE 72
#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE //!< TensorRT major version.
#define NV_TENSORRT_MINOR TRT_MINOR_ENTERPRISE //!< TensorRT minor version.
#define NV_TENSORRT_PATCH TRT_PATCH_ENTERPRISE //!< TensorRT patch version.
#define NV_TENSORRT_BUILD TRT_BUILD_ENTERPRISE //!< TensorRT build number.
#define NV_TENSORRT_LWS_MAJOR 0 //!< TensorRT LWS major version.
#endif
)";
constexpr const char* kHeader8 = R"(
#define NV_TENSORRT_MAJOR 8 //!< TensorRT major version.
#define NV_TENSORRT_MINOR 6 //!< TensorRT minor version.
#define NV_TENSORRT_PATCH 1 //!< TensorRT patch version.
#define NV_TENSORRT_BUILD 5 //!< TensorRT build number.
)";

TEST(TrtVersion, ReadsBothHeaderLayouts) {
  EXPECT_EQ(parse_version_header(kHeader10).value(), (TrtVersion{10, 16, 0, 72}));
  EXPECT_EQ(parse_version_header(kHeader8).value(), (TrtVersion{8, 6, 1, 5}));
  auto none = parse_version_header("#define SOMETHING 1\n", "x/NvInferVersion.h");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), ErrorCode::Corrupt);
  EXPECT_NE(none.error().message().find("x/NvInferVersion.h"), std::string::npos);
}

// When NVIDIA's headers were fetched (scripts/fetch_tensorrt_headers.sh), the
// real files must parse to their tag's version.
TEST(TrtVersion, ReadsRealHeadersWhenPresent) {
  const std::filesystem::path base = std::filesystem::path(AEGISRT_SOURCE_DIR) / "third_party/tensorrt-headers";
  const std::pair<const char*, TrtVersion> tags[] = {{"v10.16", {10, 16, 0, 0}}, {"v11.1", {11, 1, 0, 0}}};
  int seen = 0;
  for (const auto& [tag, want] : tags) {
    const auto file = base / tag / "include/NvInferVersion.h";
    if (!std::filesystem::exists(file)) continue;
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    auto v = parse_version_header(ss.str());
    ASSERT_TRUE(v.ok()) << v.error();
    EXPECT_EQ(v.value().major, want.major);
    EXPECT_EQ(v.value().minor, want.minor);
    ++seen;
  }
  if (seen == 0) GTEST_SKIP() << "TensorRT headers not fetched into " << base;
}

TEST(TrtVersion, DecodesLibraryVersionIntegers) {
  EXPECT_EQ(decode_lib_version(8601).value(), (TrtVersion{8, 6, 1, 0}));    // 8.x: M*1000+m*100+p
  EXPECT_EQ(decode_lib_version(101600).value(), (TrtVersion{10, 16, 0, 0}));  // 10+: M*10000+m*100+p
  EXPECT_EQ(decode_lib_version(110100).value(), (TrtVersion{11, 1, 0, 0}));
  EXPECT_EQ(decode_lib_version(100003).value(), (TrtVersion{10, 0, 3, 0}));
  EXPECT_FALSE(decode_lib_version(0).ok());
  EXPECT_FALSE(decode_lib_version(-5).ok());
}

TEST(TrtVersion, EngineCompatibilityNeedsSameReleaseAndBuild) {
  EXPECT_TRUE(engine_version_compatible({10, 16, 0, 72}, {10, 16, 0, 72}));
  EXPECT_TRUE(engine_version_compatible({10, 16, 0, 0}, {10, 16, 0, 72}));  // build unknown on one side
  EXPECT_FALSE(engine_version_compatible({10, 16, 0, 72}, {10, 16, 0, 71}));
  EXPECT_FALSE(engine_version_compatible({10, 16, 0, 0}, {10, 16, 1, 0}));
  EXPECT_FALSE(engine_version_compatible({10, 16, 0, 0}, {11, 1, 0, 0}));
}

TEST(TrtVersion, FeaturesPerVersion) {
  const auto v86 = features_of({8, 6, 1, 0});
  EXPECT_TRUE(v86.supported);
  EXPECT_TRUE(v86.explicit_batch_flag);
  EXPECT_TRUE(v86.precision_builder_flags);
  EXPECT_FALSE(v86.strongly_typed_flag);
  EXPECT_FALSE(v86.device_memory_v2);
  const auto v10 = features_of({10, 16, 0, 0});
  EXPECT_FALSE(v10.explicit_batch_flag);
  EXPECT_TRUE(v10.precision_builder_flags);
  EXPECT_TRUE(v10.int8_calibrator);
  EXPECT_TRUE(v10.strongly_typed_flag);
  EXPECT_TRUE(v10.device_memory_v2);
  const auto v11 = features_of({11, 1, 0, 0});
  EXPECT_FALSE(v11.precision_builder_flags);
  EXPECT_FALSE(v11.int8_calibrator);
  EXPECT_TRUE(v11.always_strongly_typed);
  EXPECT_FALSE(features_of({8, 5, 3, 1}).supported);
}

}  // namespace
}  // namespace aegisrt::trt
