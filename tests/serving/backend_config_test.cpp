// Unit tests of the Triton backend's pure-C++ half (src/serving/triton/backend_config.h):
// model-config parameters -> PipelineOptions, and the BYTES wire format.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "serving/triton/backend_config.h"

namespace aegisrt::serving {
namespace {

std::string config_with(const std::string& params, int max_batch = 0) {
  return R"({"name":"det","backend":"aegisrt","max_batch_size":)" + std::to_string(max_batch) +
         R"(,"parameters":{)" + params + "}}";
}

std::string p(const std::string& k, const std::string& v) {
  return "\"" + k + R"(":{"string_value":")" + v + "\"}";
}

TEST(ServingBackendConfig, ParsesEveryParameter) {
  const auto cfg = parse_backend_config(config_with(
      p("model", "yolo") + "," + p("variant", "demo") + "," + p("backend", "tvm") + "," + p("precision", "fp16") +
      "," + p("cache_dir", "/c") + "," + p("models_dir", "/m") + "," + p("model_data", "/a::/b") + "," +
      p("threads", "2") + "," + p("conf", "0.5") + "," + p("iou", "0.25") + "," + p("max_det", "7") + "," +
      p("backend_option.provider", "cuda") + "," + p("device", "auto") + "," + p("onnx", "/g/x.onnx")));
  ASSERT_TRUE(cfg.ok()) << cfg.error();
  EXPECT_EQ(cfg->triton_model_name, "det");
  const auto& o = cfg->options;
  EXPECT_EQ(o.model, "yolo");
  EXPECT_EQ(o.variant, "demo");
  EXPECT_EQ(o.backend, "tvm");
  EXPECT_EQ(o.precision, "fp16");
  EXPECT_EQ(o.cache_dir, "/c");
  EXPECT_EQ(cfg->models_dir, "/m");
  ASSERT_EQ(o.model_data_dirs.size(), 2u);
  EXPECT_EQ(o.model_data_dirs[0], "/a");
  EXPECT_EQ(o.model_data_dirs[1], "/b");
  EXPECT_EQ(o.backend_options.at("intra_op_threads"), "2");
  EXPECT_EQ(o.backend_options.at("provider"), "cuda");
  ASSERT_TRUE(o.confidence_threshold.has_value());
  EXPECT_FLOAT_EQ(*o.confidence_threshold, 0.5f);
  EXPECT_FLOAT_EQ(*o.iou_threshold, 0.25f);
  EXPECT_EQ(*o.max_detections, 7);
  EXPECT_EQ(o.onnx, "/g/x.onnx");
}

TEST(ServingBackendConfig, DefaultsToOnnx) {
  const auto cfg = parse_backend_config(config_with(p("model", "yolo")));
  ASSERT_TRUE(cfg.ok()) << cfg.error();
  EXPECT_EQ(cfg->options.backend, "onnx");
  EXPECT_TRUE(cfg->options.variant.empty());
}

TEST(ServingBackendConfig, RefusesBadConfigsNamingTheParameter) {
  struct Case {
    std::string json;
    ErrorCode code;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {config_with(p("variant", "demo")), ErrorCode::InvalidArgument, "'model'"},
      {config_with(p("model", "yolo") + "," + p("colour", "red")), ErrorCode::InvalidArgument, "'colour'"},
      {config_with(p("model", "yolo") + "," + p("conf", "1.5")), ErrorCode::InvalidArgument, "'conf'"},
      {config_with(p("model", "yolo") + "," + p("threads", "two")), ErrorCode::InvalidArgument, "'threads'"},
      {config_with(p("model", "yolo") + "," + p("max_det", "0")), ErrorCode::InvalidArgument, "'max_det'"},
      {config_with(p("model", "yolo") + "," + p("device", "cuda:1")), ErrorCode::Unsupported, "'device'"},
      {config_with(p("model", "yolo"), -2), ErrorCode::InvalidArgument, "max_batch_size -2"},
      {config_with(R"("model":{"int_value":3})"), ErrorCode::InvalidArgument, "'model'"},
      {"{not json", ErrorCode::InvalidArgument, "not JSON"},
  };
  for (const auto& c : cases) {
    const auto cfg = parse_backend_config(c.json);
    ASSERT_FALSE(cfg.ok()) << c.json;
    EXPECT_EQ(cfg.error().code(), c.code) << c.json;
    EXPECT_NE(cfg.error().message().find(c.needle), std::string::npos) << cfg.error().message();
  }
}

TEST(ServingBackendConfig, TensorModeTakesTheModelFileAndBatching) {
  const auto cfg = parse_backend_config(
      config_with(p("mode", "tensor") + "," + p("onnx", "/m/x.onnx") + "," + p("backend", "tvm") + "," +
                      p("cache_dir", "/c"),
                  8));
  ASSERT_TRUE(cfg.ok()) << cfg.error();
  EXPECT_EQ(cfg->mode, ServingMode::Tensor);
  EXPECT_EQ(cfg->max_batch_size, 8);
  EXPECT_EQ(cfg->options.onnx, "/m/x.onnx");
  EXPECT_EQ(cfg->options.backend, "tvm");
  EXPECT_EQ(cfg->options.cache_dir, "/c");
  EXPECT_EQ(parse_backend_config(config_with(p("model", "yolo")))->mode, ServingMode::Pipeline);
}

// Pipeline mode batches too (Pipeline::run_batch); whether the model can take
// max_batch_size images per execute is checked at model load, not here.
TEST(ServingBackendConfig, PipelineModeTakesMaxBatchSize) {
  const auto cfg = parse_backend_config(config_with(p("model", "yolo"), 8));
  ASSERT_TRUE(cfg.ok()) << cfg.error();
  EXPECT_EQ(cfg->mode, ServingMode::Pipeline);
  EXPECT_EQ(cfg->max_batch_size, 8);
}

TEST(ServingBackendConfig, TensorModeRefusals) {
  struct Case {
    std::string json;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {config_with(p("mode", "tensor")), "'onnx'"},
      {config_with(p("mode", "tensor") + "," + p("onnx", "/x.onnx") + "," + p("model", "yolo")), "'model'"},
      {config_with(p("mode", "tensor") + "," + p("onnx", "/x.onnx") + "," + p("conf", "0.5")), "'conf'"},
      {config_with(p("mode", "tensors") + "," + p("onnx", "/x.onnx")), "'mode'"},
  };
  for (const auto& c : cases) {
    const auto cfg = parse_backend_config(c.json);
    ASSERT_FALSE(cfg.ok()) << c.json;
    EXPECT_EQ(cfg.error().code(), ErrorCode::InvalidArgument) << c.json;
    EXPECT_NE(cfg.error().message().find(c.needle), std::string::npos) << cfg.error().message();
  }
}

// serving/pipeline_tensors.h: the one table the backend serves by and `aegisrt serve`
// writes config.pbtxt from, against hand-written names and entries (docs/SERVING.md).
std::vector<std::string> output_entries(models::OutputLayout layout) {
  std::vector<std::string> out;
  for (const auto& t : pipeline_outputs(layout)) out.push_back(to_pbtxt_entry(t));
  return out;
}

TEST(ServingPipelineTensors, OutputsPerLayoutAsConfigEntries) {
  using L = models::OutputLayout;
  const std::string dets = R"({ name: "DETECTIONS" data_type: TYPE_FP32 dims: [ -1, 6 ] })";
  EXPECT_EQ(output_entries(L::YoloV8), std::vector<std::string>{dets});
  EXPECT_EQ(output_entries(L::YoloV8Seg),
            (std::vector<std::string>{dets, R"({ name: "MASKS" data_type: TYPE_UINT8 dims: [ -1, -1, -1 ] })"}));
  EXPECT_EQ(output_entries(L::YoloV8Pose),
            (std::vector<std::string>{dets, R"({ name: "KEYPOINTS" data_type: TYPE_FP32 dims: [ -1, -1, 3 ] })"}));
  EXPECT_EQ(output_entries(L::SimCC),
            std::vector<std::string>{R"({ name: "KEYPOINTS" data_type: TYPE_FP32 dims: [ 1, -1, 3 ] })"});
  const std::vector<std::string> depth = {R"({ name: "DEPTH" data_type: TYPE_FP32 dims: [ -1, -1 ] })",
                                          R"({ name: "DEPTH_COLOR" data_type: TYPE_UINT8 dims: [ -1, -1, 3 ] })"};
  EXPECT_EQ(output_entries(L::RelativeInverseDepth), depth);
  EXPECT_EQ(output_entries(L::MetricDepth), depth);
  for (const L unserved : {L::GroundingDino, L::SamMasks, L::Tracks, L::Seq2SeqTokens}) {
    EXPECT_TRUE(pipeline_outputs(unserved).empty()) << models::to_string(unserved);
  }
  EXPECT_EQ(to_pbtxt_entry(kResultJsonSpec), R"({ name: "RESULT_JSON" data_type: TYPE_STRING dims: [ 1 ] })");
  ASSERT_EQ(kPipelineInputs.size(), 2U);
  EXPECT_EQ(to_pbtxt_entry(kPipelineInputs[0]),
            R"({ name: "IMAGE" data_type: TYPE_STRING dims: [ 1 ] optional: true })");
  EXPECT_EQ(to_pbtxt_entry(kPipelineInputs[1]),
            R"({ name: "FRAME" data_type: TYPE_UINT8 dims: [ -1, -1, 3 ] optional: true })");
}

TEST(ServingDataTypes, TritonCodesAreTheDocumentedValues) {
  // TRITONSERVER_DataType, Triton's documented values (tritonserver.h API docs).
  const std::vector<std::pair<int, DType>> documented = {
      {1, DType::Bool},   {2, DType::UInt8},    {3, DType::UInt16},  {4, DType::UInt32},  {5, DType::UInt64},
      {6, DType::Int8},   {7, DType::Int16},    {8, DType::Int32},   {9, DType::Int64},   {10, DType::Float16},
      {11, DType::Float32}, {12, DType::Float64}, {14, DType::BFloat16}};
  for (const auto& [code, t] : documented) {
    EXPECT_EQ(dtype_from_triton(code), t) << code;
    EXPECT_EQ(triton_from_dtype(t), code) << code;
  }
  EXPECT_FALSE(dtype_from_triton(0).has_value());   // INVALID
  EXPECT_FALSE(dtype_from_triton(13).has_value());  // BYTES: no strings in tensor mode
  EXPECT_FALSE(dtype_from_triton(15).has_value());
  EXPECT_EQ(triton_from_dtype(DType::String), 0);
}

std::vector<std::byte> bytes_of(const std::vector<int>& v) {
  std::vector<std::byte> out;
  for (int x : v) out.push_back(static_cast<std::byte>(x));
  return out;
}

TEST(ServingBytesTensor, SplitsLengthPrefixedElements) {
  // Two elements, "ab" and "", written by hand: little-endian u32 length + bytes.
  const auto data = bytes_of({2, 0, 0, 0, 'a', 'b', 0, 0, 0, 0});
  const auto parts = split_bytes_tensor(data, 2, "IMAGE");
  ASSERT_TRUE(parts.ok()) << parts.error();
  ASSERT_EQ(parts->size(), 2u);
  ASSERT_EQ((*parts)[0].size(), 2u);
  EXPECT_EQ(static_cast<char>((*parts)[0][1]), 'b');
  EXPECT_EQ((*parts)[1].size(), 0u);
}

TEST(ServingBytesTensor, RefusesTruncatedOrMiscounted) {
  const auto over = bytes_of({5, 0, 0, 0, 'a'});
  auto r = split_bytes_tensor(over, 1, "IMAGE");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("IMAGE"), std::string::npos);
  EXPECT_FALSE(split_bytes_tensor(bytes_of({1, 0}), 1, "IMAGE").ok());
  EXPECT_FALSE(split_bytes_tensor(bytes_of({1, 0, 0, 0, 'x'}), 2, "IMAGE").ok());
  EXPECT_FALSE(split_bytes_tensor({}, 1, "IMAGE").ok());
}

TEST(ServingBytesTensor, EncodeIsLittleEndianLengthPlusText) {
  const std::string text(258, 'z');
  const auto enc = encode_bytes_element(text);
  ASSERT_EQ(enc.size(), 262u);
  EXPECT_EQ(enc[0], std::byte{2});  // 258 = 0x0102
  EXPECT_EQ(enc[1], std::byte{1});
  EXPECT_EQ(enc[2], std::byte{0});
  EXPECT_EQ(enc[3], std::byte{0});
  const auto back = split_bytes_tensor(enc, 1, "RESULT_JSON");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>((*back)[0].data()), (*back)[0].size()), text);
}

