// ArtifactCache without any real backend: the builder writes a known file.
// Covers hit/miss, corruption, version/GPU/source/option changes, crashed
// and concurrent builds (threads and separate processes), lock timeout, an
// unusable directory and list/verify/clean.
#include <gtest/gtest.h>

#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstdio>
#include <set>
#include <thread>
#include <tuple>

#include "aegisrt/cache/sha256.h"
#include "cache/cache_fixture.h"
#include "cache/cache_test_util.h"

extern char** environ;

namespace aegisrt::testing {
namespace {

namespace fs = std::filesystem;

// lookup() succeeds with status `want` and, if `reason` is given, a reason containing it.
::testing::AssertionResult looks_up(const ArtifactCache& cache, const ArtifactKey& key, const BuildEnvironment& env,
                                    LookupStatus want, const std::string& reason = "") {
  auto l = cache.lookup(key, env);
  if (!l.ok()) return ::testing::AssertionFailure() << "lookup failed: " << l.error();
  if (l->status != want) {
    return ::testing::AssertionFailure() << "status " << to_string(l->status) << ", expected " << to_string(want)
                                         << " (reason: " << l->reason << ")";
  }
  if (l->reason.find(reason) == std::string::npos) {
    return ::testing::AssertionFailure() << "reason '" << l->reason << "' does not contain '" << reason << "'";
  }
  return ::testing::AssertionSuccess();
}

class ArtifactCacheTest : public CacheFixture {
 protected:
  ArtifactCacheTest() : CacheFixture("aegisrt_cache_", "engines") {}
};

TEST_F(ArtifactCacheTest, PathFollowsSeedRule) {
  ArtifactCache cache(dir_);
  auto key = trt_key(source_);
  EXPECT_EQ(cache.artifact_path(key), dir_ / "yolov8n_fp16.engine");
  EXPECT_EQ(cache.sidecar_path(key), dir_ / "yolov8n_fp16.engine.json");
  key.backend = "tvm";
  EXPECT_EQ(cache.artifact_path(key), dir_ / "yolov8n_fp16.so");
  // TensorRT keeps the seed's /tmp/trt_engines unless it is shared or another
  // user's; TVM (and others) use the per-user cache (cache_trust_test.cpp).
  EXPECT_EQ(default_cache_dir("tensorrt"), shared_tmp_cache_dir("/tmp/trt_engines"));
  EXPECT_EQ(default_cache_dir("tvm"), user_cache_root() / "tvm");
}

TEST_F(ArtifactCacheTest, MissBuildsThenHitDoesNotRebuild) {
  ArtifactCache cache(dir_);
  const auto key = trt_key(source_);
  EXPECT_TRUE(looks_up(cache, key, trt_env(), LookupStatus::Miss, "no cached artefact"));

  auto r = cache.get_or_build(key, trt_env(), counting_builder(count_));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->outcome, CacheOutcome::Built);
  EXPECT_TRUE(r->caching_enabled);
  EXPECT_EQ(r->artifact_path, dir_ / "yolov8n_fp16.engine");
  EXPECT_EQ(slurp(r->artifact_path), known_artifact("onnx-model-v1"));
  EXPECT_EQ(builds(), 1);

  // The sidecar records everything the issue asks for, independently checked.
  auto md = ArtifactMetadata::read(cache.sidecar_path(key));
  ASSERT_TRUE(md.ok()) << md.error();
  EXPECT_EQ(md->source_sha256, sha256_hex("onnx-model-v1"));
  EXPECT_EQ(md->artifact_sha256, sha256_hex(known_artifact("onnx-model-v1")));
  EXPECT_EQ(md->artifact_size, known_artifact("onnx-model-v1").size());
  EXPECT_EQ(md->backend_version, "10.16.0");
  EXPECT_EQ(md->gpu_uuid, "GPU-aaaa");
  EXPECT_EQ(md->compute_capability, "8.7");
  EXPECT_EQ(md->precision, "fp16");
  EXPECT_EQ(md->build_options.at("target"), "sm_87");
  EXPECT_EQ(md->extra.at("builder"), "counting");

