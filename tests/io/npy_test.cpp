// .npy / .npz reader and writer: round trips of every DType, interop with
// files written and read by real numpy, and every corrupt-file path.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "aegisrt/io/npy.h"
#include "aegisrt/io/npz.h"
#include "io/expected.h"
#include "io/io_test_util.h"

namespace aegisrt::io {
namespace {

using aegisrt::testing::expected_tensor;
using aegisrt::testing::make_npy;
using aegisrt::testing::same_bytes;
using aegisrt::testing::TempDir;
using aegisrt::testing::write_bytes;

const std::filesystem::path kNumpyDir = std::filesystem::path(AEGISRT_TEST_DATA_DIR) / "io";

std::string dtype_case_name(const ::testing::TestParamInfo<DType>& info) {
  return std::string(dtype_name(info.param));
}

class NpyDTypeTest : public ::testing::TestWithParam<DType> {};

TEST_P(NpyDTypeTest, RoundTripsThroughNpy) {
  TempDir dir;
  const Tensor t = expected_tensor(GetParam());
  const auto path = dir / "tensor_a.npy";
  ASSERT_TRUE(write_npy(path, t.view()).ok());
  auto back = read_npy(path);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_TRUE(same_bytes(*back, t));
  EXPECT_EQ(back->name(), "tensor_a");
}

TEST_P(NpyDTypeTest, ReadsTheFileNumpyWrote) {
  const auto path = kNumpyDir / ("np_" + std::string(dtype_name(GetParam())) + ".npy");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "numpy test files not generated (" << path << ")";
  auto t = read_npy(path);
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_TRUE(same_bytes(*t, expected_tensor(GetParam())));
}

INSTANTIATE_TEST_SUITE_P(AllDTypes, NpyDTypeTest, ::testing::ValuesIn(kAllDTypes), dtype_case_name);

TEST(Npy, HeaderMatchesNumpyLayout) {
  const Tensor t = expected_tensor(DType::Float32);
  auto bytes = encode_npy(t.view());
  ASSERT_TRUE(bytes.ok());
  const std::string head(reinterpret_cast<const char*>(bytes->data()), 128);
  EXPECT_EQ(head.substr(1, 5), "NUMPY");
  EXPECT_EQ(static_cast<int>((*bytes)[6]), 1);
  const std::size_t header_len = static_cast<std::size_t>((*bytes)[8]) | (static_cast<std::size_t>((*bytes)[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);  // data aligned to 64 bytes, as numpy does
  EXPECT_NE(head.find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }"), std::string::npos);
  EXPECT_EQ(bytes->size(), 10 + header_len + 24 * 4);
}

TEST(Npy, WritesOneDimAndScalarShapesAsPythonTuples) {
  float v[3] = {1, 2, 3};
  auto one = encode_npy(TensorView(v, {3}, DType::Float32));
  auto scalar = encode_npy(TensorView(v, {}, DType::Float32));
  ASSERT_TRUE(one.ok() && scalar.ok());
  EXPECT_NE(std::string(reinterpret_cast<const char*>(one->data()), 64).find("'shape': (3,)"), std::string::npos);
  EXPECT_NE(std::string(reinterpret_cast<const char*>(scalar->data()), 64).find("'shape': ()"), std::string::npos);
}

TEST(Npy, WritesAStridedViewInCOrder) {
  TempDir dir;
  // 2x3 row-major data viewed transposed (3x2, strides {1, 3}).
  const float data[6] = {0, 1, 2, 3, 4, 5};
  const TensorView transposed(data, {3, 2}, {1, 3}, DType::Float32);
  ASSERT_TRUE(write_npy(dir / "t.npy", transposed).ok());
  auto back = read_npy(dir / "t.npy");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->shape(), (Shape{3, 2}));
  const float want[6] = {0, 3, 1, 4, 2, 5};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(back->data_as<float>()[i], want[i]) << i;
}

TEST(Npy, ScalarAndEmptyRoundTrip) {
  TempDir dir;
  const std::int64_t s = -42;
  ASSERT_TRUE(write_npy(dir / "s.npy", TensorView(&s, {}, DType::Int64)).ok());
  auto back = read_npy(dir / "s.npy");
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->shape().empty());
  EXPECT_EQ(back->data_as<std::int64_t>()[0], -42);

  ASSERT_TRUE(write_npy(dir / "e.npy", TensorView(nullptr, {0, 5}, DType::Float16)).ok());
  auto empty = read_npy(dir / "e.npy");
  ASSERT_TRUE(empty.ok()) << empty.error();
  EXPECT_EQ(empty->shape(), (Shape{0, 5}));
  EXPECT_EQ(empty->element_count(), 0);
}

TEST(Npy, RejectsDeviceViews) {
  float v = 1;
  auto r = encode_npy(TensorView(&v, {1}, DType::Float32, Location::device(0)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
}

// --- files written by numpy -------------------------------------------------

class NumpyFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kNumpyDir / "np_float32.npy")) {
      GTEST_SKIP() << "numpy test files not generated in " << kNumpyDir
                   << " (target aegisrt_test_io_files needs the .venv with numpy, onnx, ml_dtypes)";
    }
  }
};

