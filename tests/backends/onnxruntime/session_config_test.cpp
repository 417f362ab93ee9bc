// Backend options -> the CUDA execution provider's options (private helpers of
// src/backends/onnxruntime, tested directly; no GPU or CUDA provider needed).
// float32 must mean float32: TF32 is off unless backend option tf32=1 asks for it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "backends/onnxruntime/session_config.h"

namespace aegisrt::ort {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

LoadOptions cuda_load(std::map<std::string, std::string> backend_options) {
  LoadOptions o;
  o.artifact_path = "m.onnx";
  o.device = Device::cuda(1);
  o.backend_options = std::move(backend_options);
  return o;
}

TEST(OrtSessionConfig, CudaFp32TurnsTf32Off) {
  auto c = parse_session_config(cuda_load({}));
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->provider, Provider::Cuda);
  EXPECT_FALSE(c->tf32);
  EXPECT_THAT(cuda_provider_options(*c), ElementsAre(Pair("device_id", "1"), Pair("use_tf32", "0")));
}

TEST(OrtSessionConfig, Tf32IsAnExplicitOption) {
  auto c = parse_session_config(cuda_load({{"tf32", "1"}, {"cuda_cudnn_conv_algo_search", "DEFAULT"}}));
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(c->tf32);
  EXPECT_THAT(cuda_provider_options(*c),
              ElementsAre(Pair("device_id", "1"), Pair("use_tf32", "1"),
                          Pair("cudnn_conv_algo_search", "DEFAULT")));
  auto off = parse_session_config(cuda_load({{"tf32", "0"}}));
  ASSERT_TRUE(off.ok()) << off.error();
  EXPECT_THAT(cuda_provider_options(*off), ::testing::Contains(Pair("use_tf32", "0")));
}

TEST(OrtSessionConfig, TensorRtProviderCudaFallbackAlsoGetsTf32Off) {
  auto c = parse_session_config(cuda_load({{"provider", "tensorrt"}}));
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_THAT(cuda_provider_options(*c), ::testing::Contains(Pair("use_tf32", "0")));
}

TEST(OrtSessionConfig, BadTf32ValuesAndPlacesAreRefusedByName) {
  auto bad = parse_session_config(cuda_load({{"tf32", "yes"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
  EXPECT_THAT(bad.error().message(), HasSubstr("'tf32'"));
  EXPECT_THAT(bad.error().message(), HasSubstr("'yes'"));

  LoadOptions cpu;
  cpu.artifact_path = "m.onnx";
  cpu.backend_options = {{"tf32", "1"}};
  auto on_cpu = parse_session_config(cpu);
  ASSERT_FALSE(on_cpu.ok());
  EXPECT_EQ(on_cpu.error().code(), ErrorCode::InvalidArgument);
  EXPECT_THAT(on_cpu.error().message(), HasSubstr("'tf32' applies to providers cuda/tensorrt only"));

  auto raw = parse_session_config(cuda_load({{"cuda_use_tf32", "1"}}));
  ASSERT_FALSE(raw.ok());
  EXPECT_EQ(raw.error().code(), ErrorCode::InvalidArgument);
  EXPECT_THAT(raw.error().message(), HasSubstr("'tf32'"));
}

TEST(OrtSessionConfig, UnknownKeyListsTf32) {
  auto c = parse_session_config(cuda_load({{"tf_32", "1"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.error().message(), HasSubstr("tf32"));
}

// Backend option cuda_graph (issue 16): the CUDA provider's enable_cuda_graph.
TEST(OrtSessionConfig, CudaGraphSetsTheProviderOption) {
  auto c = parse_session_config(cuda_load({{"cuda_graph", "1"}}));
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->provider, Provider::Cuda);
  EXPECT_TRUE(c->cuda_graph);
  EXPECT_TRUE(c->cuda_options.empty());  // not passed through as a raw cuda_<option>
  EXPECT_THAT(cuda_provider_options(*c), ElementsAre(Pair("device_id", "1"), Pair("use_tf32", "0"),
                                                     Pair("enable_cuda_graph", "1")));
  auto off = parse_session_config(cuda_load({{"cuda_graph", "0"}}));
  ASSERT_TRUE(off.ok()) << off.error();
  EXPECT_FALSE(off->cuda_graph);
  EXPECT_THAT(cuda_provider_options(*off), ElementsAre(Pair("device_id", "1"), Pair("use_tf32", "0")));
  auto none = parse_session_config(cuda_load({}));
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_FALSE(none->cuda_graph);
}

TEST(OrtSessionConfig, CudaGraphBadValuesAreRefusedByName) {
  for (const char* v : {"yes", "true", "2", ""}) {
    SCOPED_TRACE(v);
    auto bad = parse_session_config(cuda_load({{"cuda_graph", v}}));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
    EXPECT_THAT(bad.error().message(), HasSubstr("'cuda_graph'"));
  }
}

TEST(OrtSessionConfig, CudaGraphIsRefusedForOtherProviders) {
  for (const char* provider : {"cpu", "tensorrt", "openvino"}) {
    SCOPED_TRACE(provider);
    LoadOptions o;
    o.artifact_path = "m.onnx";
    o.device = std::string(provider) == "tensorrt" ? Device::cuda(0) : Device::cpu();
    o.backend_options = {{"provider", provider}, {"cuda_graph", "1"}};
    auto c = parse_session_config(o);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code(), ErrorCode::InvalidArgument);
    EXPECT_THAT(c.error().message(), HasSubstr("'cuda_graph' applies to provider cuda only"));
    EXPECT_THAT(c.error().message(), HasSubstr(std::string("'") + provider + "'"));
  }
  // No provider and a CPU device: the CPU provider, refused too.
  LoadOptions cpu;
  cpu.artifact_path = "m.onnx";
  cpu.backend_options = {{"cuda_graph", "1"}};
  auto c = parse_session_config(cpu);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.error().message(), HasSubstr("'cuda_graph'"));
}

TEST(OrtSessionConfig, RawEnableCudaGraphPointsToCudaGraph) {
  auto raw = parse_session_config(cuda_load({{"cuda_enable_cuda_graph", "1"}}));
  ASSERT_FALSE(raw.ok());
  EXPECT_EQ(raw.error().code(), ErrorCode::InvalidArgument);
  EXPECT_THAT(raw.error().message(), HasSubstr("'cuda_enable_cuda_graph'"));
  EXPECT_THAT(raw.error().message(), HasSubstr("'cuda_graph'"));
}

TEST(OrtSessionConfig, UnknownKeyListsCudaGraph) {
  auto c = parse_session_config(cuda_load({{"cudagraph", "1"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::InvalidArgument);
  EXPECT_THAT(c.error().message(), HasSubstr("cuda_graph"));
}

}  // namespace
}  // namespace aegisrt::ort