  auto again = cache.get_or_build(key, trt_env(), counting_builder(count_));
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again->outcome, CacheOutcome::Hit);
  EXPECT_TRUE(again->build_reason.empty());
  EXPECT_EQ(builds(), 1);
  EXPECT_TRUE(looks_up(cache, key, trt_env(), LookupStatus::Hit));
  // No temporaries left behind.
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

struct StaleCase {
  const char* name;
  std::function<void(const fs::path& artifact, const fs::path& source, ArtifactKey& key,
                     BuildEnvironment& env)>
      mutate;
  const char* expected_reason;  // substring
};

class StaleTest : public ArtifactCacheTest, public ::testing::WithParamInterface<StaleCase> {};

TEST_P(StaleTest, IsDetectedAndRebuiltWithReason) {
  ArtifactCache cache(dir_);
  auto key = trt_key(source_);
  auto env = trt_env();
  ASSERT_TRUE(cache.get_or_build(key, env, counting_builder(count_)).ok());
  ASSERT_EQ(builds(), 1);

  GetParam().mutate(cache.artifact_path(key), source_, key, env);
  auto l = cache.lookup(key, env);
  ASSERT_TRUE(l.ok()) << l.error();
  EXPECT_EQ(l->status, LookupStatus::Stale);
  EXPECT_NE(l->reason.find(GetParam().expected_reason), std::string::npos) << l->reason;

  auto r = cache.get_or_build(key, env, counting_builder(count_));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->outcome, CacheOutcome::Built);
  EXPECT_EQ(r->build_reason, l->reason);
  EXPECT_EQ(builds(), 2);
  EXPECT_EQ(slurp(r->artifact_path), known_artifact(slurp(source_)));
  EXPECT_TRUE(looks_up(cache, key, env, LookupStatus::Hit));
}

INSTANTIATE_TEST_SUITE_P(
    Cache, StaleTest,
    ::testing::Values(
        StaleCase{"Truncated",
                  [](const fs::path& a, const fs::path&, ArtifactKey&, BuildEnvironment&) {
                    fs::resize_file(a, fs::file_size(a) / 2);
                  },
                  "artefact corrupt: size mismatch"},
        StaleCase{"FlippedByte",
                  [](const fs::path& a, const fs::path&, ArtifactKey&, BuildEnvironment&) {
                    auto bytes = slurp(a);
                    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
                    spit(a, bytes);
                  },
                  "artefact corrupt: checksum mismatch"},
        StaleCase{"BackendVersion",
                  [](const fs::path&, const fs::path&, ArtifactKey&, BuildEnvironment& env) {
                    env.backend_version = "11.1.0";
                  },
                  "built for TensorRT 10.16.0, running 11.1.0"},
        StaleCase{"GpuUuid",
                  [](const fs::path&, const fs::path&, ArtifactKey&, BuildEnvironment& env) {
                    env.gpu_uuid = "GPU-bbbb";
                  },
                  "GPU mismatch: built for GPU-aaaa (compute capability 8.7), running on GPU-bbbb"},
        StaleCase{"ComputeCapability",
                  [](const fs::path&, const fs::path&, ArtifactKey&, BuildEnvironment& env) {
                    env.compute_capability = "9.0";
                  },
                  "running on GPU-aaaa (compute capability 9.0)"},
        StaleCase{"SourceModelEdited",
                  [](const fs::path&, const fs::path& src, ArtifactKey&, BuildEnvironment&) {
                    spit(src, "onnx-model-v2");
                  },
                  "source model changed"},
        StaleCase{"BuildOption",
                  [](const fs::path&, const fs::path&, ArtifactKey& key, BuildEnvironment&) {
                    key.build_options["target"] = "sm_90";
                  },
                  "build options changed: target 'sm_87' -> 'sm_90'"},
        StaleCase{"SidecarMissing",
                  [](const fs::path& a, const fs::path&, ArtifactKey&, BuildEnvironment&) {
                    fs::remove(a.string() + ".json");
                  },
                  "no sidecar metadata"},
        StaleCase{"SidecarGarbage",
                  [](const fs::path& a, const fs::path&, ArtifactKey&, BuildEnvironment&) {
                    spit(a.string() + ".json", "{\"format_version\": 1, \"backend\": 3");
                  },
                  "sidecar metadata unreadable"},
        StaleCase{"SidecarOfAnotherEntry",
                  [](const fs::path& a, const fs::path&, ArtifactKey&, BuildEnvironment&) {
                    // Half-published pair: a different artefact of the same size
                    // beside the old sidecar.
                    auto bytes = slurp(a);
                    std::reverse(bytes.begin(), bytes.end());
                    spit(a, bytes);
                  },
                  "artefact corrupt: checksum mismatch"}),
    [](const ::testing::TestParamInfo<StaleCase>& i) { return std::string(i.param.name); });