TEST_F(NumpyFiles, FortranOrderIsTransposedToCOrder) {
  for (auto [file, dtype] : {std::pair{"np_fortran_float32.npy", DType::Float32},
                             std::pair{"np_fortran_int64.npy", DType::Int64}}) {
    auto t = read_npy(kNumpyDir / file);
    ASSERT_TRUE(t.ok()) << t.error();
    EXPECT_TRUE(same_bytes(*t, expected_tensor(dtype))) << file;
  }
}

TEST_F(NumpyFiles, BigEndianIsByteSwapped) {
  auto f = read_npy(kNumpyDir / "np_be_float32.npy");
  auto i = read_npy(kNumpyDir / "np_be_int32.npy");
  ASSERT_TRUE(f.ok() && i.ok());
  EXPECT_TRUE(same_bytes(*f, expected_tensor(DType::Float32)));
  EXPECT_TRUE(same_bytes(*i, expected_tensor(DType::Int32)));
}

TEST_F(NumpyFiles, FormatVersions2And3) {
  for (const char* file : {"np_v2_float32.npy", "np_v3_float32.npy"}) {
    auto t = read_npy(kNumpyDir / file);
    ASSERT_TRUE(t.ok()) << t.error();
    EXPECT_TRUE(same_bytes(*t, expected_tensor(DType::Float32))) << file;
  }
}

TEST_F(NumpyFiles, ScalarAndEmpty) {
  auto s = read_npy(kNumpyDir / "np_scalar_float32.npy");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_TRUE(s->shape().empty());
  EXPECT_EQ(s->data_as<float>()[0], 3.5f);
  auto e = read_npy(kNumpyDir / "np_empty_float32.npy");
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_EQ(e->shape(), (Shape{0, 3}));
}

TEST_F(NumpyFiles, Float64IsFloat64UnlessNarrowingIsAsked) {
  auto r = read_npy(kNumpyDir / "np_float64.npy");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(same_bytes(*r, expected_tensor(DType::Float64)));
  ReadOptions o;
  o.float64_to_float32 = true;
  auto c = read_npy(kNumpyDir / "np_float64.npy", o);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(same_bytes(*c, expected_tensor(DType::Float32)));
}

TEST_F(NumpyFiles, UnsupportedDTypesNameTheDescr) {
  struct Case {
    const char* file;
    const char* part;
  };
  for (const auto& c : {Case{"np_complex64.npy", "'<c8'"}, Case{"np_v1_float8.npy", "'<V1'"},
                        Case{"np_object.npy", "pickled"}}) {
    auto r = read_npy(kNumpyDir / c.file);
    ASSERT_FALSE(r.ok()) << c.file;
    EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << r.error();
    EXPECT_NE(r.error().message().find(c.part), std::string::npos) << r.error();
    EXPECT_NE(r.error().message().find(c.file), std::string::npos) << r.error();
  }
}

