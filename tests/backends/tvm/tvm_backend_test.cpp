// TVM backend beyond the conformance suite: real models against numpy
// references (saved by tests/data/gen_onnx_models.py) and against ONNX
// Runtime, the cache round trip (hit, rebuild on a changed model), option and
// artefact errors.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "aegisrt/backend/registry.h"
#include "aegisrt/cache/sha256.h"
#include "aegisrt/io/npy.h"
#include "backends/tvm/tvm_test_util.h"
#include "common/temp_dir.h"
#include "conformance/conformance.h"
#include "conformance/mock_case.h"

namespace aegisrt::testing {
namespace {

namespace fs = std::filesystem;

std::vector<Tensor> load_npys(const std::string& model, const char* kind, std::size_t n) {
  std::vector<Tensor> out;
  for (std::size_t k = 0; k < n; ++k) {
    auto p = fs::path(AEGISRT_TEST_DATA_DIR) / "models" / (model + "." + kind + "_" + std::to_string(k) + ".npy");
    auto t = io::read_npy(p);
    EXPECT_TRUE(t.ok()) << t.error();
    if (t.ok()) out.push_back(std::move(*t));
  }
  return out;
}

Result<ExecutionResult> run(RuntimeBackend& b, const std::vector<Tensor>& inputs) {
  ExecutionRequest req;
  for (const auto& t : inputs) req.inputs.push_back({"", t.view()});  // positional
  return b.execute(req);
}

class TvmTest : public ::testing::Test {
 protected:
  LoadOptions cpu_options(const std::string& model) const {
    LoadOptions o;
    o.artifact_path = test_model(model);
    o.cache_dir = tvm_test_cache();
    return o;
  }
  aegisrt::testing::TempDir temp_{"aegisrt_tvmt_"};
  fs::path tmp_ = temp_.path();
};

struct RefCase {
  const char* model;
  std::size_t inputs;
  std::size_t outputs;
};

class TvmReferenceTest : public TvmTest, public ::testing::WithParamInterface<RefCase> {};

// Tolerance: 1e-4 absolute/relative, the same the generator checked numpy
// against ONNX's reference evaluator with (float32 accumulation order differs).
TEST_P(TvmReferenceTest, MatchesNumpyReference) {
  const auto& p = GetParam();
  auto backend = make_tvm_backend();
  auto loaded = backend->load(cpu_options(p.model));
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  auto inputs = load_npys(p.model, "input", p.inputs);
  auto expected = load_npys(p.model, "output", p.outputs);
  ASSERT_EQ(inputs.size(), p.inputs);
  auto r = run(*backend, inputs);
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->outputs.size(), expected.size());
  const auto specs = backend->output_specs();
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r->outputs[i].name(), specs[i].name);
    EXPECT_EQ(compare_tensors(r->outputs[i], expected[i], 1e-4, 1e-4), "") << p.model << " output " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, TvmReferenceTest,
                         ::testing::Values(RefCase{"small_cnn", 1, 1}, RefCase{"matmul_add", 1, 1},
                                           RefCase{"dynamic_batch", 1, 1}, RefCase{"two_in_two_out", 2, 2}),
                         [](const auto& i) { return std::string(i.param.model); });

