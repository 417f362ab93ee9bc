// ONNX test-data folders (input_<k>.pb / output_<k>.pb) and expected outputs:
// file classification, folder reading and binding to the model's outputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aegisrt/io/npy.h"
#include "aegisrt/io/test_data.h"
#include "io/io_test_util.h"

namespace aegisrt::io {
namespace {

using ::testing::HasSubstr;

Tensor floats(std::string name, std::vector<float> v) {
  auto t = Tensor::allocate_host({static_cast<std::int64_t>(v.size())}, DType::Float32, std::move(name));
  EXPECT_TRUE(t.ok());
  std::copy(v.begin(), v.end(), t->data_as<float>());
  return std::move(t).value();
}

TEST(OnnxTestData, FileNamesFollowOnnxLayout) {
  EXPECT_EQ(onnx_output_file_index("d/output_0.pb"), 0u);
  EXPECT_EQ(onnx_output_file_index("output_12.PB"), 12u);
  EXPECT_EQ(onnx_input_file_index("d/input_3.pb"), 3u);
  EXPECT_FALSE(onnx_output_file_index("output_0.npy"));
  EXPECT_FALSE(onnx_output_file_index("output_.pb"));
  EXPECT_FALSE(onnx_output_file_index("output_1a.pb"));
  EXPECT_FALSE(onnx_output_file_index("my_output_1.pb"));
  EXPECT_FALSE(onnx_input_file_index("output_0.pb"));
}

TEST(OnnxTestData, BindsByNameThenByPosition) {
  std::vector<ExpectedTensor> e;
  e.push_back({floats("y", {1}), "'y.npy'"});
  e.push_back({floats("anything", {2}), "'output_0.pb'", 0});
  e.push_back({floats("output_2", {3}), "'o.npz' entry 'output_2'"});
  auto b = bind_expected_outputs(std::move(e), {"x", "y", "z"});
  ASSERT_TRUE(b.ok()) << b.error();
  ASSERT_EQ(b->size(), 3u);
  EXPECT_EQ((*b)[0].name(), "y");
  EXPECT_EQ((*b)[1].name(), "x");
  EXPECT_EQ((*b)[1].data_as<float>()[0], 2.0f);
  EXPECT_EQ((*b)[2].name(), "z");
}

TEST(OnnxTestData, RefusesUnknownAndDuplicateOutputs) {
  std::vector<ExpectedTensor> unknown;
  unknown.push_back({floats("w", {1}), "'w.npy'"});
  auto u = bind_expected_outputs(std::move(unknown), {"x", "y"});
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().code(), ErrorCode::InvalidArgument);
  EXPECT_THAT(u.error().message(), HasSubstr("expected tensor 'w' from 'w.npy'"));
  EXPECT_THAT(u.error().message(), HasSubstr("'x', 'y'"));

  std::vector<ExpectedTensor> past;
  past.push_back({floats("q", {1}), "'output_5.pb'", 5});
  EXPECT_FALSE(bind_expected_outputs(std::move(past), {"x"}).ok());

  std::vector<ExpectedTensor> twice;
  twice.push_back({floats("x", {1}), "'x.npy'"});
  twice.push_back({floats("", {1}), "'output_0.pb'", 0});
  auto t = bind_expected_outputs(std::move(twice), {"x"});
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.error().message(), HasSubstr("'x' is given twice ('x.npy' and 'output_0.pb')"));
}

TEST(OnnxTestData, InputsDirSeparatesInputsFromExpectedOutputs) {
  testing::TempDir dir;
  // .npy files named like ONNX test data are inputs; only output_<k>.pb are outputs.
  ASSERT_TRUE(write_npy(dir / "a.npy", floats("a", {1, 2}).view()).ok());
  ASSERT_TRUE(write_npy(dir / "output_0.npy", floats("", {3}).view()).ok());
  auto r = read_inputs_dir(dir.path());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->inputs.size(), 2u);
  EXPECT_TRUE(r->expected.empty());
  EXPECT_FALSE(read_inputs_dir(dir / "missing").ok());

  auto e = read_expected(dir / "a.npy");
  ASSERT_TRUE(e.ok()) << e.error();
  ASSERT_EQ(e->size(), 1u);
  EXPECT_EQ((*e)[0].tensor.name(), "a");
  EXPECT_FALSE((*e)[0].position);
  auto folder = read_expected(dir.path());
  ASSERT_TRUE(folder.ok()) << folder.error();
  EXPECT_EQ(folder->size(), 2u);
  auto none = read_expected(dir / "none.npy");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), ErrorCode::NotFound);
}

}  // namespace
}  // namespace aegisrt::io