TEST_F(NumpyFiles, StringsBigEndianFortranAndBytes) {
  for (const char* file : {"np_be_string.npy", "np_fortran_string.npy"}) {
    auto t = read_npy(kNumpyDir / file);
    ASSERT_TRUE(t.ok()) << t.error();
    EXPECT_TRUE(same_bytes(*t, expected_tensor(DType::String))) << file;
  }
  // |S strings are bytes, trailing NULs dropped as numpy does.
  auto b = read_npy(kNumpyDir / "np_bytes_string.npy");
  ASSERT_TRUE(b.ok()) << b.error();
  ASSERT_EQ(b->dtype(), DType::String);
  ASSERT_EQ(b->element_count(), 2);
  EXPECT_EQ(b->span<std::string>()[0], "ab");
  EXPECT_EQ(b->span<std::string>()[1], std::string("\xff\0c", 3));
}

TEST(Npy, NonUtf8StringsAreWrittenAsBytes) {
  TempDir dir;
  auto t = Tensor::from_strings({2}, {"ok", std::string("\xff\xfe", 2)}, "s");
  ASSERT_TRUE(t.ok()) << t.error();
  auto bytes = encode_npy(t->view());
  ASSERT_TRUE(bytes.ok()) << bytes.error();
  const std::string head(reinterpret_cast<const char*>(bytes->data()), 64);
  EXPECT_NE(head.find("'descr': '|S2'"), std::string::npos) << head;
  ASSERT_TRUE(write_npy(dir / "s.npy", t->view()).ok());
  auto back = read_npy(dir / "s.npy");
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_TRUE(same_bytes(*back, *t));
}

TEST(Npy, Int4FileBytesAreNibblesMemoryIsSignExtended) {
  // ml_dtypes stores int4 -1 as 0x0F; AegisRT holds it as int8 -1.
  auto r = decode_npy(make_npy("{'descr': 'int4', 'fortran_order': False, 'shape': (1,), }", 1, 1, std::byte{0x0F}),
                      "mem");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->data_as<std::int8_t>()[0], -1);
  auto bytes = encode_npy(r->view());
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->back(), std::byte{0x0F});
}

TEST(Npy, Int4OutOfRangeIsCorrupt) {
  // 0x20 is neither a 4-bit pattern (ml_dtypes' layout) nor a sign-extended int4.
  auto r = decode_npy(make_npy("{'descr': 'int4', 'fortran_order': False, 'shape': (2,), }", 2, 1, std::byte{0x20}),
                      "mem");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Corrupt) << r.error();
  EXPECT_NE(r.error().message().find("int4 element 0"), std::string::npos) << r.error();
}

TEST_F(NumpyFiles, NpzStoredAndDeflated) {
  for (const char* file : {"np_stored.npz", "np_deflated.npz"}) {
    auto r = read_npz(kNumpyDir / file);
    ASSERT_TRUE(r.ok()) << r.error();
    // Every DType except those np.savez writes as an ambiguous '<V1' (see gen_io_files.py).
    ASSERT_EQ(r->size(), std::size(kAllDTypes) - 5) << file;
    for (const auto& t : *r) {
      const auto dtype = parse_dtype(t.name());
      ASSERT_TRUE(dtype.has_value()) << t.name();
      EXPECT_TRUE(same_bytes(t, expected_tensor(*dtype))) << file << ":" << t.name();
    }
  }
}

