#include <gtest/gtest.h>

#include <numeric>

#include "aegisrt/core/tensor.h"

namespace aegisrt {
namespace {

TEST(Tensor, AllocateHostZeroedAndAligned) {
  auto t = Tensor::allocate_host({2, 3}, DType::Float32, "a");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->element_count(), 6);
  EXPECT_EQ(t->byte_size(), 24u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t->data()) % 64, 0u);
  for (float v : t->span<float>()) EXPECT_EQ(v, 0.0f);
  EXPECT_TRUE(t->view().is_contiguous());
}

TEST(Tensor, RejectsDynamicOrNegativeShape) {
  auto t = Tensor::allocate_host({-1, 3}, DType::Float32, "x");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(t.error().message().find("'x'"), std::string::npos);
}

TEST(Tensor, FromBytesChecksSize) {
  std::vector<std::byte> bytes(8);
  EXPECT_TRUE(Tensor::from_bytes({2}, DType::Float32, bytes).ok());
  EXPECT_EQ(Tensor::from_bytes({3}, DType::Float32, bytes).error().code(), ErrorCode::InvalidArgument);
}

TEST(Tensor, CloneAndReshape) {
  auto t = Tensor::allocate_host({2, 2}, DType::Int32);
  std::iota(t->span<std::int32_t>().begin(), t->span<std::int32_t>().end(), 0);
  auto c = t->clone();
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->data(), t->data());
  EXPECT_EQ(c->span<std::int32_t>()[3], 3);
  EXPECT_TRUE(c->reshape({4}).ok());
  EXPECT_FALSE(c->reshape({3}).ok());
}

TEST(TensorView, ContiguityRules) {
  float d[24] = {};
  EXPECT_TRUE(TensorView(d, {2, 3, 4}, DType::Float32).is_contiguous());
  EXPECT_FALSE(TensorView(d, {2, 3}, {1, 2}, DType::Float32).is_contiguous());  // transposed
  EXPECT_TRUE(TensorView(d, {1, 3}, {99, 1}, DType::Float32).is_contiguous());  // size-1 dim
  EXPECT_FALSE(TensorView(d, {2, 2}, {4, 2}, DType::Float32).is_contiguous());  // step 2
}

TEST(TensorView, ValidateRejectsInconsistentViews) {
  float d[4] = {};
  EXPECT_TRUE(TensorView(d, {2, 2}, DType::Float32).validate().ok());
  auto rank = TensorView(d, {2, 2}, {1}, DType::Float32).validate("input 'x'");
  ASSERT_FALSE(rank.ok());
  EXPECT_EQ(rank.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(rank.error().message().find("input 'x'"), std::string::npos);
  EXPECT_FALSE(TensorView(d, {2, -1}, {1, 1}, DType::Float32).validate().ok());
  EXPECT_FALSE(TensorView(d, {2, 2}, {-2, 1}, DType::Float32).validate().ok());
  EXPECT_FALSE(TensorView(nullptr, {2, 2}, DType::Float32).validate().ok());
  EXPECT_TRUE(TensorView(nullptr, {0, 2}, DType::Float32).validate().ok());  // empty is fine
}

TEST(TensorView, CopyToContiguousTransposed) {
  // 2x3 row-major source; view it transposed as 3x2 with strides {1, 3}.
  const float src[6] = {0, 1, 2, 3, 4, 5};
  TensorView v(src, {3, 2}, {1, 3}, DType::Float32);
  auto t = copy_to_contiguous(v, "t");
  ASSERT_TRUE(t.ok()) << t.error();
  const float expected[6] = {0, 3, 1, 4, 2, 5};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t->span<float>()[static_cast<std::size_t>(i)], expected[i]);
}

TEST(TensorView, CopyToContiguousBroadcastAndSlices) {
  const std::int64_t src[3] = {7, 8, 9};
  TensorView bcast(src, {2, 3}, {0, 1}, DType::Int64);  // zero stride broadcast
  auto t = copy_to_contiguous(bcast);
  ASSERT_TRUE(t.ok());
  const std::int64_t expected[6] = {7, 8, 9, 7, 8, 9};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t->span<std::int64_t>()[static_cast<std::size_t>(i)], expected[i]);

  std::uint8_t bytes[24];
  std::iota(std::begin(bytes), std::end(bytes), std::uint8_t{0});
  // 2x2x3 view taking every other row of a 2x4x3 buffer.
  TensorView slice(bytes, {2, 2, 3}, {12, 6, 1}, DType::UInt8);
  auto s = copy_to_contiguous(slice);
  ASSERT_TRUE(s.ok());
  const std::uint8_t exp2[12] = {0, 1, 2, 6, 7, 8, 12, 13, 14, 18, 19, 20};
  for (int i = 0; i < 12; ++i) EXPECT_EQ(s->span<std::uint8_t>()[static_cast<std::size_t>(i)], exp2[i]);
}

TEST(TensorDesc, AcceptsShapeWithDynamicDims) {
  TensorDesc d{"images", {kDynamicDim, 3, 640, 640}, DType::Float32};
  EXPECT_TRUE(d.is_dynamic());
  EXPECT_TRUE(d.accepts_shape(Shape{4, 3, 640, 640}));
  EXPECT_FALSE(d.accepts_shape(Shape{4, 3, 640}));
  EXPECT_FALSE(d.accepts_shape(Shape{4, 1, 640, 640}));
  EXPECT_EQ(d.to_string(), "images: float32[?x3x640x640]");
}

TEST(Tensor, StringTensorsOwnTheirStrings) {
  auto t = Tensor::from_strings({2, 2}, {"a", "", "long string that does not fit the small-string buffer", "d"}, "s");
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->dtype(), DType::String);
  EXPECT_EQ(t->span<std::string>()[2], "long string that does not fit the small-string buffer");
  auto c = t->clone();
  ASSERT_TRUE(c.ok()) << c.error();
  t->span<std::string>()[0] = "changed";
  EXPECT_EQ(c->span<std::string>()[0], "a");  // a deep copy
  // A transposed view copies element by element in C order.
  const TensorView tv(c->data(), {2, 2}, {1, 2}, DType::String);
  auto tr = copy_to_contiguous(tv, "tr");
  ASSERT_TRUE(tr.ok()) << tr.error();
  EXPECT_EQ(tr->span<std::string>()[1], "long string that does not fit the small-string buffer");
  EXPECT_EQ(tr->span<std::string>()[2], "");
  // Strings are not raw bytes.
  const std::byte raw[4]{};
  EXPECT_EQ(Tensor::from_bytes({1}, DType::String, raw).error().code(), ErrorCode::InvalidArgument);
  std::vector<std::byte> dst(c->byte_size());
  EXPECT_EQ(copy_to_contiguous(c->view(), dst).error().code(), ErrorCode::Unsupported);
  EXPECT_EQ(Tensor::from_strings({3}, {"a"}).error().code(), ErrorCode::InvalidArgument);
  auto empty = Tensor::allocate_host({0, 3}, DType::String);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->element_count(), 0);
}

}  // namespace
}  // namespace aegisrt
