// Engine build planning: the artefact-cache key and sidecar contents, the
// environment, LoadOptions parsing, and the cache's rebuild decisions for
// TensorRT engines (with a fake builder standing in for TensorRT).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "aegisrt/trt_plan/engine_builder.h"
#include "aegisrt/trt_plan/engine_file.h"
#include "aegisrt/cache/sha256.h"
#include "common/temp_dir.h"

namespace aegisrt::trt {
namespace {

namespace fs = std::filesystem;
const fs::path kModels = fs::path(AEGISRT_TEST_DATA_DIR) / "tensorrt";
constexpr TrtVersion kTrt10{10, 16, 0, 72};
constexpr TrtVersion kTrt11{11, 1, 0, 106};
const GpuIdentity kOrin{"GPU-aaaaaaaa-0000-0000-0000-000000000001", "Orin", 8, 7};
const GpuIdentity kH100{"GPU-bbbbbbbb-0000-0000-0000-000000000002", "H100", 9, 0};

class EnginePlan : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = onnx::summarize_onnx_file(kModels / "conv.onnx");
    ASSERT_TRUE(s.ok()) << s.error();
    model_ = s.value();
  }

  EngineBuildOptions options() const {
    EngineBuildOptions o;
    o.onnx_model = kModels / "conv.onnx";
    o.cache_dir = dir_;
    o.variant = "yolo";
    o.profile.input_sizes = {{640, 640}, {320, 320}};
    o.profile.max_batch = 4;
    o.profile.opt_batch = 2;
    return o;
  }

  aegisrt::testing::TempDir temp_{"aegisrt_trt_plan_"};
  fs::path dir_ = temp_ / "engines";  // not created: the cache creates it
  onnx::OnnxSummary model_;
};

TEST_F(EnginePlan, KeyFollowsTheSeedRule) {
  auto spec = plan_engine_build(options(), model_, kTrt10, kOrin);
  ASSERT_TRUE(spec.ok()) << spec.error();
  EXPECT_EQ(spec->engine_path, dir_ / "yolo_fp16.engine");  // {dir}/{variant}_{precision}.engine
  EXPECT_EQ(spec->key.file_name(), "yolo_fp16.engine");
  EXPECT_EQ(spec->key.backend, "tensorrt");
  EXPECT_EQ(spec->key.precision, "fp16");
  EXPECT_EQ(spec->key.source_model, kModels / "conv.onnx");
  EXPECT_EQ(spec->key.build_options.at("typing"), "weakly-typed");
  EXPECT_EQ(spec->key.build_options.at("builder_flags"), "fp16");
  EXPECT_EQ(spec->key.build_options.at("model_kind"), "float32");
  EXPECT_EQ(spec->key.build_options.at("profiles"), "images:1x3x320x320/2x3x640x640/4x3x640x640");
  EXPECT_EQ(spec->key.build_options.at("workspace_bytes"), std::to_string(kDefaultWorkspaceBytes));
  EXPECT_FALSE(spec->key.build_options.contains("calibration"));
  EXPECT_EQ(spec->env.backend_display_name, "TensorRT");
  EXPECT_EQ(spec->env.backend_version, "10.16.0.72");
  EXPECT_EQ(spec->env.gpu_uuid, kOrin.uuid);
  EXPECT_EQ(spec->env.compute_capability, "8.7");
  EXPECT_EQ(spec->timing_cache_path, dir_ / "timing_trt10.16.0.72_sm87.cache");
}

TEST_F(EnginePlan, DefaultsArePrecisionFp16AndTmpTrtEngines) {
  auto o = options();
  o.cache_dir.clear();
  o.variant.clear();
  auto spec = plan_engine_build(o, model_, kTrt10, kOrin);
  ASSERT_TRUE(spec.ok()) << spec.error();
  // The seed's /tmp/trt_engines unless it is shared or another user's (then a
  // per-user folder: default_cache_dir's rule, tested in tests/cache).
  const fs::path dir = default_cache_dir("tensorrt");
  EXPECT_EQ(dir, shared_tmp_cache_dir(fs::path(kDefaultEngineCacheDir)));
  EXPECT_EQ(spec->cache_dir, dir);
  EXPECT_EQ(spec->engine_path, dir / "conv_fp16.engine");  // variant = model stem
}

