// `aegisrt exec` and `aegisrt compare` end to end: the real binary on small
// ONNX models, outputs checked against numpy references or hand computation.
// Tests that need a backend skip (with the reason) when it is not compiled in.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "aegisrt/backend/registry.h"
#include "aegisrt/build_config.h"
#include "aegisrt/io/npy.h"
#include "aegisrt/io/tensor_proto.h"
#include "cli/cli_test_util.h"

namespace aegisrt::cli_test {
namespace {

using aegisrt::testing::TempDir;
using aegisrt::testing::CliRun;
using aegisrt::testing::run_cli;
namespace fs = std::filesystem;

const fs::path kModels = fs::path(AEGISRT_TEST_DATA_DIR) / "models";
const fs::path kCli = fs::path(AEGISRT_TEST_DATA_DIR) / "cli";

nlohmann::json parse_json(const CliRun& r) {
  auto j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "stdout is not JSON:\n" << r.out << "\nstderr:\n" << r.err;
  return j;
}

Tensor load(const fs::path& p) {
  auto t = io::read_npy(p);
  EXPECT_TRUE(t.ok()) << p << ": " << (t.ok() ? std::string() : t.error().to_string());
  return t.ok() ? std::move(t).value() : Tensor{};
}

void expect_same_values(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  if (got.dtype() == DType::Float32) {
    for (std::int64_t i = 0; i < got.element_count(); ++i)
      EXPECT_NEAR(got.data_as<float>()[i], want.data_as<float>()[i], 1e-6) << what << "[" << i << "]";
  } else {
    EXPECT_EQ(std::memcmp(got.data(), want.data(), got.byte_size()), 0) << what;
  }
}

class ExecCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kModels / "affine.onnx") || !fs::exists(kCli / "multi.onnx")) {
      GTEST_SKIP() << "test models not generated (targets aegisrt_test_models, aegisrt_test_cli_models)";
    }
  }
  TempDir dir_;
};

#define NEED_ONNXRUNTIME()                                                                       \
  do {                                                                                           \
    if (!build::kHaveOnnxRuntime) GTEST_SKIP() << "ONNX Runtime backend not compiled in "        \
                                                  "(AEGISRT_WITH_ONNXRUNTIME; third_party/onnxruntime)"; \
  } while (0)

// --- no backend needed ---------------------------------------------------------

TEST_F(ExecCli, UnknownBackendIsAnInvalidSelection) {
  auto r = run_cli("exec -m " + (kModels / "affine.onnx").string() + " --backend nosuch", dir_);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("unknown backend 'nosuch'"), std::string::npos) << r.err;
}

TEST_F(ExecCli, BackendNotCompiledInSaysWhichOption) {
  const KnownBackend* absent = nullptr;
  const auto known = known_backends();
  for (const auto& k : known)
    if (!k.compiled_in) absent = &k;
  if (absent == nullptr) GTEST_SKIP() << "every known backend is compiled in; nothing to refuse";
  auto r = run_cli("exec -m " + (kModels / "affine.onnx").string() + " --backend " + std::string(absent->name), dir_);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find(std::string(absent->cmake_option)), std::string::npos) << r.err;
}

TEST_F(ExecCli, MissingRequiredFlagIsUsageError) {
  auto r = run_cli("exec --backend onnx", dir_);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  auto c = run_cli("compare -m x.onnx --backends onnx", dir_);
  EXPECT_EQ(c.exit_code, 3) << c.err;
  EXPECT_NE(c.err.find("at least two"), std::string::npos) << c.err;
}

// --- ONNX Runtime ----------------------------------------------------------------