TEST_F(TvmTest, SpecsComeFromTheModelWithSymbolicDims) {
  auto backend = make_tvm_backend();
  ASSERT_TRUE(backend->load(cpu_options("dynamic_batch")).ok());
  const auto in = backend->input_specs();
  const auto out = backend->output_specs();
  ASSERT_EQ(in.size(), 1u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(in[0], (TensorDesc{"images", {kDynamicDim, 3, 8, 8}, DType::Float32}));
  EXPECT_EQ(out[0], (TensorDesc{"logits", {kDynamicDim, 5}, DType::Float32}));
  // Batch 3 = the first three rows of the batch-8 reference.
  auto x8 = load_npys("dynamic_batch", "input", 1);
  auto y8 = load_npys("dynamic_batch", "output", 1);
  ASSERT_EQ(x8.size(), 1u);
  auto x3 = Tensor::from_bytes({3, 3, 8, 8}, DType::Float32,
                               std::span<const std::byte>(static_cast<const std::byte*>(x8[0].data()), 3 * 3 * 8 * 8 * 4));
  auto y3 = Tensor::from_bytes({3, 5}, DType::Float32,
                               std::span<const std::byte>(static_cast<const std::byte*>(y8[0].data()), 3 * 5 * 4));
  ASSERT_TRUE(x3.ok() && y3.ok());
  std::vector<Tensor> in3;
  in3.push_back(std::move(*x3));
  auto r = run(*backend, in3);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(compare_tensors(r->outputs[0], *y3, 1e-4, 1e-4), "");

  auto two = make_tvm_backend();
  ASSERT_TRUE(two->load(cpu_options("two_in_two_out")).ok());
  EXPECT_EQ(two->output_specs()[1], (TensorDesc{"argmax", {2}, DType::Int64}));
}

TEST_F(TvmTest, MisalignedInputGivesSameResult) {
  auto backend = make_tvm_backend();
  ASSERT_TRUE(backend->load(cpu_options("affine")).ok());
  auto inputs = mock_inputs(3);
  // Same values at an address 4 bytes past a 64-byte boundary.
  std::vector<float> buf(static_cast<std::size_t>(inputs[0].element_count()) + 16);
  float* p = buf.data() + 1;
  std::memcpy(p, inputs[0].data(), inputs[0].byte_size());
  ExecutionRequest req;
  req.inputs = {{"x", TensorView(p, inputs[0].shape(), DType::Float32)}};
  auto r = backend->execute(req);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(compare_tensors(r->outputs[0], affine_reference(inputs)[0], 1e-6, 1e-6), "");
}

#if defined(AEGISRT_HAVE_ONNXRUNTIME)
// Agreement with ONNX Runtime on the same models, 1e-5 abs / 1e-4 rel.
TEST_F(TvmTest, AgreesWithOnnxRuntime) {
  for (const char* model : {"affine", "small_cnn", "matmul_add", "dynamic_batch", "two_in_two_out", "bench_cnn"}) {
    auto ort = BackendFactory::create("onnx");
    ASSERT_TRUE(ort.ok()) << ort.error();
    auto tvm = make_tvm_backend();
    LoadOptions ort_opts;
    ort_opts.artifact_path = test_model(model);
    ASSERT_TRUE((*ort)->load(ort_opts).ok()) << model;
    auto loaded = tvm->load(cpu_options(model));
    ASSERT_TRUE(loaded.ok()) << model << ": " << loaded.error();
    std::vector<Tensor> inputs = std::string(model) == "affine"
                                     ? mock_inputs(2)
                                     : load_npys(model, "input", tvm->input_specs().size());
    auto a = run(**ort, inputs);
    auto b = run(*tvm, inputs);
    ASSERT_TRUE(a.ok()) << a.error();
    ASSERT_TRUE(b.ok()) << b.error();
    ASSERT_EQ(a->outputs.size(), b->outputs.size());
    for (std::size_t i = 0; i < a->outputs.size(); ++i) {
      EXPECT_EQ(compare_tensors(b->outputs[i], a->outputs[i], 1e-5, 1e-4), "") << model << " output " << i;
    }
  }
}
#else
TEST_F(TvmTest, AgreesWithOnnxRuntime) {
  GTEST_SKIP() << "ONNX Runtime backend not compiled in (AEGISRT_WITH_ONNXRUNTIME); "
                  "TVM is checked against numpy references instead";
}
#endif

TEST_F(TvmTest, CacheHitThenRebuildWhenModelChanges) {
  const fs::path model = tmp_ / "m.onnx";
  fs::copy_file(test_model("affine"), model);
  TvmBuildOptions b;
  b.model = model;
  b.variant = "m";  // a given variant keeps its name: {variant}_{precision}_{target}.so
  b.cache_dir = tmp_ / "cache";
  std::vector<std::string> stages;
  auto first = build_tvm_library(b, [&](std::string_view s, double) { stages.emplace_back(s); });
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_EQ(first->outcome, CacheOutcome::Built);
  EXPECT_EQ(first->artifact_path, tmp_ / "cache" / "m_fp32_cpu.so");
  EXPECT_FALSE(stages.empty());
  EXPECT_EQ(first->metadata.build_options.at("target"), "llvm");
  EXPECT_EQ(first->metadata.backend_version, tvm_version());
  EXPECT_TRUE(first->metadata.gpu_uuid.empty());
  EXPECT_NE(first->metadata.extra.at("io").find("\"x\""), std::string::npos);

  auto second = build_tvm_library(b);
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_EQ(second->outcome, CacheOutcome::Hit);

  // Replace the model (a different valid ONNX file): rebuilt, reason given.
  fs::copy_file(test_model("matmul_add"), model, fs::copy_options::overwrite_existing);
  auto third = build_tvm_library(b);
  ASSERT_TRUE(third.ok()) << third.error();
  EXPECT_EQ(third->outcome, CacheOutcome::Built);
  EXPECT_NE(third->build_reason.find("source model changed"), std::string::npos) << third->build_reason;

  // The rebuilt library now computes matmul_add.
  auto backend = make_tvm_backend();
  LoadOptions o;
  o.artifact_path = third->artifact_path;
  ASSERT_TRUE(backend->load(o).ok());
  EXPECT_EQ(backend->input_specs()[0], (TensorDesc{"x", {3, 16}, DType::Float32}));
}

TEST_F(TvmTest, UnusableCacheDirStillLoads) {
  const fs::path blocker = tmp_ / "file";
  std::ofstream(blocker) << "x";
  auto backend = make_tvm_backend();
  LoadOptions o = cpu_options("affine");
  o.cache_dir = blocker / "cache";  // cannot exist
  auto r = backend->load(o);
  ASSERT_TRUE(r.ok()) << r.error();
  auto inputs = mock_inputs(1);
  auto out = run(*backend, inputs);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(compare_tensors(out->outputs[0], affine_reference(inputs)[0], 1e-6, 1e-6), "");
}

TEST_F(TvmTest, OptionAndPrecisionErrorsAreTyped) {
  auto backend = make_tvm_backend();
  LoadOptions o = cpu_options("affine");
  o.backend_options["threads"] = "4";
  auto r = backend->load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("threads"), std::string::npos);

  o = cpu_options("affine");
  o.backend_options["input_shape"] = "x:2xbad";
  r = backend->load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);

  o = cpu_options("affine");
  o.precision = Precision::INT8;
  r = backend->load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << r.error();

  o.precision = Precision::FP16;  // CPU
  r = backend->load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << r.error();
}

