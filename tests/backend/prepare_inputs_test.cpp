#include <gtest/gtest.h>

#include "aegisrt/backend/runtime_backend.h"

namespace aegisrt {
namespace {

const std::vector<TensorDesc> kSpecs = {{"a", {kDynamicDim, 2}, DType::Float32},
                                        {"b", {3}, DType::Int64}};

TEST(PrepareInputs, ReordersNamedInputs) {
  float a[4] = {1, 2, 3, 4};
  std::int64_t b[3] = {5, 6, 7};
  std::vector<Tensor> scratch;
  auto r = prepare_inputs(kSpecs, {{"b", TensorView(b, {3}, DType::Int64)}, {"a", TensorView(a, {2, 2}, DType::Float32)}},
                          false, scratch);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)[0].name, "a");
  EXPECT_EQ((*r)[0].view.data(), a);
  EXPECT_EQ((*r)[1].view.data(), b);
  EXPECT_TRUE(scratch.empty());  // contiguous: no copy
}

TEST(PrepareInputs, CopiesNonContiguous) {
  float a[8] = {1, 0, 2, 0, 3, 0, 4, 0};
  std::int64_t b[3] = {5, 6, 7};
  std::vector<Tensor> scratch;
  auto r = prepare_inputs(kSpecs, {{"", TensorView(a, {2, 2}, {4, 2}, DType::Float32)}, {"", TensorView(b, {3}, DType::Int64)}},
                          false, scratch);
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(scratch.size(), 1u);
  const float* p = (*r)[0].view.data_as<float>();
  EXPECT_EQ(p[0], 1);
  EXPECT_EQ(p[1], 2);
  EXPECT_EQ(p[2], 3);
  EXPECT_EQ(p[3], 4);
}

TEST(PrepareInputs, RejectionsNameTheTensor) {
  float a[4] = {};
  std::int64_t b[3] = {};
  std::vector<Tensor> s;
  auto count = prepare_inputs(kSpecs, {{"", TensorView(a, {2, 2}, DType::Float32)}}, false, s);
  EXPECT_EQ(count.error().code(), ErrorCode::InvalidArgument);
  auto mixed = prepare_inputs(kSpecs, {{"a", TensorView(a, {2, 2}, DType::Float32)}, {"", TensorView(b, {3}, DType::Int64)}}, false, s);
  EXPECT_EQ(mixed.error().code(), ErrorCode::InvalidArgument);
  auto dtype = prepare_inputs(kSpecs, {{"", TensorView(a, {2, 2}, DType::Float32)}, {"", TensorView(b, {3}, DType::Int32)}}, false, s);
  ASSERT_FALSE(dtype.ok());
  EXPECT_NE(dtype.error().message().find("'b'"), std::string::npos);
  auto shape = prepare_inputs(kSpecs, {{"", TensorView(a, {2, 2}, DType::Float32)}, {"", TensorView(b, {2}, DType::Int64)}}, false, s);
  ASSERT_FALSE(shape.ok());
  EXPECT_NE(shape.error().message().find("'b'"), std::string::npos);
  auto dev = prepare_inputs(kSpecs, {{"", TensorView(a, {2, 2}, DType::Float32, Location::device(0))}, {"", TensorView(b, {3}, DType::Int64)}}, false, s);
  ASSERT_FALSE(dev.ok());
  EXPECT_NE(dev.error().message().find("device"), std::string::npos);
}

}  // namespace
}  // namespace aegisrt