TEST_F(ArtifactCacheTest, CpuArtefactIgnoresGpuButGpuEnvAgainstCpuArtefactIsStale) {
  ArtifactCache cache(dir_);
  auto key = trt_key(source_);
  BuildEnvironment cpu{"TVM", "0.27.0", "", "", ""};
  ASSERT_TRUE(cache.get_or_build(key, cpu, counting_builder(count_)).ok());
  EXPECT_TRUE(looks_up(cache, key, cpu, LookupStatus::Hit));
  BuildEnvironment gpu{"TVM", "0.27.0", "GPU-cccc", "9.0", ""};
  EXPECT_TRUE(looks_up(cache, key, gpu, LookupStatus::Stale, "GPU mismatch: built for no GPU"));
}

// A fleet of identical cards shares one prebuilt cache (docs/SERVING.md):
// with GpuMatch::Model an engine built on another card of the same model and
// compute capability is a hit; any other GPU is still stale.
TEST_F(ArtifactCacheTest, GpuMatchModelAcceptsAnotherCardOfTheSameModelOnly) {
  CacheOptions strict;
  strict.gpu_match = GpuMatch::Uuid;
  CacheOptions fleet;
  fleet.gpu_match = GpuMatch::Model;
  ArtifactCache builder(dir_, strict);
  auto key = trt_key(source_);
  ASSERT_TRUE(builder.get_or_build(key, trt_env(), counting_builder(count_)).ok());
  ASSERT_EQ(builds(), 1);

  const BuildEnvironment other_card = trt_env("10.16.0", "GPU-bbbb");
  EXPECT_TRUE(looks_up(builder, key, other_card, LookupStatus::Stale)) << "uuid matching must refuse another card";

  ArtifactCache shared(dir_, fleet);
  EXPECT_TRUE(looks_up(shared, key, other_card, LookupStatus::Hit));
  auto r = shared.get_or_build(key, other_card, counting_builder(count_));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->outcome, CacheOutcome::Hit);
  EXPECT_EQ(builds(), 1);

  BuildEnvironment other_model = other_card;
  other_model.gpu_name = "Other GPU";
  EXPECT_TRUE(looks_up(shared, key, other_model, LookupStatus::Stale,
                       "GPU model mismatch (AEGISRT_CACHE_GPU_MATCH=model): built for 'Test GPU' (compute "
                       "capability 8.7), running on 'Other GPU' (compute capability 8.7)"));

  const BuildEnvironment other_cc = trt_env("10.16.0", "GPU-bbbb", "9.0");
  EXPECT_TRUE(looks_up(shared, key, other_cc, LookupStatus::Stale, "running on 'Test GPU' (compute capability 9.0)"));

  // The backend version still counts in model matching.
  EXPECT_TRUE(looks_up(shared, key, trt_env("10.17.0", "GPU-bbbb"), LookupStatus::Stale,
                       "built for TensorRT 10.16.0, running 10.17.0"));
}

TEST_F(ArtifactCacheTest, GpuMatchModelRefusesAnArtefactWithoutAGpuName) {
  ArtifactCache builder(dir_);
  auto key = trt_key(source_);
  BuildEnvironment unnamed = trt_env();
  unnamed.gpu_name.clear();
  ASSERT_TRUE(builder.get_or_build(key, unnamed, counting_builder(count_)).ok());
  CacheOptions fleet;
  fleet.gpu_match = GpuMatch::Model;
  ArtifactCache shared(dir_, fleet);
  // Even the same card: the model cannot be shown.
  EXPECT_TRUE(looks_up(shared, key, unnamed, LookupStatus::Stale, "built for an unnamed GPU (compute capability 8.7)"));
  // A CPU artefact stays independent of the GPU in either mode.
  BuildEnvironment cpu{"TVM", "0.27.0", "", "", ""};
  auto cpu_key = trt_key(source_);
  cpu_key.backend = "tvm";
  ASSERT_TRUE(shared.get_or_build(cpu_key, cpu, counting_builder(count_)).ok());
  EXPECT_TRUE(looks_up(shared, cpu_key, cpu, LookupStatus::Hit));
}