TEST_F(TvmTest, LibraryWithoutOrWithWrongSidecarIsRejected) {
  TvmBuildOptions b;
  b.model = test_model("affine");
  b.cache_dir = tvm_test_cache();
  auto built = build_tvm_library(b);
  ASSERT_TRUE(built.ok()) << built.error();

  const fs::path lone = tmp_ / "lone.so";
  fs::copy_file(built->artifact_path, lone);
  auto backend = make_tvm_backend();
  LoadOptions o;
  o.artifact_path = lone;
  auto r = backend->load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound);
  EXPECT_NE(r.error().message().find("lone.so.json"), std::string::npos) << r.error();

  // A sidecar that belongs to another library: checksum mismatch -> Corrupt.
  auto md = built->metadata;
  md.artifact_sha256 = sha256_hex("something else");
  std::ofstream(tmp_ / "lone.so.json") << md.to_json();
  r = backend->load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Corrupt) << r.error();

  // The raw --io-json format is accepted too.
  std::ofstream(tmp_ / "lone.so.json", std::ios::trunc) << built->metadata.extra.at("io");
  r = backend->load(o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(backend->input_specs()[0].name, "x");
}

TEST_F(TvmTest, InvalidOnnxIsCorruptWithTheScriptsReason) {
  const fs::path bad = tmp_ / "bad.onnx";
  std::ofstream(bad) << "definitely not protobuf";
  auto backend = make_tvm_backend();
  LoadOptions o;
  o.artifact_path = bad;
  o.cache_dir = tmp_ / "cache";
  auto r = backend->load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Corrupt) << r.error();
  EXPECT_NE(r.error().to_string().find("bad.onnx"), std::string::npos) << r.error();
}

// --- issue 11 §4 / issue 12: cache keys, external data, trust ------------------------

