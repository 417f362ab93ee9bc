// Matching user tensors to model inputs, random fill and shape parsing.
#include <gtest/gtest.h>

#include <cstring>

#include "aegisrt/io/inputs.h"

namespace aegisrt::io {
namespace {

Tensor filled(const std::string& name, Shape shape, DType dtype) {
  return Tensor::allocate_host(std::move(shape), dtype, name).value();
}

const std::vector<TensorDesc> kSpecs = {{"images", {kDynamicDim, 3, 8, 8}, DType::Float32},
                                        {"ids", {2}, DType::Int64}};

TEST(ParseShape, AcceptsXAndCommaForms) {
  EXPECT_EQ(parse_shape("1x3x224x224").value(), (Shape{1, 3, 224, 224}));
  EXPECT_EQ(parse_shape("2,5").value(), (Shape{2, 5}));
  EXPECT_EQ(parse_shape("0").value(), (Shape{0}));
  EXPECT_TRUE(parse_shape("").value().empty());
  EXPECT_TRUE(parse_shape("scalar").value().empty());
  for (const char* bad : {"1x", "x1", "1x-3", "ax3", "1xx2", "1.5"}) {
    auto r = parse_shape(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  }
  auto named = parse_named_shape("images=1x3x8x8");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->first, "images");
  EXPECT_EQ(named->second, (Shape{1, 3, 8, 8}));
  EXPECT_FALSE(parse_named_shape("1x3").ok());
  EXPECT_FALSE(parse_named_shape("=1x3").ok());
}

TEST(RandomTensor, IsDeterministicAndInRange) {
  auto a = random_tensor("x", {4, 64}, DType::Float32, 7, 0).value();
  auto b = random_tensor("x", {4, 64}, DType::Float32, 7, 0).value();
  auto c = random_tensor("x", {4, 64}, DType::Float32, 8, 0).value();
  auto d = random_tensor("x", {4, 64}, DType::Float32, 7, 1).value();
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.byte_size()), 0);
  EXPECT_NE(std::memcmp(a.data(), c.data(), a.byte_size()), 0) << "seed must matter";
  EXPECT_NE(std::memcmp(a.data(), d.data(), a.byte_size()), 0) << "stream must matter";
  float lo = 1, hi = 0;
  for (float v : a.span<float>()) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LT(v, 1.0f);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_LT(lo, 0.1f) << "256 uniform samples should spread over [0,1)";
  EXPECT_GT(hi, 0.9f);
  auto ints = random_tensor("i", {256}, DType::Int64, 3).value();
  int ones = 0;
  for (auto v : ints.span<std::int64_t>()) {
    ASSERT_TRUE(v == 0 || v == 1) << v;
    ones += static_cast<int>(v);
  }
  EXPECT_GT(ones, 64);
  EXPECT_LT(ones, 192);
  auto half = random_tensor("h", {16}, DType::Float16, 3).value();
  for (auto v : half.span<std::uint16_t>()) {
    const float f = half_to_float(v);
    EXPECT_GE(f, 0.0f);
    EXPECT_LE(f, 1.0f);
  }
}

TEST(PrepareInputs, FillsMissingInputsWithDynamicDimsFromShapes) {
  std::map<std::string, Shape, std::less<>> shapes{{"images", {2, 3, 8, 8}}};
  auto r = prepare_inputs_for(kSpecs, {}, shapes, 5);
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->tensors.size(), 2u);
  EXPECT_EQ(r->tensors[0].name(), "images");
  EXPECT_EQ(r->tensors[0].shape(), (Shape{2, 3, 8, 8}));
  EXPECT_EQ(r->tensors[1].shape(), (Shape{2}));
  EXPECT_EQ(r->tensors[1].dtype(), DType::Int64);
  EXPECT_EQ(r->origins[0], "random(seed=5)");
  const auto views = r->views();
  EXPECT_EQ(views[1].name, "ids");
  // Inputs get different streams: same seed, different data for same-shaped inputs.
  auto again = prepare_inputs_for(kSpecs, {}, shapes, 5).value();
  EXPECT_EQ(std::memcmp(again.tensors[0].data(), r->tensors[0].data(), r->tensors[0].byte_size()), 0);
}

TEST(PrepareInputs, DynamicDimWithoutShapeNamesInputAndDim) {
  auto r = prepare_inputs_for(kSpecs, {}, {}, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("'images'"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("dynamic dimension 0"), std::string::npos) << r.error();
}

TEST(PrepareInputs, ProvidedTensorsByNameAndPosition) {
  std::vector<ProvidedTensor> p;
  p.push_back({filled("input_1", {2}, DType::Int64), "'b.pb'"});  // positional: second input
  p.push_back({filled("images", {1, 3, 8, 8}, DType::Float32), "'a.npy'"});
  p[0].tensor.data_as<std::int64_t>()[1] = 77;
  auto r = prepare_inputs_for(kSpecs, std::move(p), {}, 0);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->tensors[1].name(), "ids");
  EXPECT_EQ(r->tensors[1].data_as<std::int64_t>()[1], 77);
  EXPECT_EQ(r->origins[0], "'a.npy'");
  EXPECT_EQ(r->origins[1], "'b.pb'");
}

TEST(PrepareInputs, RejectsWhatTheModelCannotTake) {
  struct Case {
    const char* label;
    std::vector<std::pair<Tensor, std::string>> given;
    std::map<std::string, Shape, std::less<>> shapes;
    const char* part;
  };
  std::vector<Case> cases;
  auto one = [](Tensor t, std::string o) {
    std::vector<std::pair<Tensor, std::string>> v;
    v.emplace_back(std::move(t), std::move(o));
    return v;
  };
  cases.push_back({"unknown", one(filled("nope", {1}, DType::Float32), "'n.npy'"), {}, "matches no model input"});
  cases.push_back({"dtype", one(filled("ids", {2}, DType::Int32), "'i.npy'"), {}, "has dtype int32, the model expects int64"});
  cases.push_back({"shape", one(filled("images", {1, 4, 8, 8}, DType::Float32), "'x.npy'"), {}, "has shape 1x4x8x8"});
  cases.push_back({"shape_vs_file", one(filled("images", {1, 3, 8, 8}, DType::Float32), "'x.npy'"),
                   {{"images", {2, 3, 8, 8}}}, "disagrees with 'x.npy'"});
  cases.push_back({"unknown_shape", {}, {{"bogus", {1}}}, "unknown input 'bogus'"});
  cases.push_back({"shape_mismatch", {}, {{"images", {1, 3, 9, 8}}}, "does not fit"});
  {
    std::vector<std::pair<Tensor, std::string>> twice;
    twice.emplace_back(filled("ids", {2}, DType::Int64), "'a.npy'");
    twice.emplace_back(filled("input_1", {2}, DType::Int64), "'b.pb'");
    cases.push_back({"twice", std::move(twice), {{"images", {1, 3, 8, 8}}}, "given twice ('a.npy' and 'b.pb')"});
  }
  for (auto& c : cases) {
    std::vector<ProvidedTensor> p;
    for (auto& [t, o] : c.given) p.push_back({std::move(t), o});
    auto r = prepare_inputs_for(kSpecs, std::move(p), c.shapes, 0);
    ASSERT_FALSE(r.ok()) << c.label;
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument) << c.label;
    EXPECT_NE(r.error().message().find(c.part), std::string::npos) << c.label << ": " << r.error();
  }
}

}  // namespace
}  // namespace aegisrt::io
