// Precision path and optimisation profile selection (no TensorRT needed).
// Expected plans are written out per TensorRT generation from its documented
// behaviour: 8.6/10.x weakly typed with builder flags, 10.x strongly typed for
// fp16/Q-DQ models, 11.x strongly typed only.
#include <gtest/gtest.h>

#include "aegisrt/trt_plan/build_plan.h"

namespace aegisrt::trt {
namespace {

constexpr TrtVersion kTrt86{8, 6, 1, 6};
constexpr TrtVersion kTrt10{10, 16, 0, 72};
constexpr TrtVersion kTrt11{11, 1, 0, 106};

PrecisionRequest req(TrtVersion v, std::optional<Precision> p, onnx::OnnxModelKind kind = onnx::OnnxModelKind::Float32) {
  PrecisionRequest r;
  r.trt = v;
  r.requested = p;
  r.model_kind = kind;
  r.model_path = "models/yolo.onnx";
  r.gpu = {"GPU-1", "Orin", 8, 7};
  return r;
}

TEST(SelectPrecision, DefaultIsFp16) {
  auto p = select_precision(req(kTrt10, std::nullopt));
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->precision, Precision::FP16);
  EXPECT_EQ(kDefaultEnginePrecision, Precision::FP16);
}

TEST(SelectPrecision, WeaklyTypedFlagsOnTrt10And86) {
  for (auto v : {kTrt86, kTrt10}) {
    auto fp32 = select_precision(req(v, Precision::FP32));
    ASSERT_TRUE(fp32.ok());
    EXPECT_EQ(fp32->typing, NetworkTyping::Weak);
    EXPECT_FALSE(fp32->fp16_flag);
    EXPECT_FALSE(fp32->int8_flag);
    auto fp16 = select_precision(req(v, Precision::FP16));
    ASSERT_TRUE(fp16.ok());
    EXPECT_EQ(fp16->typing, NetworkTyping::Weak);
    EXPECT_TRUE(fp16->fp16_flag);
    EXPECT_FALSE(fp16->int8_flag);
    EXPECT_FALSE(fp16->needs_calibrator);
  }
}

TEST(SelectPrecision, Int8FromFloatModelNeedsCalibrationOnTrt10) {
  auto r = req(kTrt10, Precision::INT8);
  auto no_data = select_precision(r);
  ASSERT_FALSE(no_data.ok());
  EXPECT_EQ(no_data.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(no_data.error().message().find("calibration"), std::string::npos);
  EXPECT_NE(no_data.error().message().find("insert_qdq.py"), std::string::npos);
  r.have_calibration_data = true;
  auto p = select_precision(r);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->typing, NetworkTyping::Weak);
  EXPECT_TRUE(p->int8_flag);
  EXPECT_TRUE(p->fp16_flag);  // fp16 fallback for layers without int8 kernels
  EXPECT_TRUE(p->needs_calibrator);
}

TEST(SelectPrecision, ConvertedModelsBuildStronglyTypedOnTrt10) {
  auto fp16 = select_precision(req(kTrt10, Precision::FP16, onnx::OnnxModelKind::Float16));
  ASSERT_TRUE(fp16.ok());
  EXPECT_EQ(fp16->typing, NetworkTyping::Strong);
  EXPECT_FALSE(fp16->fp16_flag);
  auto qdq = select_precision(req(kTrt10, Precision::INT8, onnx::OnnxModelKind::QDQ));
  ASSERT_TRUE(qdq.ok());
  EXPECT_EQ(qdq->typing, NetworkTyping::Strong);
  EXPECT_FALSE(qdq->int8_flag);
  EXPECT_FALSE(qdq->needs_calibrator);
}

TEST(SelectPrecision, Trt86HasNoStrongTypingSoQdqUsesTheInt8Flag) {
  auto qdq = select_precision(req(kTrt86, Precision::INT8, onnx::OnnxModelKind::QDQ));
  ASSERT_TRUE(qdq.ok());
  EXPECT_EQ(qdq->typing, NetworkTyping::Weak);
  EXPECT_TRUE(qdq->int8_flag);
  EXPECT_FALSE(qdq->needs_calibrator);
  auto fp16 = select_precision(req(kTrt86, Precision::FP16, onnx::OnnxModelKind::Float16));
  ASSERT_TRUE(fp16.ok());
  EXPECT_EQ(fp16->typing, NetworkTyping::Weak);
  EXPECT_TRUE(fp16->fp16_flag);
}

TEST(SelectPrecision, Trt11IsStronglyTypedOnly) {
  auto fp32 = select_precision(req(kTrt11, Precision::FP32));
  ASSERT_TRUE(fp32.ok());
  EXPECT_EQ(fp32->typing, NetworkTyping::Strong);
  EXPECT_FALSE(fp32->fp16_flag || fp32->int8_flag || fp32->needs_calibrator);

  auto fp16 = select_precision(req(kTrt11, Precision::FP16));
  ASSERT_FALSE(fp16.ok());
  EXPECT_EQ(fp16.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(fp16.error().message().find("strongly typed"), std::string::npos);
  EXPECT_NE(fp16.error().message().find("convert_fp16.py models/yolo.onnx"), std::string::npos);

  auto r = req(kTrt11, Precision::INT8);
  r.have_calibration_data = true;  // a calibrator does not help on 11
  auto int8 = select_precision(r);
  ASSERT_FALSE(int8.ok());
  EXPECT_EQ(int8.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(int8.error().message().find("Q/DQ"), std::string::npos);
  EXPECT_NE(int8.error().message().find("insert_qdq.py models/yolo.onnx"), std::string::npos);

  auto ok16 = select_precision(req(kTrt11, Precision::FP16, onnx::OnnxModelKind::Float16));
  ASSERT_TRUE(ok16.ok());
  EXPECT_EQ(ok16->typing, NetworkTyping::Strong);
  auto ok8 = select_precision(req(kTrt11, Precision::INT8, onnx::OnnxModelKind::QDQ));
  ASSERT_TRUE(ok8.ok());
  EXPECT_EQ(ok8->typing, NetworkTyping::Strong);
}

TEST(SelectPrecision, ModelKindMustMatchPrecision) {
  for (auto v : {kTrt86, kTrt10, kTrt11}) {
    auto a = select_precision(req(v, Precision::FP32, onnx::OnnxModelKind::Float16));
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(a.error().message().find("float16 model"), std::string::npos);
    auto b = select_precision(req(v, Precision::FP16, onnx::OnnxModelKind::QDQ));
    ASSERT_FALSE(b.ok());
    EXPECT_NE(b.error().message().find("int8-qdq model"), std::string::npos);
  }
}

TEST(SelectPrecision, ManifestAndGpuLimits) {
  auto r = req(kTrt10, Precision::INT8);
  r.have_calibration_data = true;
  r.manifest_precisions = {Precision::FP32, Precision::FP16};
  auto m = select_precision(r);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(m.error().message().find("allows: fp32, fp16"), std::string::npos);

  auto old_gpu = req(kTrt10, Precision::INT8);
  old_gpu.have_calibration_data = true;
  old_gpu.gpu = {"GPU-2", "Tesla M10", 5, 0};
  auto g = select_precision(old_gpu);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(g.error().message().find("6.1"), std::string::npos);
  EXPECT_NE(g.error().message().find("Tesla M10"), std::string::npos);
  auto g16 = req(kTrt10, Precision::FP16);
  g16.gpu = {"GPU-2", "Tesla M10", 5, 0};
  EXPECT_FALSE(select_precision(g16).ok());
  g16.gpu.cc_minor = 3;  // 5.3 has fast fp16
  EXPECT_TRUE(select_precision(g16).ok());
}

TEST(SelectPrecision, TooOldTensorRtIsRejected) {
  auto p = select_precision(req({8, 5, 3, 1}, Precision::FP16));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(p.error().message().find("8.6.0"), std::string::npos);
}

const TensorDesc kImages{"images", {kDynamicDim, 3, kDynamicDim, kDynamicDim}, DType::Float32};

TEST(SelectProfiles, DynamicBatchAndSizeFromManifest) {
  ProfileRequest r;
  r.input_sizes = {{640, 640}, {320, 480}, {736, 1280}};
  r.min_batch = 1;
  r.opt_batch = 2;
  r.max_batch = 8;
  auto p = select_profiles({kImages}, r);
  ASSERT_TRUE(p.ok()) << p.error();
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ((*p)[0], (TensorProfile{"images", {1, 3, 320, 480}, {2, 3, 640, 640}, {8, 3, 736, 1280}}));
  EXPECT_EQ(profiles_to_string(*p), "images:1x3x320x480/2x3x640x640/8x3x736x1280");
}

TEST(SelectProfiles, NhwcLayout) {
  ProfileRequest r;
  r.layout = ImageLayout::NHWC;
  r.input_sizes = {{480, 640}};
  const TensorDesc nhwc{"x", {kDynamicDim, kDynamicDim, kDynamicDim, 3}, DType::UInt8};
  auto p = select_profiles({nhwc}, r);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ((*p)[0], (TensorProfile{"x", {1, 480, 640, 3}, {1, 480, 640, 3}, {1, 480, 640, 3}}));
}

TEST(SelectProfiles, StaticDimsMustAgreeWithTheRequest) {
  const TensorDesc fixed{"images", {1, 3, 640, 640}, DType::Float32};
  ProfileRequest r;
  r.input_sizes = {{640, 640}};
  auto ok = select_profiles({fixed}, r);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)[0].min, (Shape{1, 3, 640, 640}));
  r.input_sizes = {{640, 640}, {320, 320}};
  auto bad = select_profiles({fixed}, r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(bad.error().message().find("input 'images' dim 2 (height) is fixed at 640"), std::string::npos);
  r.input_sizes = {{640, 640}};
  r.max_batch = 4;
  r.opt_batch = 4;
  auto batch = select_profiles({fixed}, r);
  ASSERT_FALSE(batch.ok());
  EXPECT_NE(batch.error().message().find("(batch) is fixed at 1"), std::string::npos);
}

TEST(SelectProfiles, UnfixableDynamicDimsNameTheTensor) {
  ProfileRequest r;
  auto no_sizes = select_profiles({kImages}, r);
  ASSERT_FALSE(no_sizes.ok());
  EXPECT_NE(no_sizes.error().message().find("input 'images' dim 2 (height) is dynamic"), std::string::npos);
  r.input_sizes = {{64, 64}};
  const TensorDesc dyn_c{"images", {1, kDynamicDim, 64, 64}, DType::Float32};
  auto c = select_profiles({dyn_c}, r);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("input 'images' dim 1 (channels) is dynamic"), std::string::npos);
  const TensorDesc seq{"tokens", {kDynamicDim, kDynamicDim}, DType::Int64};
  auto s = select_profiles({seq}, r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("input 'tokens' dim 1"), std::string::npos);
}

TEST(SelectProfiles, NonImageInputsTakeTheBatchRange) {
  const TensorDesc x{"x", {kDynamicDim, 4}, DType::Float32};
  const TensorDesc scale{"scale", {1}, DType::Float32};
  ProfileRequest r;
  r.min_batch = 1;
  r.opt_batch = 2;
  r.max_batch = 4;
  auto p = select_profiles({x}, r);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ((*p)[0], (TensorProfile{"x", {1, 4}, {2, 4}, {4, 4}}));
  // A static leading dim smaller than max_batch is rejected as a fixed batch.
  EXPECT_FALSE(select_profiles({x, scale}, r).ok());
}

TEST(SelectProfiles, BadRangesAreRejected) {
  ProfileRequest r;
  r.input_sizes = {{64, 64}};
  r.min_batch = 2;
  r.opt_batch = 1;
  r.max_batch = 4;
  EXPECT_FALSE(select_profiles({kImages}, r).ok());
  r = ProfileRequest{};
  r.min_batch = 0;
  EXPECT_FALSE(select_profiles({kImages}, r).ok());
  r = ProfileRequest{};
  r.input_sizes = {{0, 64}};
  auto z = select_profiles({kImages}, r);
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.error().message().find("0x64"), std::string::npos);
}

}  // namespace
}  // namespace aegisrt::trt