TEST_F(EnginePlan, Int8KeyNamesTheCalibrationData) {
  auto o = options();
  o.precision = Precision::INT8;
  o.calibration.next_batch = [] { return Result<std::optional<Tensor>>(std::optional<Tensor>()); };
  o.calibration.dataset_id = "calib/coco100:100";
  auto spec = plan_engine_build(o, model_, kTrt10, kOrin);
  ASSERT_TRUE(spec.ok()) << spec.error();
  EXPECT_EQ(spec->engine_path, dir_ / "yolo_int8.engine");
  EXPECT_EQ(spec->key.build_options.at("builder_flags"), "fp16,int8");
  EXPECT_EQ(spec->key.build_options.at("calibration"), "calib/coco100:100");
  EXPECT_EQ(spec->calibration_cache_path, dir_ / "yolo_int8.calib");
  EXPECT_EQ(spec->calibration_input, "images");
  o.calibration.input_name = "nope";
  auto bad = plan_engine_build(o, model_, kTrt10, kOrin);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("'nope'"), std::string::npos);
}

TEST_F(EnginePlan, ExistingCalibrationCacheIsEnoughForInt8) {
  auto o = options();
  o.precision = Precision::INT8;
  EXPECT_FALSE(plan_engine_build(o, model_, kTrt10, kOrin).ok());
  fs::create_directories(dir_);
  std::ofstream(dir_ / "yolo_int8.calib") << "TRT-8601-EntropyCalibration2\n";
  auto spec = plan_engine_build(o, model_, kTrt10, kOrin);
  ASSERT_TRUE(spec.ok()) << spec.error();
  EXPECT_TRUE(spec->plan.needs_calibrator);
}

TEST_F(EnginePlan, Trt11RejectsFloatModelForFp16WithTheToolToUse) {
  auto spec = plan_engine_build(options(), model_, kTrt11, kOrin);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(spec.error().message().find("convert_fp16.py"), std::string::npos);
  auto fp16 = onnx::summarize_onnx_file(kModels / "conv_fp16.onnx");
  ASSERT_TRUE(fp16.ok());
  auto o = options();
  o.onnx_model = kModels / "conv_fp16.onnx";
  auto ok = plan_engine_build(o, fp16.value(), kTrt11, kOrin);
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->key.build_options.at("typing"), "strongly-typed");
  EXPECT_EQ(ok->key.build_options.at("builder_flags"), "none");
  EXPECT_EQ(ok->key.build_options.at("model_kind"), "float16");
}

TEST_F(EnginePlan, RejectsBadInputs) {
  auto o = options();
  o.variant = "../evil";
  EXPECT_EQ(plan_engine_build(o, model_, kTrt10, kOrin).error().code(), ErrorCode::InvalidArgument);
  EXPECT_FALSE(plan_engine_build(options(), model_, kTrt10, GpuIdentity{}).ok());
  o = options();
  o.workspace_bytes = 0;
  EXPECT_FALSE(plan_engine_build(o, model_, kTrt10, kOrin).ok());
  o = options();
  o.profile.input_sizes.clear();  // conv.onnx has dynamic H/W
  auto e = plan_engine_build(o, model_, kTrt10, kOrin);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().to_string().find("conv.onnx"), std::string::npos);
}

TEST(EngineBuildOptionsFrom, ParsesKnownBackendOptions) {
  LoadOptions lo;
  lo.artifact_path = "m.onnx";
  lo.device = Device::cuda(1);
  lo.precision = Precision::FP32;
  lo.variant = "v";
  lo.backend_options = {{"workspace_mb", "512"}, {"max_batch", "8"}, {"input_sizes", "640x640,320x480"},
                        {"layout", "nhwc"}, {"calibration_cache", "/c/x.calib"}};
  auto o = engine_build_options_from(lo);
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_EQ(o->workspace_bytes, std::size_t{512} << 20);
  EXPECT_EQ(o->profile.max_batch, 8);
  EXPECT_EQ(o->profile.min_batch, 1);
  EXPECT_EQ(o->profile.opt_batch, 1);
  EXPECT_EQ(o->profile.input_sizes, (std::vector<ImageSize>{{640, 640}, {320, 480}}));
  EXPECT_EQ(o->profile.layout, ImageLayout::NHWC);
  EXPECT_EQ(o->device, 1);
  EXPECT_EQ(o->precision, Precision::FP32);
  EXPECT_EQ(o->calibration.cache_file, fs::path("/c/x.calib"));
}