TEST_F(NumpyFiles, NumpyReadsWhatWeWrite) {
  TempDir dir;
  std::vector<Tensor> keep;
  std::vector<NamedTensorView> named;
  for (DType d : kAllDTypes) {
    keep.push_back(expected_tensor(d));
    ASSERT_TRUE(write_npy(dir / ("ours_" + std::string(dtype_name(d)) + ".npy"), keep.back().view()).ok());
  }
  for (std::size_t i = 0; i < keep.size(); ++i) named.push_back({std::string(dtype_name(kAllDTypes[i])), keep[i].view()});
  ASSERT_TRUE(write_npz(dir / "ours_stored.npz", named, NpzCompression::Stored).ok());
  ASSERT_TRUE(write_npz(dir / "ours_deflated.npz", named, NpzCompression::Deflated).ok());
  const std::string cmd = std::string(AEGISRT_TEST_PYTHON) + " " + AEGISRT_SOURCE_DIR +
                          "/tests/io/check_numpy_reads.py " + dir.path().string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// --- .npz round trip ---------------------------------------------------------

class NpzTest : public ::testing::TestWithParam<NpzCompression> {};

TEST_P(NpzTest, RoundTripsEveryDTypeInOrder) {
  TempDir dir;
  std::vector<Tensor> keep;
  std::vector<NamedTensorView> named;
  for (DType d : kAllDTypes) keep.push_back(expected_tensor(d));
  for (std::size_t i = 0; i < keep.size(); ++i) named.push_back({"t" + std::to_string(i), keep[i].view()});
  ASSERT_TRUE(write_npz(dir / "a.npz", named, GetParam()).ok());
  auto back = read_npz(dir / "a.npz");
  ASSERT_TRUE(back.ok()) << back.error();
  ASSERT_EQ(back->size(), keep.size());
  for (std::size_t i = 0; i < keep.size(); ++i) {
    EXPECT_EQ((*back)[i].name(), "t" + std::to_string(i));
    EXPECT_TRUE(same_bytes((*back)[i], keep[i])) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Compression, NpzTest,
                         ::testing::Values(NpzCompression::Stored, NpzCompression::Deflated),
                         [](const auto& p) {
                           return p.param == NpzCompression::Stored ? "Stored" : "Deflated";
                         });

TEST(Npz, WriteRejectsDuplicateAndEmptyNames) {
  TempDir dir;
  const float v = 1;
  auto dup = write_npz(dir / "d.npz", {{"x", TensorView(&v, {1}, DType::Float32)}, {"x", TensorView(&v, {1}, DType::Float32)}});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code(), ErrorCode::InvalidArgument);
  auto unnamed = write_npz(dir / "u.npz", {{"", TensorView(&v, {1}, DType::Float32)}});
  ASSERT_FALSE(unnamed.ok());
  auto none = write_npz(dir / "n.npz", {});
  ASSERT_FALSE(none.ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "d.npz"));
}

TEST(Npz, CorruptArchives) {
  TempDir dir;
  const Tensor t = expected_tensor(DType::Float32);
  ASSERT_TRUE(write_npz(dir / "good.npz", {{"x", t.view()}}, NpzCompression::Stored).ok());
  auto bytes = aegisrt::testing::read_bytes(dir / "good.npz");

  // Not a zip at all.
  write_bytes(dir / "garbage.npz", std::vector<std::byte>(100, std::byte{0x41}));
  auto g = read_npz(dir / "garbage.npz");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code(), ErrorCode::Corrupt);
  EXPECT_NE(g.error().message().find("garbage.npz"), std::string::npos);

  // Truncated: the central directory is gone.
  write_bytes(dir / "cut.npz", std::vector<std::byte>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() / 2)));
  auto c = read_npz(dir / "cut.npz");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::Corrupt);

  // One flipped data byte in a stored entry: the CRC check catches it.
  auto flipped = bytes;
  const std::size_t data_at = bytes.size() / 3;  // inside the stored tensor data
  flipped[data_at] ^= std::byte{0xFF};
  write_bytes(dir / "crc.npz", flipped);
  auto f = read_npz(dir / "crc.npz");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code(), ErrorCode::Corrupt) << f.error();

  auto missing = read_npz(dir / "nope.npz");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::NotFound);
}

TEST_F(NumpyFiles, NpzEntryErrorsNameTheEntry) {
  auto bad = read_npz(kNumpyDir / "np_bad_entry.npz");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::Corrupt);
  EXPECT_NE(bad.error().message().find("np_bad_entry.npz' entry 'x.npy'"), std::string::npos) << bad.error();
  auto txt = read_npz(kNumpyDir / "np_txt_entry.npz");
  ASSERT_FALSE(txt.ok());
  EXPECT_EQ(txt.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(txt.error().message().find("'readme.txt'"), std::string::npos) << txt.error();
}

