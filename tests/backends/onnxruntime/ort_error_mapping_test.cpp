// ORT status codes -> AegisRT ErrorCode, with ORT's message kept (private
// helpers of src/backends/onnxruntime, tested directly).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backends/onnxruntime/ort_common.h"

namespace aegisrt::ort {
namespace {

TEST(OrtErrorMapping, EveryOrtCodeMapsAsDocumented) {
  EXPECT_EQ(map_error_code(ORT_INVALID_ARGUMENT), ErrorCode::InvalidArgument);
  EXPECT_EQ(map_error_code(ORT_NO_SUCHFILE), ErrorCode::NotFound);
  EXPECT_EQ(map_error_code(ORT_INVALID_PROTOBUF), ErrorCode::Corrupt);
  EXPECT_EQ(map_error_code(ORT_INVALID_GRAPH), ErrorCode::Corrupt);
  EXPECT_EQ(map_error_code(ORT_NOT_IMPLEMENTED), ErrorCode::Unsupported);
  for (auto c : {ORT_FAIL, ORT_NO_MODEL, ORT_ENGINE_ERROR, ORT_RUNTIME_EXCEPTION, ORT_MODEL_LOADED,
                 ORT_EP_FAIL, static_cast<OrtErrorCode>(13) /* newer than our headers */}) {
    EXPECT_EQ(map_error_code(c), ErrorCode::BackendError) << static_cast<int>(c);
  }
}

TEST(OrtErrorMapping, StatusKeepsOrtMessageAndContext) {
  ASSERT_TRUE(env().ok());
  OrtStatus* s = Ort::GetApi().CreateStatus(ORT_INVALID_GRAPH, "node 'conv1' has no input 'w'");
  const Error e = status_to_error(s, "loading 'm.onnx'");
  EXPECT_EQ(e.code(), ErrorCode::Corrupt);
  EXPECT_THAT(e.message(), ::testing::HasSubstr("loading 'm.onnx'"));
  EXPECT_THAT(e.message(), ::testing::HasSubstr("node 'conv1' has no input 'w'"));
  EXPECT_THAT(e.message(), ::testing::HasSubstr("INVALID_GRAPH"));
}

TEST(OrtErrorMapping, ExceptionKeepsOrtMessage) {
  const Error e = to_error(Ort::Exception("no such file: x.onnx", ORT_NO_SUCHFILE), "opening");
  EXPECT_EQ(e.code(), ErrorCode::NotFound);
  EXPECT_THAT(e.message(), ::testing::HasSubstr("no such file: x.onnx"));
}

TEST(OrtTypes, DTypeRoundTrip) {
  for (DType t : kAllDTypes) {
    const auto back = from_onnx(to_onnx(t));
    ASSERT_TRUE(back.has_value()) << t;
    EXPECT_EQ(*back, t);
  }
  // Every element type this ORT header defines has a DType, except complex
  // (which ORT itself does not run, per its header).
  EXPECT_EQ(from_onnx(ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE), DType::Float64);
  EXPECT_EQ(from_onnx(ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING), DType::String);
  EXPECT_EQ(from_onnx(ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64), DType::UInt64);
  EXPECT_EQ(from_onnx(ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E4M3FN), DType::Float8E4M3FN);
  EXPECT_EQ(from_onnx(ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E5M2FNUZ), DType::Float8E5M2FNUZ);
  EXPECT_EQ(from_onnx(ONNX_TENSOR_ELEMENT_DATA_TYPE_INT4), DType::Int4);
  EXPECT_EQ(from_onnx(ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT4), DType::UInt4);
  EXPECT_FALSE(from_onnx(ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX64).has_value());
  EXPECT_EQ(onnx_type_name(ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX128), "COMPLEX128");
  EXPECT_EQ(onnx_type_name(ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E4M3FN), "FLOAT8E4M3FN");
}

}  // namespace
}  // namespace aegisrt::ort
