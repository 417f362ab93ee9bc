#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "aegisrt/core/dtype.h"

namespace aegisrt {
namespace {

TEST(DType, SizesAndNames) {
  EXPECT_EQ(dtype_size(DType::Float32), 4u);
  EXPECT_EQ(dtype_size(DType::Float16), 2u);
  EXPECT_EQ(dtype_size(DType::BFloat16), 2u);
  EXPECT_EQ(dtype_size(DType::Int8), 1u);
  EXPECT_EQ(dtype_size(DType::UInt8), 1u);
  EXPECT_EQ(dtype_size(DType::Int32), 4u);
  EXPECT_EQ(dtype_size(DType::Int64), 8u);
  EXPECT_EQ(dtype_size(DType::Bool), 1u);
  EXPECT_EQ(dtype_size(DType::Float64), 8u);
  EXPECT_EQ(dtype_size(DType::Int16), 2u);
  EXPECT_EQ(dtype_size(DType::UInt16), 2u);
  EXPECT_EQ(dtype_size(DType::UInt32), 4u);
  EXPECT_EQ(dtype_size(DType::UInt64), 8u);
  EXPECT_EQ(dtype_size(DType::String), sizeof(std::string));
  EXPECT_EQ(dtype_size(DType::Float8E5M2), 1u);
  EXPECT_EQ(dtype_size(DType::Int4), 1u);  // unpacked: one element per byte
  for (DType t : kAllDTypes) EXPECT_EQ(parse_dtype(dtype_name(t)), t);
  EXPECT_EQ(parse_dtype("fp16"), DType::Float16);
  EXPECT_EQ(parse_dtype("double"), DType::Float64);
  EXPECT_EQ(parse_dtype("float8_e4m3fn"), DType::Float8E4M3FN);
  EXPECT_FALSE(parse_dtype("complex64").has_value());
}

TEST(DType, OneOnnxTableBothWays) {
  // TensorProto.DataType codes from onnx.proto.
  EXPECT_EQ(dtype_from_onnx(1), DType::Float32);
  EXPECT_EQ(dtype_from_onnx(11), DType::Float64);
  EXPECT_EQ(dtype_from_onnx(8), DType::String);
  EXPECT_EQ(dtype_from_onnx(13), DType::UInt64);
  EXPECT_EQ(dtype_from_onnx(17), DType::Float8E4M3FN);
  EXPECT_EQ(dtype_from_onnx(20), DType::Float8E5M2FNUZ);
  EXPECT_EQ(dtype_from_onnx(21), DType::UInt4);
  EXPECT_EQ(dtype_from_onnx(22), DType::Int4);
  EXPECT_FALSE(dtype_from_onnx(14).has_value());  // complex64
  EXPECT_FALSE(dtype_from_onnx(0).has_value());
  EXPECT_FALSE(dtype_from_onnx(99).has_value());
  for (DType t : kAllDTypes) EXPECT_EQ(dtype_from_onnx(dtype_to_onnx(t)), t) << t;
  EXPECT_EQ(onnx_type_name(11), "DOUBLE");
  EXPECT_EQ(onnx_type_name(23), "FLOAT4E2M1");
  EXPECT_EQ(onnx_type_name(99), "ONNX data type 99");
}

TEST(DType, Float8KnownValues) {
  // From the ONNX float8 definitions (onnx.ai/onnx/technical/float8.html).
  EXPECT_EQ(float8_to_float(DType::Float8E4M3FN, 0x38), 1.0f);
  EXPECT_EQ(float8_to_float(DType::Float8E4M3FN, 0x7E), 448.0f);   // largest finite
  EXPECT_EQ(float8_to_float(DType::Float8E4M3FN, 0x01), 0.001953125f);  // 2^-9, smallest subnormal
  EXPECT_EQ(float8_to_float(DType::Float8E4M3FN, 0xC0), -2.0f);
  EXPECT_TRUE(std::isnan(float8_to_float(DType::Float8E4M3FN, 0x7F)));
  EXPECT_EQ(float8_to_float(DType::Float8E4M3FNUZ, 0x40), 1.0f);  // bias 8
  EXPECT_EQ(float8_to_float(DType::Float8E4M3FNUZ, 0x7F), 240.0f);
  EXPECT_TRUE(std::isnan(float8_to_float(DType::Float8E4M3FNUZ, 0x80)));
  EXPECT_EQ(float8_to_float(DType::Float8E5M2, 0x3C), 1.0f);
  EXPECT_EQ(float8_to_float(DType::Float8E5M2, 0x7B), 57344.0f);
  EXPECT_TRUE(std::isinf(float8_to_float(DType::Float8E5M2, 0x7C)));
  EXPECT_TRUE(std::isnan(float8_to_float(DType::Float8E5M2, 0x7D)));
  EXPECT_EQ(float8_to_float(DType::Float8E5M2FNUZ, 0x40), 1.0f);  // bias 16
  EXPECT_EQ(float8_to_float(DType::Float8E5M2FNUZ, 0x7F), 57344.0f);
  EXPECT_TRUE(std::isnan(float8_to_float(DType::Float8E5M2FNUZ, 0x80)));
  EXPECT_TRUE(std::isnan(float8_to_float(DType::Float32, 0x38)));  // not a float8 type
}

TEST(DType, HalfConversionKnownBitPatterns) {
  // Values from the IEEE 754 binary16 definition.
  EXPECT_EQ(float_to_half(1.0f), 0x3C00);
  EXPECT_EQ(float_to_half(-2.0f), 0xC000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7BFF);
  EXPECT_EQ(float_to_half(1e6f), 0x7C00);                // overflow -> inf
  EXPECT_EQ(float_to_half(5.9604645e-8f), 0x0001);       // smallest subnormal
  EXPECT_EQ(float_to_half(0.1f), 0x2E66);                // rounded to nearest
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
  EXPECT_EQ(half_to_float(0x0001), 5.9604645e-8f);
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(std::nanf("")))));
  for (int i = -2048; i <= 2048; ++i) {  // integers up to 2048 are exact in fp16
    EXPECT_EQ(half_to_float(float_to_half(static_cast<float>(i))), static_cast<float>(i));
  }
}

TEST(DType, BFloat16Conversion) {
  EXPECT_EQ(float_to_bfloat16(1.0f), 0x3F80);
  EXPECT_EQ(bfloat16_to_float(0x4049), 3.140625f);
  EXPECT_EQ(float_to_bfloat16(3.14159f), 0x4049);
}

}  // namespace
}  // namespace aegisrt