TEST(GpuMatchEnv, ReadsAegisrtCacheGpuMatch) {
  const char* saved = std::getenv("AEGISRT_CACHE_GPU_MATCH");
  const std::string keep = saved != nullptr ? saved : "";
  ::unsetenv("AEGISRT_CACHE_GPU_MATCH");
  EXPECT_EQ(default_gpu_match(), GpuMatch::Uuid);
  ::setenv("AEGISRT_CACHE_GPU_MATCH", "model", 1);
  EXPECT_EQ(default_gpu_match(), GpuMatch::Model);
  EXPECT_EQ(CacheOptions{}.gpu_match, GpuMatch::Model);
  ::setenv("AEGISRT_CACHE_GPU_MATCH", "uuid", 1);
  EXPECT_EQ(default_gpu_match(), GpuMatch::Uuid);
  ::setenv("AEGISRT_CACHE_GPU_MATCH", "Model ", 1);  // not a value: the strict rule
  EXPECT_EQ(default_gpu_match(), GpuMatch::Uuid);
  EXPECT_EQ(to_string(GpuMatch::Model), "model");
  if (saved != nullptr) {
    ::setenv("AEGISRT_CACHE_GPU_MATCH", keep.c_str(), 1);
  } else {
    ::unsetenv("AEGISRT_CACHE_GPU_MATCH");
  }
}

TEST_F(ArtifactCacheTest, BadKeysAndMissingSourceAreTypedErrors) {
  ArtifactCache cache(dir_);
  auto key = trt_key(source_);
  key.variant = "../escape";
  auto r = cache.lookup(key, trt_env());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("variant"), std::string::npos) << r.error();

  key = trt_key(source_);
  key.precision = "";
  ASSERT_FALSE(cache.lookup(key, trt_env()).ok());

  key = trt_key(root_ / "no_such_model.onnx");
  auto m = cache.get_or_build(key, trt_env(), counting_builder(count_));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::NotFound);
  EXPECT_NE(m.error().to_string().find("no_such_model.onnx"), std::string::npos) << m.error();
  EXPECT_EQ(builds(), 0);
}

TEST_F(ArtifactCacheTest, BuilderFailuresPropagateAndLeaveNothing) {
  ArtifactCache cache(dir_);
  const auto key = trt_key(source_);
  auto failing = [](const BuildRequest& req) -> Result<BuildOutput> {
    spit(req.output_path, "partial");
    return Error(ErrorCode::BackendError, "parser rejected node 7");
  };
  auto r = cache.get_or_build(key, trt_env(), failing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::BackendError);
  EXPECT_NE(r.error().to_string().find("parser rejected node 7"), std::string::npos);
  EXPECT_NE(r.error().to_string().find("yolov8n_fp16.engine"), std::string::npos) << r.error();

  auto throwing = [](const BuildRequest&) -> Result<BuildOutput> { throw std::runtime_error("boom"); };
  auto t = cache.get_or_build(key, trt_env(), throwing);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code(), ErrorCode::Internal);

  auto silent = [](const BuildRequest&) -> Result<BuildOutput> { return BuildOutput{}; };
  auto s = cache.get_or_build(key, trt_env(), silent);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::BackendError);
  EXPECT_NE(s.error().message().find("no file"), std::string::npos) << s.error();

  for (const auto& e : fs::directory_iterator(dir_)) {
    const auto n = e.path().filename().string();
    EXPECT_TRUE(n.ends_with(".lock")) << "left behind: " << n;
  }
  auto ok = cache.get_or_build(key, trt_env(), counting_builder(count_));
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->outcome, CacheOutcome::Built);
}

TEST_F(ArtifactCacheTest, ProgressStagesReachTheCaller) {
  ArtifactCache cache(dir_);
  std::vector<std::pair<std::string, double>> seen;
  auto r = cache.get_or_build(trt_key(source_), trt_env(), counting_builder(count_),
                              [&](std::string_view stage, double f) { seen.emplace_back(stage, f); });
  ASSERT_TRUE(r.ok()) << r.error();
  const std::vector<std::pair<std::string, double>> want = {{"convert", 0.0}, {"write", 0.5}, {"done", 1.0}};
  EXPECT_EQ(seen, want);
}