TEST(ServingDetections, RowsAreBoxScoreClass) {
  vision::Detection d;
  d.box = {1.0f, 2.0f, 3.5f, 4.5f};
  d.score = 0.75f;
  d.class_id = 2;
  std::vector<vision::Detection> dets = {d, d};
  dets[1].class_id = 0;
  const auto rows = detections_to_rows(dets);
  const std::vector<float> want = {1.0f, 2.0f, 3.5f, 4.5f, 0.75f, 2.0f, 1.0f, 2.0f, 3.5f, 4.5f, 0.75f, 0.0f};
  EXPECT_EQ(rows, want);
}

TEST(ServingFrame, AcceptsHwc3AndReturnsWidthHeight) {
  const std::vector<std::int64_t> shape = {4, 5, 3};
  const auto wh = check_frame_shape(shape, 4 * 5 * 3, "FRAME");
  ASSERT_TRUE(wh.ok()) << wh.error();
  EXPECT_EQ(wh->first, 5);
  EXPECT_EQ(wh->second, 4);
}

TEST(ServingFrame, RefusesWrongShapesAndSizesNamingTheTensor) {
  struct Case {
    std::vector<std::int64_t> shape;
    std::uint64_t bytes;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {{4, 5}, 20, "not 3 dimensions"},
      {{1, 4, 5, 3}, 60, "not 3 dimensions"},
      {{4, 5, 4}, 80, "last dimension"},
      {{4, 5, 1}, 20, "last dimension"},
      {{0, 5, 3}, 0, "height and width"},
      {{4, -1, 3}, 0, "height and width"},
      {{kMaxFrameSide + 1, 1, 3}, static_cast<std::uint64_t>(kMaxFrameSide + 1) * 3, "height and width"},
      {{kMaxFrameSide, kMaxFrameSide, 3}, 0, "pixels"},
      {{4, 5, 3}, 59, "needs 60"},
  };
  for (const auto& c : cases) {
    const auto r = check_frame_shape(c.shape, c.bytes, "FRAME");
    ASSERT_FALSE(r.ok()) << c.needle;
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message().find("'FRAME'"), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find(c.needle), std::string::npos) << r.error().message();
  }
}