std::vector<float> read_floats(const fs::path& p) {
  const std::string bytes = [&] {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }();
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

void write_floats(const fs::path& p, const std::vector<float>& v) {
  std::ofstream(p, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
}

// y = x @ W for x [2,4], W [4,3] (row-major), accumulated in double.
Tensor matmul_reference(const std::vector<float>& x, const std::vector<float>& w) {
  std::vector<float> y(6);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) {
      double acc = 0;
      for (int k = 0; k < 4; ++k) acc += double{x[static_cast<std::size_t>(i * 4 + k)]} * w[static_cast<std::size_t>(k * 3 + j)];
      y[static_cast<std::size_t>(i * 3 + j)] = static_cast<float>(acc);
    }
  }
  auto t = Tensor::from_bytes({2, 3}, DType::Float32, std::as_bytes(std::span<const float>(y)));
  return std::move(*t);
}

TEST_F(TvmTest, SameFileNameDifferentModelsAndTargetsNeverShareAFile) {
  fs::create_directories(tmp_ / "a");
  fs::create_directories(tmp_ / "b");
  fs::copy_file(test_model("affine"), tmp_ / "a" / "model.onnx");
  fs::copy_file(test_model("matmul_add"), tmp_ / "b" / "model.onnx");
  TvmBuildOptions a;
  a.model = tmp_ / "a" / "model.onnx";
  a.cache_dir = tmp_ / "cache";
  TvmBuildOptions b = a;
  b.model = tmp_ / "b" / "model.onnx";
  auto ra = build_tvm_library(a);
  auto rb = build_tvm_library(b);
  ASSERT_TRUE(ra.ok()) << ra.error();
  ASSERT_TRUE(rb.ok()) << rb.error();
  EXPECT_NE(ra->artifact_path, rb->artifact_path);
  // Independent expectation: stem + 12 hex digits of the file's SHA-256, then target.
  const std::string sha_a = *sha256_file(a.model);
  EXPECT_EQ(ra->artifact_path.filename(), "model-" + sha_a.substr(0, 12) + "_fp32_cpu.so");
  // Alternating builds are hits: neither overwrote the other.
  auto ra2 = build_tvm_library(a);
  auto rb2 = build_tvm_library(b);
  ASSERT_TRUE(ra2.ok() && rb2.ok());
  EXPECT_EQ(ra2->outcome, CacheOutcome::Hit);
  EXPECT_EQ(rb2->outcome, CacheOutcome::Hit);

  // CPU and CUDA keys of one model (key construction only: no GPU needed).
  BuildEnvironment cpu_env;
  cpu_env.backend_version = tvm_version();
  BuildEnvironment gpu_env = cpu_env;
  gpu_env.gpu_uuid = "GPU-test";
  gpu_env.compute_capability = "9.0";
  TvmBuildOptions on_cuda = a;
  on_cuda.device = Device::cuda(0);
  auto kc = tvm_artifact_key(a, cpu_env);
  auto kg = tvm_artifact_key(on_cuda, gpu_env);
  ASSERT_TRUE(kc.ok() && kg.ok());
  EXPECT_EQ(kg->file_name(), "model-" + sha_a.substr(0, 12) + "_fp32_cuda-sm_90.so");
  EXPECT_NE(kc->file_name(), kg->file_name());
  on_cuda.arch = "sm_80";
  on_cuda.variant = "net";
  auto k80 = tvm_artifact_key(on_cuda, gpu_env);
  ASSERT_TRUE(k80.ok());
  EXPECT_EQ(k80->file_name(), "net_fp32_cuda-sm_80.so");
}