TEST_F(ArtifactCacheTest, ThreadsBuildOnce) {
  constexpr int kThreads = 6;
  std::vector<Result<CacheResult>> results(kThreads, Error(ErrorCode::Internal, "unset"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ArtifactCache cache(dir_);  // separate instances, like separate backends
      results[static_cast<std::size_t>(i)] =
          cache.get_or_build(trt_key(source_), trt_env(), counting_builder(count_, std::chrono::milliseconds(300)));
    });
  }
  for (auto& t : threads) t.join();
  int built = 0;
  for (auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.error();
    if (r->outcome == CacheOutcome::Built) ++built;
    EXPECT_EQ(slurp(r->artifact_path), known_artifact("onnx-model-v1"));
  }
  EXPECT_EQ(built, 1);
  EXPECT_EQ(builds(), 1);
}

// Runs cache_worker and returns {exit status (or -signal), stdout}.
struct WorkerRun {
  pid_t pid = -1;
  fs::path out;
};

WorkerRun spawn_worker(const std::vector<std::string>& args, const fs::path& out) {
  std::vector<std::string> argv_s = {AEGISRT_CACHE_WORKER};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  WorkerRun w;
  w.out = out;
  const int rc = posix_spawn(&w.pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) w.pid = -1;
  return w;
}

int wait_worker(const WorkerRun& w) {
  int status = 0;
  if (w.pid <= 0 || ::waitpid(w.pid, &status, 0) != w.pid) return -1000;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1001;
}

TEST_F(ArtifactCacheTest, SeparateProcessesBuildOnce) {
  constexpr int kProcs = 4;
  std::vector<WorkerRun> runs;
  for (int i = 0; i < kProcs; ++i) {
    runs.push_back(spawn_worker({"build", dir_.string(), source_.string(), count_.string(), "700"},
                                root_ / ("out" + std::to_string(i) + ".txt")));
    ASSERT_GT(runs.back().pid, 0) << "cannot spawn " << AEGISRT_CACHE_WORKER;
  }
  std::multiset<std::string> outcomes;
  for (auto& w : runs) {
    EXPECT_EQ(wait_worker(w), 0) << slurp(w.out);
    // The outcome is the last line (spdlog's default logger also writes to stdout).
    auto o = slurp(w.out);
    if (!o.empty() && o.back() == '\n') o.pop_back();
    outcomes.insert(o.substr(o.rfind('\n') == std::string::npos ? 0 : o.rfind('\n') + 1));
  }
  EXPECT_EQ(builds(), 1) << "processes built " << builds() << " times";
  EXPECT_EQ(outcomes.count("built"), 1u);
  // The others waited for the lock (or started after publishing).
  EXPECT_EQ(outcomes.count("built-by-other") + outcomes.count("hit"), static_cast<std::size_t>(kProcs - 1));
  ArtifactCache cache(dir_);
  EXPECT_TRUE(looks_up(cache, trt_key(source_), trt_env(), LookupStatus::Hit));
}

TEST_F(ArtifactCacheTest, CrashMidBuildIsNeverAccepted) {
  auto crash = spawn_worker({"crash", dir_.string(), source_.string(), count_.string()}, root_ / "crash.txt");
  ASSERT_GT(crash.pid, 0);
  EXPECT_EQ(wait_worker(crash), -SIGABRT);
  // The half-written temporary is there but never considered.
  int temps = 0;
  for (const auto& e : fs::directory_iterator(dir_))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) ++temps;
  EXPECT_EQ(temps, 1);
  ArtifactCache cache(dir_);
  const auto key = trt_key(source_);
  EXPECT_TRUE(looks_up(cache, key, trt_env(), LookupStatus::Miss));
  // The dead process's lock was released by the kernel: the next build proceeds.
  auto r = cache.get_or_build(key, trt_env(), counting_builder(count_));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->outcome, CacheOutcome::Built);
  EXPECT_EQ(slurp(r->artifact_path), known_artifact("onnx-model-v1"));
  // clean() removes the crashed build's temporary, keeps the good entry.
  auto c = cache.clean();
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_EQ(c->removed.size(), 1u);
  EXPECT_NE(c->removed[0].filename().string().find(".tmp-"), std::string::npos);
  EXPECT_TRUE(fs::exists(r->artifact_path));
}