TEST_F(ExecCli, AffineFromFileMatchesHandComputation) {
  NEED_ONNXRUNTIME();
  auto x = Tensor::allocate_host({3, 4}, DType::Float32, "x").value();
  for (int i = 0; i < 12; ++i) x.data_as<float>()[i] = static_cast<float>(i) * 0.5f - 2.0f;
  ASSERT_TRUE(io::write_npy(dir_ / "x.npy", x.view()).ok());
  auto r = run_cli("exec -m " + (kModels / "affine.onnx").string() + " --input x=" + (dir_ / "x.npy").string() +
                       " --save-outputs " + (dir_ / "out").string() + " --json",
                   dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = parse_json(r);
  EXPECT_EQ(j["backend"], "onnx");
  ASSERT_EQ(j["outputs"].size(), 1u);
  EXPECT_EQ(j["outputs"][0]["name"], "y");
  EXPECT_EQ(j["outputs"][0]["dtype"], "float32");
  EXPECT_EQ(j["outputs"][0]["shape"], nlohmann::json::array({3, 4}));
  EXPECT_EQ(j["latency_ms"]["iterations"], 1);
  const auto y = load(j["outputs"][0]["file"].get<std::string>());
  ASSERT_EQ(y.shape(), (Shape{3, 4}));
  for (int i = 0; i < 12; ++i) EXPECT_FLOAT_EQ(y.data_as<float>()[i], 2.0f * (i * 0.5f - 2.0f) + 1.0f) << i;
  EXPECT_FLOAT_EQ(j["outputs"][0]["min"].get<float>(), -3.0f);  // x = -2
  EXPECT_FLOAT_EQ(j["outputs"][0]["max"].get<float>(), 8.0f);   // x = 3.5
}

TEST_F(ExecCli, RandomInputsAreSeededAndShapedByFlag) {
  NEED_ONNXRUNTIME();
  const std::string base = "exec -m " + (kModels / "affine.onnx").string() + " --shape x=5x4 --iterations 3 --json";
  auto a = run_cli(base + " --seed 9 --save-inputs " + (dir_ / "in_a").string() + " --save-outputs " +
                       (dir_ / "out_a").string(),
                   dir_);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const auto j = parse_json(a);
  EXPECT_EQ(j["inputs"][0]["source"], "random(seed=9)");
  EXPECT_EQ(j["latency_ms"]["iterations"], 3);
  const auto x = load(dir_ / "in_a" / "x.npy");
  const auto y = load(dir_ / "out_a" / "y.npy");
  ASSERT_EQ(x.shape(), (Shape{5, 4}));
  for (int i = 0; i < 20; ++i) EXPECT_FLOAT_EQ(y.data_as<float>()[i], 2.0f * x.data_as<float>()[i] + 1.0f);

  auto b = run_cli(base + " --seed 9 --save-inputs " + (dir_ / "in_b").string(), dir_);
  auto c = run_cli(base + " --seed 10 --save-inputs " + (dir_ / "in_c").string(), dir_);
  ASSERT_EQ(b.exit_code, 0);
  ASSERT_EQ(c.exit_code, 0);
  const auto xb = load(dir_ / "in_b" / "x.npy");
  const auto xc = load(dir_ / "in_c" / "x.npy");
  EXPECT_EQ(std::memcmp(x.data(), xb.data(), x.byte_size()), 0) << "same seed, same data";
  EXPECT_NE(std::memcmp(x.data(), xc.data(), x.byte_size()), 0) << "other seed, other data";
}

TEST_F(ExecCli, DynamicDimWithoutShapeNamesInputAndDim) {
  NEED_ONNXRUNTIME();
  auto r = run_cli("exec -m " + (kModels / "affine.onnx").string(), dir_);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("input 'x' has dynamic dimension 0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--shape"), std::string::npos) << r.err;
}