TEST(Npz, OversizedEntryIsRejectedBeforeReading) {
  TempDir dir;
  const Tensor t = expected_tensor(DType::Int64);
  ASSERT_TRUE(write_npz(dir / "a.npz", {{"x", t.view()}}, NpzCompression::Deflated).ok());
  ReadOptions small;
  small.max_tensor_bytes = 16;
  auto r = read_npz(dir / "a.npz", small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(r.error().message().find("read limit"), std::string::npos) << r.error();
}

// --- corrupt .npy files --------------------------------------------------------

struct CorruptCase {
  std::string label;
  std::vector<std::byte> bytes;
  ErrorCode code;
  std::string message_part;
};

std::vector<CorruptCase> corrupt_cases() {
  std::vector<CorruptCase> c;
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  auto truncated = make_npy(good, 24 - 4);
  c.push_back({"truncated_data", truncated, ErrorCode::Corrupt, "truncated"});
  c.push_back({"trailing_data", make_npy(good, 24 + 8), ErrorCode::Corrupt, "data size mismatch"});
  auto bad_magic = make_npy(good, 24);
  bad_magic[1] = std::byte{'X'};
  c.push_back({"bad_magic", bad_magic, ErrorCode::Corrupt, "bad magic"});
  c.push_back({"too_short", std::vector<std::byte>(5, std::byte{0x93}), ErrorCode::Corrupt, "too short"});
  auto header_cut = make_npy(good, 0);
  header_cut.resize(40);
  c.push_back({"header_cut", header_cut, ErrorCode::Corrupt, "truncated"});
  c.push_back({"missing_shape", make_npy("{'descr': '<f4', 'fortran_order': False, }", 24), ErrorCode::Corrupt, "no 'shape'"});
  c.push_back({"bad_bool", make_npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (6,), }", 24), ErrorCode::Corrupt, "True or False"});
  c.push_back({"not_a_dict", make_npy("['descr', '<f4']", 24), ErrorCode::Corrupt, "bad header dict"});
  c.push_back({"extra_key", make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1, }", 24), ErrorCode::Corrupt, "unexpected key 'x'"});
  c.push_back({"duplicate_key", make_npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", 24), ErrorCode::Corrupt, "duplicate key"});
  c.push_back({"negative_dim", make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 6), }", 24), ErrorCode::Corrupt, "negative"});
  c.push_back({"dim_overflows_int64", make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", 0), ErrorCode::Corrupt, "64 bits"});
  c.push_back({"huge_claimed_shape", make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000, 1000000), }", 24), ErrorCode::Unsupported, "read limit"});
  c.push_back({"product_overflows", make_npy("{'descr': '<i8', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }", 0), ErrorCode::Unsupported, "read limit"});
  c.push_back({"unsupported_descr", make_npy("{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", 24), ErrorCode::Unsupported, "'<c8'"});
  c.push_back({"structured_descr", make_npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", 24), ErrorCode::Unsupported, "structured"});
  auto v9 = make_npy(good, 24);
  v9[6] = std::byte{9};
  c.push_back({"unknown_version", v9, ErrorCode::Unsupported, "version 9.0"});
  auto huge_header = make_npy(good, 24);
  huge_header[8] = std::byte{0xFF};
  huge_header[9] = std::byte{0xFF};
  c.push_back({"header_len_beyond_file", huge_header, ErrorCode::Corrupt, "truncated"});
  // Header length 0 (issue 12 §9: memcpy to a null pointer, caught by UBSan),
  // in format 1.0 and 2.0, with and without bytes after the preamble.
  auto zero_v1 = make_npy(good, 24);
  zero_v1[8] = std::byte{0};
  zero_v1[9] = std::byte{0};
  c.push_back({"header_len_zero", zero_v1, ErrorCode::Corrupt, "bad header dict"});
  std::vector<std::byte> bare_v1(zero_v1.begin(), zero_v1.begin() + 10);
  c.push_back({"header_len_zero_no_data", bare_v1, ErrorCode::Corrupt, "bad header dict"});
  auto zero_v2 = make_npy(good, 24, 2);
  for (std::size_t i = 8; i < 12; ++i) zero_v2[i] = std::byte{0};
  c.push_back({"header_len_zero_v2", zero_v2, ErrorCode::Corrupt, "bad header dict"});
  return c;
}

class CorruptNpy : public ::testing::TestWithParam<CorruptCase> {};

TEST_P(CorruptNpy, GivesTypedErrorNamingTheFile) {
  TempDir dir;
  const auto& c = GetParam();
  const auto path = dir / ("bad_" + c.label + ".npy");
  write_bytes(path, c.bytes);
  auto r = read_npy(path);
  ASSERT_FALSE(r.ok()) << c.label;
  EXPECT_EQ(r.error().code(), c.code) << r.error();
  EXPECT_NE(r.error().message().find(path.string()), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find(c.message_part), std::string::npos) << r.error();
  // The in-memory decoder agrees.
  auto m = decode_npy(c.bytes, "mem");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), c.code) << m.error();
}

INSTANTIATE_TEST_SUITE_P(Cases, CorruptNpy, ::testing::ValuesIn(corrupt_cases()),
                         [](const auto& p) { return p.param.label; });

TEST(Npy, HandMadeHeadersThatNumpyAlsoAccepts) {
  TempDir dir;
  // ml_dtypes' own descr name, a Python 2 long suffix, '?' bool and extra padding.
  std::vector<std::byte> bf = make_npy("{'descr': 'bfloat16', 'fortran_order': False, 'shape': (2L,), }", 4);
  bf[bf.size() - 4] = std::byte{0x80};
  bf[bf.size() - 3] = std::byte{0x3F};  // 1.0 in bfloat16, little-endian 0x3F80
  write_bytes(dir / "bf.npy", bf);
  auto t = read_npy(dir / "bf.npy");
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->dtype(), DType::BFloat16);
  EXPECT_EQ(bfloat16_to_float(t->data_as<std::uint16_t>()[0]), 1.0f);

  write_bytes(dir / "b.npy", make_npy("{\"descr\": \"|b1\", \"shape\": (3,), \"fortran_order\": True}", 3, 1, std::byte{7}));
  auto b = read_npy(dir / "b.npy");
  ASSERT_TRUE(b.ok()) << b.error();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(b->data_as<std::uint8_t>()[i], 1) << "bools are normalised to 0/1";
}

TEST(Npy, SizeLimitAppliesToValidFiles) {
  TempDir dir;
  const Tensor t = expected_tensor(DType::Float32);
  ASSERT_TRUE(write_npy(dir / "a.npy", t.view()).ok());
  ReadOptions o;
  o.max_tensor_bytes = 64;
  auto r = read_npy(dir / "a.npy", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported);
  o.max_rank = 2;
  o.max_tensor_bytes = 1 << 20;
  auto rank = read_npy(dir / "a.npy", o);
  ASSERT_FALSE(rank.ok());
  EXPECT_NE(rank.error().message().find("rank"), std::string::npos);
}

TEST(Npy, MissingFileAndDirectory) {
  TempDir dir;
  auto missing = read_npy(dir / "nope.npy");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::NotFound);
  EXPECT_NE(missing.error().message().find("nope.npy"), std::string::npos);
  auto d = read_npy(dir.path());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), ErrorCode::InvalidArgument);  // "is a directory, not a regular file"
}

TEST(Npy, WriteIntoMissingFolderIsIoError) {
  TempDir dir;
  const float v = 1;
  auto r = write_npy(dir / "no/such/dir/a.npy", TensorView(&v, {1}, DType::Float32));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::IoError);
  EXPECT_NE(r.error().message().find("a.npy"), std::string::npos);
}

}  // namespace
}  // namespace aegisrt::io