TEST(ServingMasks, DenseMasksPlaceEachWindowAndClipToTheImage) {
  // Image 4 wide, 3 high. Mask 0: 2x2 window at (1,1) with pixels [1,0;1,1].
  // Mask 1: 3x2 window at (2,0), partly outside on the right: [1,1,1;0,1,1].
  pipeline::InstanceMask a;
  a.x0 = 1, a.y0 = 1, a.width = 2, a.height = 2, a.data = {1, 0, 1, 1};
  pipeline::InstanceMask b;
  b.x0 = 2, b.y0 = 0, b.width = 3, b.height = 2, b.data = {1, 1, 1, 0, 1, 1};
  const auto dense = masks_to_dense({a, b}, 4, 3);
  const std::vector<std::uint8_t> want = {
      0, 0, 0, 0,  //
      0, 1, 0, 0,  //
      0, 1, 1, 0,  // mask 0
      0, 0, 1, 1,  //
      0, 0, 0, 1,  //
      0, 0, 0, 0,  // mask 1
  };
  EXPECT_EQ(dense, want);
  EXPECT_TRUE(masks_to_dense({}, 4, 3).empty());
}

TEST(ServingKeypoints, RowsAreXYScorePerInstance) {
  const std::vector<std::vector<vision::Keypoint>> inst = {{{1, 2, 0.5f}, {3, 4, 0.25f}}, {{-1, -1, 0}, {5, 6, 1}}};
  std::size_t k = 0;
  const auto rows = keypoints_to_rows(inst, k);
  ASSERT_TRUE(rows.ok()) << rows.error();
  EXPECT_EQ(k, 2u);
  const std::vector<float> want = {1, 2, 0.5f, 3, 4, 0.25f, -1, -1, 0, 5, 6, 1};
  EXPECT_EQ(*rows, want);
  EXPECT_FALSE(keypoints_to_rows({{{1, 2, 0.5f}}, {}}, k).ok());
}

}  // namespace
}  // namespace aegisrt::serving
