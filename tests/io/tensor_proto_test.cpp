// .pb TensorProto reading against files written by the onnx Python package
// (raw_data and typed fields), plus the tensor-file dispatch helpers.
#include <gtest/gtest.h>

#include "aegisrt/io/npy.h"
#include "aegisrt/io/tensor_files.h"
#include "aegisrt/io/tensor_proto.h"
#include "io/expected.h"
#include "io/io_test_util.h"

namespace aegisrt::io {
namespace {

using aegisrt::testing::expected_tensor;
using aegisrt::testing::same_bytes;
using aegisrt::testing::TempDir;

const std::filesystem::path kDir = std::filesystem::path(AEGISRT_TEST_DATA_DIR) / "io";

class TensorProtoFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!tensor_proto_supported()) GTEST_SKIP() << "built without libonnx-dev/libprotobuf-dev (.pb support off)";
    if (!std::filesystem::exists(kDir / "tp_raw_float32.pb")) {
      GTEST_SKIP() << "onnx-written test files missing in " << kDir << " (target aegisrt_test_io_files)";
    }
  }
};

TEST_F(TensorProtoFiles, RawDataForEveryDType) {
  for (DType d : kAllDTypes) {
    if (d == DType::String || d == DType::BFloat16) continue;  // strings have no raw_data; see gen_io_files.py
    const std::string k(dtype_name(d));
    auto t = read_tensor_proto(kDir / ("tp_raw_" + k + ".pb"));
    ASSERT_TRUE(t.ok()) << k << ": " << t.error();
    EXPECT_TRUE(same_bytes(*t, expected_tensor(d))) << k;
    EXPECT_EQ(t->name(), "t_" + k);
  }
}

TEST_F(TensorProtoFiles, TypedFieldsForEveryDType) {
  for (DType d : kAllDTypes) {
    const std::string k(dtype_name(d));
    auto t = read_tensor_proto(kDir / ("tp_typed_" + k + ".pb"));
    ASSERT_TRUE(t.ok()) << k << ": " << t.error();
    EXPECT_TRUE(same_bytes(*t, expected_tensor(d))) << k;
    EXPECT_EQ(t->name(), "typed_" + k);
  }
}

TEST_F(TensorProtoFiles, DoubleIsFloat64OrNarrowedOnRequest) {
  auto r = read_tensor_proto(kDir / "tp_typed_float64.pb");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(same_bytes(*r, expected_tensor(DType::Float64)));
  ReadOptions o;
  o.float64_to_float32 = true;
  auto c = read_tensor_proto(kDir / "tp_typed_float64.pb", o);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(same_bytes(*c, expected_tensor(DType::Float32)));
}

TEST_F(TensorProtoFiles, UnnamedTensorTakesTheFileStem) {
  auto t = read_tensor_proto(kDir / "tp_unnamed.pb");
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->name(), "tp_unnamed");
  EXPECT_TRUE(same_bytes(*t, expected_tensor(DType::Int64)));
}

TEST_F(TensorProtoFiles, BadFilesGiveTypedErrors) {
  struct Case {
    const char* file;
    ErrorCode code;
    const char* part;
  };
  for (const auto& c : {Case{"tp_complex64.pb", ErrorCode::Unsupported, "COMPLEX64"},
                        Case{"tp_external.pb", ErrorCode::Unsupported, "external"},
                        Case{"tp_mismatch.pb", ErrorCode::Corrupt, "raw_data holds 96 bytes"},
                        Case{"np_float32.npy", ErrorCode::Corrupt, ""}}) {
    auto r = read_tensor_proto(kDir / c.file);
    ASSERT_FALSE(r.ok()) << c.file;
    EXPECT_EQ(r.error().code(), c.code) << r.error();
    EXPECT_NE(r.error().message().find(c.file), std::string::npos) << r.error();
    EXPECT_NE(r.error().message().find(c.part), std::string::npos) << r.error();
  }
  ReadOptions small;
  small.max_tensor_bytes = 8;
  auto big = read_tensor_proto(kDir / "tp_raw_float32.pb", small);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code(), ErrorCode::Unsupported);
}

TEST(TensorProto, MissingFile) {
  auto r = read_tensor_proto("/nonexistent/x.pb");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), tensor_proto_supported() ? ErrorCode::NotFound : ErrorCode::Unsupported);
}

// --- tensor_files.h ------------------------------------------------------------

TEST(TensorFiles, FormatByExtension) {
  EXPECT_EQ(tensor_file_format("a/b.npy"), TensorFileFormat::Npy);
  EXPECT_EQ(tensor_file_format("B.NPZ"), TensorFileFormat::Npz);
  EXPECT_EQ(tensor_file_format("input_0.pb"), TensorFileFormat::TensorProto);
  EXPECT_FALSE(tensor_file_format("x.onnx").has_value());
  auto r = read_tensor_file("x.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
}

TEST(TensorFiles, FileStemsAreSafe) {
  EXPECT_EQ(tensor_file_stem("images"), "images");
  EXPECT_EQ(tensor_file_stem("images:0"), "images_0");
  EXPECT_EQ(tensor_file_stem("a/b c"), "a_b_c");
  EXPECT_EQ(tensor_file_stem(""), "tensor");
  EXPECT_EQ(tensor_file_stem(".."), "tensor");
}

TEST(TensorFiles, WriteTensorsMakesCollidingStemsUnique) {
  TempDir dir;
  std::vector<Tensor> ts;
  ts.push_back(expected_tensor(DType::Float32, "out:0"));
  ts.push_back(expected_tensor(DType::Int64, "out/0"));
  auto paths = write_tensors_npy(dir / "sub", ts);
  ASSERT_TRUE(paths.ok()) << paths.error();
  ASSERT_EQ(paths->size(), 2u);
  EXPECT_EQ((*paths)[0].filename(), "out_0.npy");
  EXPECT_EQ((*paths)[1].filename(), "out_0_1.npy");
  auto back = read_npy((*paths)[1]);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(same_bytes(*back, ts[1]));
}

TEST(TensorFiles, DirectoryOfMixedFiles) {
  TempDir dir;
  const Tensor a = expected_tensor(DType::Float32);
  const Tensor b = expected_tensor(DType::Int8);
  ASSERT_TRUE(write_npy(dir / "a.npy", a.view()).ok());
  ASSERT_TRUE(write_npy(dir / "b.npy", b.view()).ok());
  std::ofstream(dir / "notes.txt") << "ignored";
  auto r = read_tensor_dir(dir.path());
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name(), "a");
  EXPECT_EQ((*r)[1].name(), "b");
  EXPECT_TRUE(same_bytes((*r)[1], b));

  if (tensor_proto_supported() && std::filesystem::exists(kDir / "tp_raw_int8.pb")) {
    // tp_raw_int8.pb holds a tensor named t_int8; a.npy-style duplicate name is refused.
    ASSERT_TRUE(write_npy(dir / "t_int8.npy", b.view()).ok());
    std::filesystem::copy_file(kDir / "tp_raw_int8.pb", dir / "z.pb");
    auto dup = read_tensor_dir(dir.path());
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(dup.error().message().find("t_int8"), std::string::npos) << dup.error();
  }
  auto nodir = read_tensor_dir(dir / "missing");
  ASSERT_FALSE(nodir.ok());
  EXPECT_EQ(nodir.error().code(), ErrorCode::NotFound);
}

}  // namespace
}  // namespace aegisrt::io