TEST_F(ArtifactCacheTest, LockHeldTooLongIsTimeout) {
  CacheOptions opts;
  opts.lock_timeout = std::chrono::milliseconds(200);
  ArtifactCache cache(dir_, opts);
  const auto key = trt_key(source_);
  fs::create_directories(dir_);
  const int fd = ::open(cache.lock_path(key).c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // another "builder" holds it
  auto r = cache.get_or_build(key, trt_env(), counting_builder(count_));
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Timeout) << r.error();
  EXPECT_NE(r.error().message().find("yolov8n_fp16.engine.lock"), std::string::npos) << r.error();
  EXPECT_EQ(builds(), 0);
}

TEST_F(ArtifactCacheTest, UnusableDirectoryBuildsUncachedWithWarning) {
  // A directory below a regular file cannot exist, even for root (tests run as root here).
  const fs::path blocker = root_ / "not_a_dir";
  spit(blocker, "file");
  std::vector<fs::path> dirs = {blocker / "engines"};
  if (::geteuid() != 0) {  // a read-only directory stops non-root users too
    const fs::path ro = root_ / "readonly";
    fs::create_directories(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    dirs.push_back(ro);
  }
  for (const auto& d : dirs) {
    CacheOptions opts;
    opts.fallback_temp_dir = root_;
    ArtifactCache cache(d, opts);
    auto r = cache.get_or_build(trt_key(source_), trt_env(), counting_builder(count_));
    ASSERT_TRUE(r.ok()) << d << ": " << r.error();
    EXPECT_EQ(r->outcome, CacheOutcome::BuiltUncached);
    EXPECT_FALSE(r->caching_enabled);
    EXPECT_NE(r->warning.find("caching is off"), std::string::npos) << r->warning;
    EXPECT_NE(r->warning.find(d.string()), std::string::npos) << r->warning;
    EXPECT_EQ(r->artifact_path.parent_path().parent_path(), root_);
    EXPECT_EQ(r->artifact_path.filename(), "yolov8n_fp16.engine");
    EXPECT_EQ(slurp(r->artifact_path), known_artifact("onnx-model-v1"));
    EXPECT_EQ(r->metadata.artifact_sha256, sha256_hex(known_artifact("onnx-model-v1")));
  }
  if (::geteuid() != 0) fs::permissions(root_ / "readonly", fs::perms::owner_all);
}

TEST_F(ArtifactCacheTest, ListVerifyClean) {
  ArtifactCache cache(dir_);
  auto good = trt_key(source_);
  auto bad = trt_key(source_);
  bad.variant = "resnet";
  auto old = trt_key(source_);
  old.variant = "oldver";
  ASSERT_TRUE(cache.get_or_build(good, trt_env(), counting_builder(count_)).ok());
  ASSERT_TRUE(cache.get_or_build(bad, trt_env(), counting_builder(count_)).ok());
  ASSERT_TRUE(cache.get_or_build(old, trt_env("10.3.0"), counting_builder(count_)).ok());
  fs::resize_file(cache.artifact_path(bad), 10);
  spit(dir_ / "orphan_fp32.engine", "no sidecar");
  spit(dir_ / "notes.txt", "not an entry");

  auto listed = cache.list();
  ASSERT_TRUE(listed.ok()) << listed.error();
  std::vector<std::string> names;
  for (const auto& e : *listed) names.push_back(e.artifact_path.filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"oldver_fp16.engine", "orphan_fp32.engine",
                                             "resnet_fp16.engine", "yolov8n_fp16.engine"}));

  // The running TensorRT is 10.16.0: the 10.3.0 entry is stale.
  EnvironmentLookup env = [](const ArtifactMetadata& md) -> std::optional<BuildEnvironment> {
    if (md.backend == "tensorrt") return trt_env();
    return std::nullopt;
  };
  auto verified = cache.verify(env);
  ASSERT_TRUE(verified.ok());
  std::map<std::string, std::string> problems;
  for (const auto& e : *verified) problems[e.artifact_path.filename().string()] = e.problem;
  EXPECT_EQ(problems["yolov8n_fp16.engine"], "");
  EXPECT_NE(problems["resnet_fp16.engine"].find("size mismatch"), std::string::npos);
  EXPECT_NE(problems["orphan_fp32.engine"].find("no sidecar"), std::string::npos);
  EXPECT_EQ(problems["oldver_fp16.engine"], "built for TensorRT 10.3.0, running 10.16.0");

  auto dry = cache.clean(env, false, /*dry_run=*/true);
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->removed.size(), 4u);  // resnet pair, oldver pair (the orphan is not provably ours)
  EXPECT_TRUE(fs::exists(cache.artifact_path(bad)));

  auto cleaned = cache.clean(env);
  ASSERT_TRUE(cleaned.ok());
  EXPECT_EQ(cleaned->removed.size(), 4u);
  EXPECT_TRUE(cleaned->failures.empty());
  EXPECT_FALSE(fs::exists(cache.artifact_path(bad)));
  EXPECT_FALSE(fs::exists(cache.sidecar_path(old)));
  EXPECT_TRUE(fs::exists(dir_ / "orphan_fp32.engine"));  // no sidecar: never removed
  EXPECT_TRUE(fs::exists(cache.artifact_path(good)));
  EXPECT_TRUE(fs::exists(dir_ / "notes.txt"));

  auto all = cache.clean(env, /*all=*/true);
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(fs::exists(cache.artifact_path(good)));
  auto left = cache.list();
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);  // only the orphan without sidecar
  EXPECT_EQ((*left)[0].artifact_path.filename(), "orphan_fp32.engine");
}