TEST_F(TvmTest, ChangedExternalDataIsRebuiltAndVerifySaysSo) {
  const fs::path dir = tmp_ / "m";
  fs::create_directories(dir);
  const fs::path model_src = test_model("ext_matmul");
  fs::copy_file(model_src, dir / "ext_matmul.onnx");
  fs::copy_file(model_src.parent_path() / "ext_matmul.weights", dir / "ext_matmul.weights");
  const std::vector<float> x = {1, 2, 3, 4, -1, 0.5f, 0.25f, 2};
  auto xt = std::move(Tensor::from_bytes({2, 4}, DType::Float32, std::as_bytes(std::span<const float>(x)))).value();
  LoadOptions o;
  o.artifact_path = dir / "ext_matmul.onnx";
  o.cache_dir = tmp_ / "cache";
  o.variant = "ext";
  auto run_once = [&]() -> Tensor {
    auto backend = make_tvm_backend();
    auto loaded = backend->load(o);
    EXPECT_TRUE(loaded.ok()) << loaded.error();
    if (!loaded.ok()) return {};
    ExecutionRequest req;
    req.inputs.push_back({"", xt.view()});
    auto out = backend->execute(req);
    EXPECT_TRUE(out.ok()) << out.error();
    if (!out.ok()) return {};
    return std::move(out->outputs[0]);
  };
  const auto w1 = read_floats(dir / "ext_matmul.weights");
  ASSERT_EQ(w1.size(), 12u);
  EXPECT_EQ(compare_tensors(run_once(), matmul_reference(x, w1), 1e-5, 1e-5), "");

  std::vector<float> w2 = w1;
  for (auto& v : w2) v = v * 2.0f + 1.0f;
  write_floats(dir / "ext_matmul.weights", w2);  // same size, same .onnx
  CacheOptions co;
  co.validate = tvm_validate_entry;
  auto verified = ArtifactCache(tmp_ / "cache", co).verify();
  ASSERT_TRUE(verified.ok());
  ASSERT_EQ(verified->size(), 1u);
  EXPECT_NE((*verified)[0].problem.find("source model changed"), std::string::npos) << (*verified)[0].problem;
  // The next run rebuilds and computes with the new weights.
  EXPECT_EQ(compare_tensors(run_once(), matmul_reference(x, w2), 1e-5, 1e-5), "");
  verified = ArtifactCache(tmp_ / "cache", co).verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ((*verified)[0].problem, "");
}

TEST_F(TvmTest, GarbageIoDescriptionIsRebuiltAndVerifyAgrees) {
  LoadOptions o = cpu_options("affine");
  o.cache_dir = tmp_ / "cache";
  o.variant = "g";
  {
    auto backend = make_tvm_backend();
    ASSERT_TRUE(backend->load(o).ok());
  }
  const fs::path sidecar = tmp_ / "cache" / "g_fp32_cpu.so.json";
  auto md = ArtifactMetadata::read(sidecar);
  ASSERT_TRUE(md.ok()) << md.error();
  md->extra["io"] = "garbage";
  std::ofstream(sidecar, std::ios::trunc) << md->to_json();
  CacheOptions co;
  co.validate = tvm_validate_entry;
  auto verified = ArtifactCache(tmp_ / "cache", co).verify();
  ASSERT_TRUE(verified.ok());
  ASSERT_EQ(verified->size(), 1u);
  EXPECT_NE((*verified)[0].problem.find("extra.io"), std::string::npos) << (*verified)[0].problem;
  // Not a permanent failure: the load rebuilds and runs.
  auto backend = make_tvm_backend();
  auto loaded = backend->load(o);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  auto inputs = mock_inputs(1);
  auto out = run(*backend, inputs);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(compare_tensors(out->outputs[0], affine_reference(inputs)[0], 1e-6, 1e-6), "");
  verified = ArtifactCache(tmp_ / "cache", co).verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ((*verified)[0].problem, "");
}

