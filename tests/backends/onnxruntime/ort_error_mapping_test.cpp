// ORT status codes -> AegisRT ErrorCode, with ORT's message kept (private
// helpers of src/backends/onnxruntime, tested directly).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdint>
#include <vector>

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

// read_type_and_shape(): element type and shape of a tensor OrtValue, through
// ORT C API 24's shape reference (declared by us: our headers are API 21)
// and through the older GetTensorTypeAndShape calls. Both must report what the
// value was created with.
struct ShapeCase {
  std::vector<std::int64_t> shape;
  ONNXTensorElementDataType type;
  std::size_t elem_bytes;
};

class OrtTypeAndShape : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env().ok());
    use_tensor_shape_reference(GetParam());
  }
  void TearDown() override { use_tensor_shape_reference(true); }
};

TEST_P(OrtTypeAndShape, ReportsTheCreatedTypeAndShape) {
  const OrtApi& api = Ort::GetApi();
  const auto mem = Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator, OrtMemTypeDefault);
  std::vector<std::uint8_t> buf(1024, 0);
  const std::vector<ShapeCase> cases = {
      {{1, 256}, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, 4},
      {{2, 3, 5, 7, 1, 2}, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, 8},  // rank 6
      {{}, ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE, 8},                  // scalar
      {{4, 0, 3}, ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8, 1},            // no elements
  };
  for (const auto& c : cases) {
    std::size_t n = 1;
    for (auto d : c.shape) n *= static_cast<std::size_t>(d);
    OrtValue* v = nullptr;
    ASSERT_EQ(api.CreateTensorWithDataAsOrtValue(mem, buf.data(), n * c.elem_bytes, c.shape.data(),
                                                 c.shape.size(), c.type, &v),
              nullptr);
    ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
    std::vector<std::int64_t> shape = {99, 99, 99, 99, 99, 99, 99, 99};  // must be replaced, not appended to
    const auto r = read_type_and_shape(v, type, shape, "reading output 'y'");
    api.ReleaseValue(v);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(type, c.type);
    EXPECT_EQ(shape, c.shape);
  }
}

TEST_P(OrtTypeAndShape, NonTensorValueIsAnErrorNamingTheOutput) {
  // A sequence value has no tensor shape: both paths must refuse it.
  const OrtApi& api = Ort::GetApi();
  const auto mem = Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator, OrtMemTypeDefault);
  float x[2] = {1.f, 2.f};
  const std::int64_t dims[1] = {2};
  OrtValue* t = nullptr;
  ASSERT_EQ(api.CreateTensorWithDataAsOrtValue(mem, x, sizeof x, dims, 1, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &t),
            nullptr);
  const OrtValue* elems[1] = {t};
  OrtValue* seq = nullptr;
  ASSERT_EQ(api.CreateValue(elems, 1, ONNX_TYPE_SEQUENCE, &seq), nullptr);
  ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  std::vector<std::int64_t> shape;
  const auto r = read_type_and_shape(seq, type, shape, "reading output 'y'");
  api.ReleaseValue(seq);
  api.ReleaseValue(t);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().to_string(), ::testing::HasSubstr("reading output 'y'"));
}

INSTANTIATE_TEST_SUITE_P(ReferenceAndLegacy, OrtTypeAndShape, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? std::string("ApiReference") : std::string("GetTensorTypeAndShape");
                         });

TEST(OrtTypeAndShapeReference, ResolvedWhenTheLibraryServesApi24) {
  // The entry is read from slot 414 of the OrtApi table and must pass its
  // probe whenever the library has C API 24 (ONNX Runtime >= 1.24); a wrong
  // slot fails the probe and shows up here as "not available".
  ASSERT_TRUE(env().ok());
  const bool has_api24 = OrtGetApiBase()->GetApi(24) != nullptr;
  int major = 0, minor = 0;
  ASSERT_EQ(std::sscanf(OrtGetApiBase()->GetVersionString(), "%d.%d", &major, &minor), 2);
  EXPECT_EQ(has_api24, major > 1 || (major == 1 && minor >= 24));
  EXPECT_EQ(tensor_shape_reference_available(), has_api24);
}

}  // namespace
}  // namespace aegisrt::ort