TEST(EngineBuildOptionsFrom, RejectsUnknownKeysBadValuesAndCpu) {
  LoadOptions lo;
  lo.device = Device::cuda(0);
  lo.backend_options = {{"workspace", "1"}};
  auto u = engine_build_options_from(lo);
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().message().find("'workspace'"), std::string::npos);
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"max_batch", "0"}, {"max_batch", "x"}, {"input_sizes", "640"}, {"input_sizes", "640x"},
           {"input_sizes", "640x640,"}, {"layout", "chw"}, {"workspace_mb", "-1"}}) {
    lo.backend_options = {{k, v}};
    auto r = engine_build_options_from(lo);
    ASSERT_FALSE(r.ok()) << k << "=" << v;
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message().find(k), std::string::npos);
  }
  LoadOptions cpu;
  auto c = engine_build_options_from(cpu);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("CUDA devices only"), std::string::npos);
}

TEST(StubBuilder, ReportsHowToEnableTensorRt) {
  if (tensorrt_compiled_in()) GTEST_SKIP() << "this build has TensorRT; the stub is not linked";
  EngineBuildOptions o;
  o.onnx_model = "m.onnx";
  auto r = build_tensorrt_engine(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(r.error().message().find("AEGISRT_WITH_TENSORRT=ON"), std::string::npos);
}

// The artefact cache with a fake builder: what TensorRT engines' sidecars
// hold, and which environment changes force a rebuild.
TEST_F(EnginePlan, CachePublishesSidecarAndRebuildsForOtherVersionOrGpu) {
  int builds = 0;
  BuilderFn fake = [&](const BuildRequest& req) -> Result<BuildOutput> {
    ++builds;
    std::ofstream out(req.output_path, std::ios::binary);
    out << std::string(1000, static_cast<char>('a' + builds));
    return BuildOutput{};
  };
  auto spec = plan_engine_build(options(), model_, kTrt10, kOrin);
  ASSERT_TRUE(spec.ok()) << spec.error();
  ArtifactCache cache(spec->cache_dir);
  auto first = cache.get_or_build(spec->key, spec->env, fake);
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_EQ(first->outcome, CacheOutcome::Built);
  EXPECT_EQ(first->artifact_path, spec->engine_path);
  EXPECT_EQ(builds, 1);

  auto md = ArtifactMetadata::read(fs::path(spec->engine_path.string() + ".json"));
  ASSERT_TRUE(md.ok()) << md.error();
  EXPECT_EQ(md->backend, "tensorrt");
  EXPECT_EQ(md->backend_version, "10.16.0.72");
  EXPECT_EQ(md->gpu_uuid, kOrin.uuid);
  EXPECT_EQ(md->compute_capability, "8.7");
  EXPECT_EQ(md->precision, "fp16");
  EXPECT_EQ(md->source_sha256, sha256_file(kModels / "conv.onnx").value());
  EXPECT_EQ(md->build_options, spec->key.build_options);
  EXPECT_TRUE(check_engine_metadata(md.value(), kTrt10, kOrin, "e").ok());

  auto again = cache.get_or_build(spec->key, spec->env, fake);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, CacheOutcome::Hit);
  EXPECT_EQ(builds, 1);

  // Another TensorRT release: stale, rebuilt, with a reason.
  auto newer = plan_engine_build(options(), model_, TrtVersion{10, 16, 1, 3}, kOrin);
  ASSERT_TRUE(newer.ok());
  EXPECT_EQ(newer->engine_path, spec->engine_path);  // same file name: the sidecar tells them apart
  auto r1 = cache.get_or_build(newer->key, newer->env, fake);
  ASSERT_TRUE(r1.ok()) << r1.error();
  EXPECT_EQ(r1->outcome, CacheOutcome::Built);
  EXPECT_FALSE(r1->build_reason.empty());
  EXPECT_EQ(builds, 2);

  // Another GPU: stale, rebuilt.
  auto other_gpu = plan_engine_build(options(), model_, TrtVersion{10, 16, 1, 3}, kH100);
  ASSERT_TRUE(other_gpu.ok());
  auto r2 = cache.get_or_build(other_gpu->key, other_gpu->env, fake);
  ASSERT_TRUE(r2.ok()) << r2.error();
  EXPECT_EQ(r2->outcome, CacheOutcome::Built);
  EXPECT_FALSE(r2->build_reason.empty());
  EXPECT_EQ(builds, 3);

  // Another profile (different build options): rebuilt too.
  auto o = options();
  o.profile.max_batch = 8;
  auto wider = plan_engine_build(o, model_, TrtVersion{10, 16, 1, 3}, kH100);
  ASSERT_TRUE(wider.ok());
  auto r3 = cache.get_or_build(wider->key, wider->env, fake);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->outcome, CacheOutcome::Built);
  EXPECT_EQ(builds, 4);
}

}  // namespace
}  // namespace aegisrt::trt