TEST_F(ExecCli, MultiInputMultiOutputMatchesNumpy) {
  NEED_ONNXRUNTIME();
  const auto ref = kCli / "multi_ref";
  auto r = run_cli("exec -m " + (kCli / "multi.onnx").string() + " -i a=" + (ref / "a.npy").string() + " -i b=" +
                       (ref / "b.npy").string() + " --save-outputs " + (dir_ / "out").string(),
                   dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"s", "c", "p"}) {
    expect_same_values(load(dir_ / "out" / (std::string(name) + ".npy")), load(ref / (std::string(name) + ".npy")), name);
  }
  // Human-readable report names outputs, dtypes and latency.
  EXPECT_NE(r.out.find("bool"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("int64"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("latency"), std::string::npos) << r.out;
}

TEST_F(ExecCli, OnnxTestDataLayoutAndFloat64Inputs) {
  NEED_ONNXRUNTIME();
  const auto ref = kCli / "multi_ref";
  if (io::tensor_proto_supported()) {
    auto r = run_cli("exec -m " + (kCli / "multi.onnx").string() + " --inputs-dir " + (kCli / "multi_pb").string() +
                         " --save-outputs " + (dir_ / "pb").string(),
                     dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_same_values(load(dir_ / "pb" / "s.npy"), load(ref / "s.npy"), "s from .pb inputs");
    expect_same_values(load(dir_ / "pb" / "c.npy"), load(ref / "c.npy"), "c from .pb inputs");
  }
  auto f = run_cli("exec -m " + (kCli / "multi.onnx").string() + " -i a=" + (kCli / "a_f64.npy").string() +
                       " -i b=" + (ref / "b.npy").string() + " --save-outputs " + (dir_ / "f64").string(),
                   dir_);
  ASSERT_EQ(f.exit_code, 0) << f.err;
  expect_same_values(load(dir_ / "f64" / "s.npy"), load(ref / "s.npy"), "s from float64 input");
  // A file with the wrong dtype is refused, naming input and file.
  auto bad = run_cli("exec -m " + (kCli / "multi.onnx").string() + " -i a=" + (ref / "b.npy").string() +
                         " -i b=" + (ref / "b.npy").string(),
                     dir_);
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.err.find("input 'a'"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("b.npy"), std::string::npos) << bad.err;
}

// ONNX's test-data layout: input_<k>.pb bind as inputs, output_<k>.pb are the
// expected outputs (checked, never bound as inputs); exit 1 on a mismatch.
TEST_F(ExecCli, OnnxTestDataFolderChecksExpectedOutputs) {
  NEED_ONNXRUNTIME();
  if (!io::tensor_proto_supported()) GTEST_SKIP() << "built without ONNX TensorProto (.pb) support";
  const auto sets = kCli / "multi_testdata";
  auto r = run_cli("exec -m " + (kCli / "multi.onnx").string() + " --inputs-dir " +
                       (sets / "test_data_set_0").string() + " --json",
                   dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto j = parse_json(r);
  ASSERT_EQ(j["inputs"].size(), 2u);
  EXPECT_NE(j["inputs"][0]["source"].get<std::string>().find("input_0.pb"), std::string::npos) << j.dump();
  EXPECT_TRUE(j["passed"].get<bool>());
  const auto& ex = j["expected"];
  EXPECT_TRUE(ex["passed"].get<bool>());
  ASSERT_EQ(ex["outputs"].size(), 3u);  // s by name, c and p by position
  std::set<std::string> names;
  for (const auto& o : ex["outputs"]) {
    names.insert(o["name"].get<std::string>());
    EXPECT_TRUE(o["passed"].get<bool>()) << o.dump();
    EXPECT_EQ(o["mismatches"], 0);
  }
  EXPECT_EQ(names, (std::set<std::string>{"s", "c", "p"}));

  // One planted error of 0.01 in output_0.pb (s[1][2] = -5.5 + 0.01): exit 1, the error named per output.
  const std::string bad = "exec -m " + (kCli / "multi.onnx").string() + " --inputs-dir " +
                          (sets / "test_data_set_1").string();
  auto f = run_cli(bad + " --json", dir_);
  EXPECT_EQ(f.exit_code, 1) << f.err << f.out;
  const auto fj = parse_json(f);
  EXPECT_FALSE(fj["passed"].get<bool>());
  for (const auto& o : fj["expected"]["outputs"]) {
    if (o["name"] == "s") {
      EXPECT_FALSE(o["passed"].get<bool>());
      EXPECT_EQ(o["mismatches"], 1);
      EXPECT_NEAR(o["max_abs_error"].get<double>(), 0.01, 1e-6);
      // relative to the expected value (the reference): 3 * -1.5 - 1 + 0.01
      EXPECT_NEAR(o["max_rel_error"].get<double>(), 0.01 / 5.49, 1e-6);
      EXPECT_EQ(o["worst"]["index"], nlohmann::json::array({1, 2}));
    } else {
      EXPECT_TRUE(o["passed"].get<bool>()) << o.dump();
    }
  }
  auto text = run_cli(bad, dir_);
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("FAIL"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("max abs 0.0100002, max rel 0.00182154, 1/6 outside tolerance"), std::string::npos)
      << text.out;  // float32(-5.49) + 5.5
  EXPECT_NE(text.out.find("max rel "), std::string::npos) << text.out;
  // Tolerances decide; --no-expected skips the check.
  EXPECT_EQ(run_cli(bad + " --atol 0.02", dir_).exit_code, 0);
  EXPECT_EQ(run_cli(bad + " --rtol 0.003", dir_).exit_code, 0);
  EXPECT_EQ(run_cli(bad + " --no-expected", dir_).exit_code, 0);
}

TEST_F(ExecCli, ExpectedFromFileOrFolder) {
  NEED_ONNXRUNTIME();
  const auto ref = kCli / "multi_ref";
  const std::string base = "exec -m " + (kCli / "multi.onnx").string() + " -i a=" + (ref / "a.npy").string() +
                           " -i b=" + (ref / "b.npy").string();
  auto one = run_cli(base + " --expected " + (ref / "s.npy").string() + " --json", dir_);
  ASSERT_EQ(one.exit_code, 0) << one.err << one.out;
  const auto j = parse_json(one);
  ASSERT_EQ(j["expected"]["outputs"].size(), 1u);
  EXPECT_EQ(j["expected"]["outputs"][0]["name"], "s");
  EXPECT_EQ(j["expected"]["outputs"][0]["max_abs_error"].get<double>(), 0.0);

  auto bad = run_cli(base + " --expected " + (kCli / "multi_expected_bad").string(), dir_);
  EXPECT_EQ(bad.exit_code, 1) << bad.err << bad.out;
  EXPECT_NE(bad.out.find("FAIL"), std::string::npos) << bad.out;

  // An expected tensor that names no output is refused, naming it and the outputs.
  auto wrong = run_cli(base + " --expected " + (ref / "a.npy").string(), dir_);
  EXPECT_EQ(wrong.exit_code, 3) << wrong.err;
  EXPECT_NE(wrong.err.find("expected tensor 'a'"), std::string::npos) << wrong.err;
  EXPECT_NE(wrong.err.find("'s', 'c', 'p'"), std::string::npos) << wrong.err;

  auto missing = run_cli(base + " --expected " + (dir_ / "nope.npy").string(), dir_);
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
}

// --json: stdout holds exactly one JSON object even while the library warns
// (here ONNX Runtime's optimised-model cache is unusable and rebuilt);
// warnings go to stderr.
TEST_F(ExecCli, JsonStdoutIsOnlyJsonWhileACacheWarns) {
  NEED_ONNXRUNTIME();
  const auto cache = dir_ / "opt" / "affine.opt.onnx";
  const std::string cmd = "exec -m " + (kModels / "affine.onnx").string() +
                          " --shape x=2x4 --backend-option optimized_model_path=" + cache.string() + " --json";
  auto first = run_cli(cmd, dir_);
  ASSERT_EQ(first.exit_code, 0) << first.err << first.out;
  parse_json(first);
  ASSERT_TRUE(fs::exists(cache)) << "ONNX Runtime wrote no optimised model";
  {
    std::ofstream corrupt(cache, std::ios::binary | std::ios::trunc);
    corrupt << "not an onnx model";
  }
  auto r = run_cli(cmd, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.err.find("rebuilding"), std::string::npos) << "no cache warning on stderr:\n" << r.err;
  const auto j = parse_json(r);  // the whole of stdout
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["backend"], "onnx");
  EXPECT_EQ(r.out.find("warn"), std::string::npos) << r.out;
}

TEST_F(ExecCli, CompareSameModelPasses) {
  NEED_ONNXRUNTIME();
  auto r = run_cli("compare -m " + (kCli / "multi.onnx").string() + " --backends onnx,onnx --shape a=4x3 --json", dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto j = parse_json(r);
  EXPECT_TRUE(j["passed"].get<bool>());
  ASSERT_EQ(j["comparisons"].size(), 1u);
  EXPECT_EQ(j["comparisons"][0]["outputs"].size(), 3u);
}

TEST_F(ExecCli, ComparePlantedDifferenceFails) {
  NEED_ONNXRUNTIME();
  const std::string base = "compare -m " + (kModels / "affine.onnx").string() + " --backends onnx,onnx@" +
                           (kCli / "affine_b3.onnx").string() + " --shape x=2x4";
  auto r = run_cli(base + " --json", dir_);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto j = parse_json(r);
  EXPECT_FALSE(j["passed"].get<bool>());
  const auto& y = j["comparisons"][0]["outputs"][0];
  EXPECT_EQ(y["name"], "y");
  EXPECT_FALSE(y["passed"].get<bool>());
  EXPECT_EQ(y["mismatches"], 8);
  EXPECT_NEAR(y["max_abs_error"].get<double>(), 2.0, 1e-6);  // bias 3 vs 1
  EXPECT_NEAR(y["worst"]["actual"].get<double>() - y["worst"]["reference"].get<double>(), 2.0, 1e-6);
  EXPECT_EQ(y["worst"]["index"].size(), 2u);

  auto text = run_cli(base, dir_);
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("FAIL"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("worst at ["), std::string::npos) << text.out;

  auto loose = run_cli(base + " --atol 2.5", dir_);
  EXPECT_EQ(loose.exit_code, 0) << loose.out << loose.err;
}

TEST_F(ExecCli, CompareOnnxAgainstTvm) {
  NEED_ONNXRUNTIME();
  if (!build::kHaveTvm) GTEST_SKIP() << "TVM backend not compiled in (AEGISRT_WITH_TVM)";
  auto r = run_cli("compare -m " + (kCli / "multi.onnx").string() + " --backends onnx,tvm --shape a=2x3 --cache-dir " +
                       (dir_ / "cache").string() + " --json",
                   dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_TRUE(parse_json(r)["passed"].get<bool>());
}

}  // namespace
}  // namespace aegisrt::cli_test
