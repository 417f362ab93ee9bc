// The ONNX inspector against models written by gen_trt_models.py (and run
// through our conversion tools), and against malformed bytes.
#include <gtest/gtest.h>
#include "aegisrt/core/file_util.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "aegisrt/onnx/onnx_summary.h"
#include "common/temp_dir.h"

namespace aegisrt::onnx {
namespace {

const std::filesystem::path kModels = std::filesystem::path(AEGISRT_TEST_DATA_DIR) / "tensorrt";

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

TEST(OnnxSummary, Float32ConvModel) {
  auto s = summarize_onnx_file(kModels / "conv.onnx");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->ir_version, 8);
  EXPECT_EQ(s->opsets.at(""), 17);
  EXPECT_EQ(s->producer_name, "aegisrt-tests");
  EXPECT_EQ(s->node_count, 3u);
  EXPECT_EQ(s->fp32_initializers, 4u);
  EXPECT_EQ(s->fp16_initializers, 0u);
  EXPECT_EQ(s->qdq_node_count, 0u);
  ASSERT_EQ(s->inputs.size(), 1u);
  EXPECT_EQ(s->inputs[0], (TensorDesc{"images", {kDynamicDim, 3, kDynamicDim, kDynamicDim}, DType::Float32}));
  ASSERT_EQ(s->outputs.size(), 1u);
  EXPECT_EQ(s->outputs[0], (TensorDesc{"out", {kDynamicDim, 2, kDynamicDim, kDynamicDim}, DType::Float32}));
  EXPECT_EQ(s->kind(), OnnxModelKind::Float32);
}

TEST(OnnxSummary, StaticModelHasStaticDims) {
  auto s = summarize_onnx_file(kModels / "conv_static.onnx");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->inputs[0].shape, (Shape{1, 3, 32, 32}));
}

TEST(OnnxSummary, Fp16ModelFromConverterIsFloat16WithFloat32Io) {
  auto s = summarize_onnx_file(kModels / "conv_fp16.onnx");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->kind(), OnnxModelKind::Float16);
  EXPECT_EQ(s->fp16_initializers, 4u);
  EXPECT_EQ(s->cast_to_fp16_count, 1u);  // the input boundary cast
  EXPECT_EQ(s->metadata.at(std::string(kOnnxPrecisionMetadataKey)), "float16");
  EXPECT_EQ(s->inputs[0].dtype, DType::Float32);
  EXPECT_EQ(s->outputs[0].dtype, DType::Float32);
}

TEST(OnnxSummary, QdqModelFromQuantiserIsQdq) {
  auto s = summarize_onnx_file(kModels / "conv_qdq.onnx");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->kind(), OnnxModelKind::QDQ);
  EXPECT_GE(s->qdq_node_count, 8u);  // activation + weight pairs for both convs
  EXPECT_EQ(s->inputs.size(), 1u);
}

TEST(OnnxSummary, KindFollowsMetadataWhenNoNodesSayOtherwise) {
  OnnxSummary s;
  s.fp32_initializers = 3;
  EXPECT_EQ(s.kind(), OnnxModelKind::Float32);
  s.metadata[std::string(kOnnxPrecisionMetadataKey)] = "float16";
  EXPECT_EQ(s.kind(), OnnxModelKind::Float16);
  s.qdq_node_count = 2;
  EXPECT_EQ(s.kind(), OnnxModelKind::QDQ);
}

TEST(OnnxSummary, MalformedBytesAreCorruptNotACrash) {
  const std::string cases[] = {
      std::string(),
      std::string("\x08", 1),                // ir_version tag without value
      std::string("\x08\x08\x3a\x7f", 4),    // graph length past the end
      std::string("\x08\x08", 2),            // no graph
      std::string("hello world, not onnx"),
      std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11),
  };
  for (const auto& c : cases) {
    auto s = summarize_onnx(bytes_of(c), "bad.onnx");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code(), ErrorCode::Corrupt);
    EXPECT_NE(s.error().message().find("bad.onnx"), std::string::npos);
    EXPECT_FALSE(looks_like_onnx(bytes_of(c)));
  }
}

TEST(OnnxSummary, TruncatedRealModelIsCorrupt) {
  std::string data = aegisrt::read_file(kModels / "conv.onnx", "model").value();
  ASSERT_GT(data.size(), 100u);
  EXPECT_TRUE(looks_like_onnx(bytes_of(data)));
  for (std::size_t cut : {data.size() / 2, data.size() - 1, std::size_t{10}}) {
    auto s = summarize_onnx(bytes_of(data.substr(0, cut)), "cut.onnx");
    EXPECT_FALSE(s.ok()) << cut;
  }
}

TEST(OnnxSummary, MissingFileIsNotFound) {
  auto s = summarize_onnx_file(kModels / "nope.onnx");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::NotFound);
}

// Issue 12 §3: the caches hash every file a model reads.
TEST(OnnxExternalData, LocationsOfTheGeneratedModel) {
  const auto models = std::filesystem::path(AEGISRT_TEST_DATA_DIR) / "models";
  auto files = onnx_external_data_files(models / "ext_matmul.onnx");
  ASSERT_TRUE(files.ok()) << files.error();
  EXPECT_EQ(*files, std::vector<std::filesystem::path>{models / "ext_matmul.weights"});
  auto none = onnx_external_data_files(models / "affine.onnx");
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_TRUE(none->empty());
}

// Hand-encoded ModelProto { graph { initializer { external_data { "location": loc } } } }.
std::string model_with_location(const std::string& loc) {
  std::string entry = std::string("\x0a\x08", 2) + "location" + "\x12" + static_cast<char>(loc.size()) + loc;
  std::string tensor = std::string("\x6a") + static_cast<char>(entry.size()) + entry;
  std::string graph = std::string("\x2a") + static_cast<char>(tensor.size()) + tensor;
  return std::string("\x3a") + static_cast<char>(graph.size()) + graph;
}

TEST(OnnxExternalData, HandEncodedLocationsAndRefusals) {
  const std::string bytes = model_with_location("w.bin");
  auto locs = onnx_external_data_locations(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())), "m");
  ASSERT_TRUE(locs.ok()) << locs.error();
  EXPECT_EQ(*locs, std::vector<std::string>{"w.bin"});

  const testing::TempDir temp("aegisrt_extdata_");
  const auto& dir = temp.path();
  for (const std::string bad : {"../outside.bin", "/etc/passwd"}) {
    std::ofstream(dir / "m.onnx", std::ios::binary | std::ios::trunc) << model_with_location(bad);
    auto r = onnx_external_data_files(dir / "m.onnx");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::Corrupt) << r.error();
    EXPECT_NE(r.error().message().find(bad), std::string::npos) << r.error();
  }
  std::ofstream(dir / "m.onnx", std::ios::binary | std::ios::trunc) << "\x3a\x7f";  // length past the end
  auto r = onnx_external_data_files(dir / "m.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Corrupt);
}

}  // namespace
}  // namespace aegisrt::onnx