// The attack through the real backend: a planted library with a
// sidecar computed for it. Refused unopened while the folder or file is not
// ours; the positive control shows the same entry is dlopen()ed once trusted.
TEST_F(TvmTest, PlantedLibraryIsNeverOpened) {
  const fs::path marker = tmp_ / "constructor_ran";
  ::setenv("AEGISRT_PLANTED_MARKER", marker.c_str(), 1);
  LoadOptions o = cpu_options("affine");
  o.cache_dir = tmp_ / "cache";
  o.variant = "p";
  {
    auto backend = make_tvm_backend();
    ASSERT_TRUE(backend->load(o).ok());
  }
  const fs::path lib = tmp_ / "cache" / "p_fp32_cpu.so";
  const fs::path sidecar = lib.string() + ".json";
  fs::copy_file(AEGISRT_PLANTED_LIB, lib, fs::copy_options::overwrite_existing);
  auto md = ArtifactMetadata::read(sidecar);
  ASSERT_TRUE(md.ok());
  md->artifact_size = fs::file_size(lib);
  md->artifact_sha256 = *sha256_file(lib);
  std::ofstream(sidecar, std::ios::trunc) << md->to_json();
  fs::permissions(lib, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);

  auto expect_refused = [&](const std::string& what, const LoadOptions& opts) -> Error {
    auto backend = make_tvm_backend();
    auto r = backend->load(opts);
    EXPECT_FALSE(fs::exists(marker)) << what << ": the planted constructor ran";
    if (r.ok()) {
      ADD_FAILURE() << what << ": loaded";
      return Error(ErrorCode::Internal, "loaded");
    }
    return r.error();
  };
  fs::permissions(tmp_ / "cache", fs::perms::group_write, fs::perm_options::add);
  auto e = expect_refused("group-writable cache folder", o);
  EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
  EXPECT_NE(e.message().find("group or others can write"), std::string::npos) << e;
  LoadOptions direct;
  direct.artifact_path = lib;  // the library given directly, folder not ours
  e = expect_refused("library in a group-writable folder", direct);
  EXPECT_EQ(e.code(), ErrorCode::InvalidArgument) << e;
  fs::permissions(tmp_ / "cache", fs::perms::owner_all);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(lib.c_str(), 65534, 65534), 0);
    e = expect_refused("library owned by another user", o);
    EXPECT_NE(e.message().find("owned by uid 65534"), std::string::npos) << e;
    e = expect_refused("library owned by another user, given directly", direct);
    EXPECT_NE(e.message().find("owned by uid 65534"), std::string::npos) << e;
    ASSERT_EQ(::chown(lib.c_str(), 0, 0), 0);
  }
  // A library without a sidecar is not opened either (it used to be, for the message).
  const fs::path lone = tmp_ / "lone_planted.so";
  fs::copy_file(AEGISRT_PLANTED_LIB, lone);
  LoadOptions lone_opts;
  lone_opts.artifact_path = lone;
  e = expect_refused("library without sidecar", lone_opts);
  EXPECT_EQ(e.code(), ErrorCode::NotFound) << e;

  // Positive control: trusted folder and file -> the cache hit is dlopen()ed
  // (and then rejected as not a Relax VM library, after its constructor ran).
  auto backend = make_tvm_backend();
  auto r = backend->load(o);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(fs::exists(marker)) << "control: a trusted library is opened";
  ::unsetenv("AEGISRT_PLANTED_MARKER");
}

TEST_F(TvmTest, UnsupportedTypeIsRefusedBeforeAnyBuild) {
  // The build's python does not exist: reaching the build would be a
  // BackendError about running it, not this Unsupported.
  auto backend = make_tvm_backend();
  LoadOptions o = cpu_options("dtype_string");
  o.cache_dir = tmp_ / "cache";
  o.backend_options["python"] = (tmp_ / "no_such_python").string();
  auto r = backend->load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported) << r.error();
  EXPECT_NE(r.error().message().find("input 'x'"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("string"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("STRING"), std::string::npos) << r.error();
}

TEST_F(TvmTest, BuildFailureShowsTheFirstCompilerErrorLine) {
  // A stand-in for python whose "compiler" fails with its first error line
  // followed by more than 4 lines of noise (what hid the cause before).
  const fs::path fake = tmp_ / "fake_python.sh";
  {
    std::ofstream f(fake);
    f << "#!/bin/sh\n"
         "echo 'Traceback (most recent call last):' >&2\n"
         "echo 'RuntimeError: Compilation error:' >&2\n"
         "echo '/tmp/kernel.cu(12): error: expected a closing parenthesis' >&2\n"
         "for i in 1 2 3 4 5 6; do echo \"  note: noise line $i\" >&2; done\n"
         "exit 4\n";
  }
  fs::permissions(fake, fs::perms::owner_all);
  auto backend = make_tvm_backend();
  LoadOptions o = cpu_options("affine");
  o.cache_dir = tmp_ / "cache";
  o.backend_options["python"] = fake.string();
  auto r = backend->load(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::BackendError) << r.error();
  EXPECT_NE(r.error().message().find("kernel.cu(12): error: expected a"), std::string::npos) << r.error();
}

TEST(TvmVersion, NamesTvmAndFfi) {
  EXPECT_EQ(tvm_version().find("unknown"), std::string::npos) << tvm_version();
  EXPECT_NE(tvm_version().find("tvm-ffi"), std::string::npos);
}

TEST(TvmRegistry, FactoryCreatesTvm) {
  auto b = BackendFactory::create("tvm");
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ((*b)->name(), "tvm");
}

}  // namespace
}  // namespace aegisrt::testing