TEST_F(ArtifactCacheTest, VerifyDetectsEditedSourceWithoutAnEnvironment) {
  ArtifactCache cache(dir_);
  ASSERT_TRUE(cache.get_or_build(trt_key(source_), trt_env(), counting_builder(count_)).ok());
  auto v = cache.verify();
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].problem, "");
  ASSERT_EQ((*v)[0].notes.size(), 1u);  // version/GPU not compared
  spit(source_, "edited");
  v = cache.verify();
  ASSERT_TRUE(v.ok());
  EXPECT_NE((*v)[0].problem.find("source model changed"), std::string::npos);
}

TEST(ArtifactMetadataTest, JsonRoundTripAndGarbage) {
  ArtifactMetadata m;
  m.backend = "tvm";
  m.backend_display_name = "TVM";
  m.backend_version = "0.27.0";
  m.variant = "affine";
  m.precision = "fp32";
  m.source_sha256 = "ab";
  m.build_options = {{"target", "llvm"}};
  m.artifact_size = 42;
  m.artifact_sha256 = "cd";
  m.extra = {{"io", "{\"inputs\":[]}"}};
  auto back = ArtifactMetadata::from_json(m.to_json(), "mem");
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->to_json(), m.to_json());
  EXPECT_EQ(back->extra.at("io"), "{\"inputs\":[]}");

  auto bad = ArtifactMetadata::from_json("[1,2]", "x.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::Corrupt);
  EXPECT_NE(bad.error().message().find("x.json"), std::string::npos);
  auto missing = ArtifactMetadata::from_json("{\"format_version\":1}", "y.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::Corrupt);
  auto future = ArtifactMetadata::from_json("{\"format_version\":99}", "z.json");
  ASSERT_FALSE(future.ok());
  EXPECT_NE(future.error().message().find("format_version 99"), std::string::npos);
}

// Numbers that do not fit the field are Corrupt, not a cast (the sidecar
// fuzzer found "format_version": 1e128 converted to int: undefined behaviour).
TEST(ArtifactMetadataTest, OutOfRangeOrFractionalNumbersAreCorrupt) {
  ArtifactMetadata m;
  m.backend = "tvm";
  m.backend_version = "0.27.0";
  m.variant = "affine";
  m.precision = "fp32";
  m.artifact_size = 42;
  const std::string good = m.to_json();
  ASSERT_TRUE(ArtifactMetadata::from_json(good, "ok.json").ok());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    const auto at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) t.replace(at, from.size(), to);
    return ArtifactMetadata::from_json(t, "bad.json");
  };
  const std::string version = "\"format_version\": 1";
  const std::string size = "\"size\": 42";
  for (const auto& [from, to, field] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {version, "\"format_version\": 1e128", "format_version"},
           {version, "\"format_version\": 1.5", "format_version"},
           {version, "\"format_version\": 99999999999999999999999", "format_version"},
           {size, "\"size\": -1", "artifact.size"},
           {size, "\"size\": 4.2e1", "artifact.size"},
           {size, "\"size\": 1e300", "artifact.size"}}) {
    auto r = with(from, to);
    ASSERT_FALSE(r.ok()) << to;
    EXPECT_EQ(r.error().code(), ErrorCode::Corrupt) << to;
    EXPECT_NE(r.error().message().find(field), std::string::npos) << to << ": " << r.error().message();
  }
}

}  // namespace
}  // namespace aegisrt::testing
