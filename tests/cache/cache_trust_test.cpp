// Issue 12 regressions for the artefact cache: trust (owner and mode of the
// folder and its entries, checked before anything is read or loaded), private
// defaults, `clean` touching only provable entries, verify == lookup, external
// sources in the key, name suffixes, lock holder reporting and bounded
// sidecar reads.
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "aegisrt/cache/sha256.h"
#include "cache/cache_fixture.h"
#include "cache/cache_test_util.h"

namespace aegisrt::testing {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kForeignUid = 65534;  // "nobody" on Debian

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return static_cast<unsigned>(st.st_mode & 07777);
}

class CacheTrustTest : public CacheFixture {
 protected:
  CacheTrustTest() : CacheFixture("aegisrt_trust_", "cache") {}

  // Builds one valid entry, returns the cache.
  ArtifactCache built_cache(CacheOptions o = {}) {
    ArtifactCache cache(dir_, std::move(o));
    auto r = cache.get_or_build(trt_key(source_), trt_env(), counting_builder(count_));
    EXPECT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(builds(), 1);
    return cache;
  }
};

// A validator that counts calls: it runs only after the trust checks pass,
// so "0 calls" proves the entry was refused before its sidecar was used.
struct CountingValidator {
  std::shared_ptr<int> calls = std::make_shared<int>(0);
  EntryValidator fn() const {
    return [c = calls](const ArtifactMetadata&, const std::string&) -> std::optional<std::string> {
      ++*c;
      return std::nullopt;
    };
  }
};

TEST_F(CacheTrustTest, NewFoldersArePrivateAndEntriesNotWritableByOthers) {
  dir_ = root_ / "a" / "b" / "cache";
  ArtifactCache cache(dir_);
  auto loose_builder = [](const BuildRequest& req) -> Result<BuildOutput> {
    spit(req.output_path, "artefact");
    fs::permissions(req.output_path, fs::perms::all);  // 0777 from a careless builder
    return BuildOutput{};
  };
  auto r = cache.get_or_build(trt_key(source_), trt_env(), loose_builder);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(mode_of(root_ / "a"), 0700u);
  EXPECT_EQ(mode_of(root_ / "a" / "b"), 0700u);
  EXPECT_EQ(mode_of(dir_), 0700u);
  EXPECT_EQ(mode_of(r->artifact_path), 0644u);
  EXPECT_EQ(mode_of(cache.sidecar_path(trt_key(source_))), 0644u);
  EXPECT_EQ(mode_of(cache.lock_path(trt_key(source_))), 0600u);
  // And the published entry is then a hit.
  auto again = cache.lookup(trt_key(source_), trt_env());
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again->status, LookupStatus::Hit) << again->reason;
}

TEST_F(CacheTrustTest, GroupWritableFolderIsRefusedBeforeAnyRead) {
  CountingValidator v;
  CacheOptions o;
  o.validate = v.fn();
  auto cache = built_cache(o);
  *v.calls = 0;
  fs::permissions(dir_, fs::perms::group_write, fs::perm_options::add);  // 0775-ish
  auto r = cache.lookup(trt_key(source_), trt_env());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("'" + dir_.string() + "'"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("group or others can write"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("owner uid " + std::to_string(::geteuid())), std::string::npos) << r.error();
  // get_or_build refuses too (no build, no "caching is off" fallback).
  auto b = cache.get_or_build(trt_key(source_), trt_env(), counting_builder(count_));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(builds(), 1);
  EXPECT_EQ(*v.calls, 0);
  // World-writable without group: refused as well.
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::others_all);
  EXPECT_FALSE(cache.lookup(trt_key(source_), trt_env()).ok());
  // Back to private: a hit again (the check, not the entry, refused it).
  fs::permissions(dir_, fs::perms::owner_all);
  auto ok = cache.lookup(trt_key(source_), trt_env());
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->status, LookupStatus::Hit);
}

TEST_F(CacheTrustTest, GroupWritableEntryIsRefused) {
  CountingValidator v;
  CacheOptions o;
  o.validate = v.fn();
  auto cache = built_cache(o);
  const auto key = trt_key(source_);
  for (const fs::path& p : {cache.artifact_path(key), cache.sidecar_path(key)}) {
    *v.calls = 0;
    fs::permissions(p, fs::perms::group_write, fs::perm_options::add);
    auto r = cache.lookup(key, trt_env());
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message().find("'" + p.string() + "'"), std::string::npos) << r.error();
    EXPECT_NE(r.error().message().find("mode 0664"), std::string::npos) << r.error();
    EXPECT_EQ(*v.calls, 0);
    // verify() reports the same problem.
    auto ver = cache.verify();
    ASSERT_TRUE(ver.ok());
    ASSERT_EQ(ver->size(), 1u);
    EXPECT_NE((*ver)[0].problem.find("group or others can write"), std::string::npos) << (*ver)[0].problem;
    fs::permissions(p, fs::perms::group_write, fs::perm_options::remove);
  }
  EXPECT_EQ(builds(), 1);
}

TEST_F(CacheTrustTest, ForeignOwnedFolderOrEntryIsRefused) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to chown files to uid " << kForeignUid
                 << " (simulating another user's folder); group-writable cases cover non-root runs";
  }
  auto cache = built_cache();
  const auto key = trt_key(source_);
  const std::string foreign = "uid " + std::to_string(kForeignUid);
  for (const fs::path& p : {dir_, cache.artifact_path(key), cache.sidecar_path(key)}) {
    ASSERT_EQ(::chown(p.c_str(), kForeignUid, kForeignUid), 0) << p;
    auto r = cache.lookup(key, trt_env());
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message().find("'" + p.string() + "'"), std::string::npos) << r.error();
    EXPECT_NE(r.error().message().find("owned by " + foreign), std::string::npos) << r.error();
    EXPECT_NE(r.error().message().find("not by you (uid 0"), std::string::npos) << r.error();
    ASSERT_EQ(::chown(p.c_str(), 0, 0), 0);
  }
  EXPECT_EQ(builds(), 1);
}

// The attack: another user plants a library plus a matching sidecar in
// the shared default folder. The "backend" here dlopen()s whatever
// get_or_build returns, as TVM does. Untrusted: refused, constructor never ran.
// Trusted (positive control): the same bytes are loaded and the constructor runs.
TEST_F(CacheTrustTest, PlantedLibraryIsNeverLoadedFromAnUntrustedFolder) {
  const fs::path marker = root_ / "constructor_ran";
  ::setenv("AEGISRT_PLANTED_MARKER", marker.c_str(), 1);
  ArtifactKey key = trt_key(source_);
  key.backend = "tvm";
  key.extension = ".so";
  BuildEnvironment env = trt_env();
  // The attacker builds a valid entry whose "artefact" is the planted library.
  {
    ArtifactCache attacker(dir_);
    auto r = attacker.get_or_build(key, env, [](const BuildRequest& req) -> Result<BuildOutput> {
      fs::copy_file(AEGISRT_PLANTED_LIB, req.output_path, fs::copy_options::overwrite_existing);
      return BuildOutput{};
    });
    ASSERT_TRUE(r.ok()) << r.error();
  }
  auto load = [&]() -> Result<void> {
    ArtifactCache cache(dir_);
    AEGIS_ASSIGN_OR_RETURN(auto r, cache.get_or_build(key, env, counting_builder(count_)));
    void* h = ::dlopen(r.artifact_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h != nullptr) ::dlclose(h);
    return {};
  };
  std::vector<std::pair<std::string, std::function<void()>>> hostile = {
      {"group-writable folder", [&] { fs::permissions(dir_, fs::perms::group_write, fs::perm_options::add); }},
      {"world-writable library",
       [&] { fs::permissions(dir_ / key.file_name(), fs::perms::others_write, fs::perm_options::add); }},
  };
  if (::geteuid() == 0) {
    hostile.emplace_back("folder of another user", [&] { ASSERT_EQ(::chown(dir_.c_str(), kForeignUid, 0), 0); });
    hostile.emplace_back("library of another user",
                         [&] { ASSERT_EQ(::chown((dir_ / key.file_name()).c_str(), kForeignUid, 0), 0); });
  }
  for (const auto& [what, make_hostile] : hostile) {
    make_hostile();
    auto r = load();
    EXPECT_FALSE(r.ok()) << what;
    EXPECT_FALSE(fs::exists(marker)) << what << ": the planted constructor ran";
    // Undo.
    if (::geteuid() == 0) {
      ASSERT_EQ(::chown(dir_.c_str(), 0, 0), 0);
      ASSERT_EQ(::chown((dir_ / key.file_name()).c_str(), 0, 0), 0);
    }
    fs::permissions(dir_, fs::perms::owner_all);
    fs::permissions(dir_ / key.file_name(), fs::perms::owner_read | fs::perms::owner_write |
                                                fs::perms::group_read | fs::perms::others_read);
  }
  EXPECT_EQ(builds(), 0);
  // Positive control: once the folder and entry are ours, the same library loads.
  auto r = load();
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(fs::exists(marker)) << "control: a trusted library is dlopen()ed";
  ::unsetenv("AEGISRT_PLANTED_MARKER");
}

TEST_F(CacheTrustTest, DefaultFoldersArePerUser) {
  const char* old_xdg = std::getenv("XDG_CACHE_HOME");
  const std::string saved_xdg = old_xdg ? old_xdg : "";
  const char* old_home = std::getenv("HOME");
  const std::string saved_home = old_home ? old_home : "";

  ::setenv("XDG_CACHE_HOME", "/x/cachehome", 1);
  EXPECT_EQ(default_cache_dir("tvm"), fs::path("/x/cachehome/aegisrt/tvm"));
  EXPECT_EQ(default_cache_dir("openvino"), fs::path("/x/cachehome/aegisrt/openvino"));
  ::setenv("XDG_CACHE_HOME", "relative/ignored", 1);  // XDG: relative paths are invalid
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(default_cache_dir("tvm"), fs::path("/home/someone/.cache/aegisrt/tvm"));
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(default_cache_dir("openvino"), fs::path("/home/someone/.cache/aegisrt/openvino"));

  if (saved_xdg.empty()) ::unsetenv("XDG_CACHE_HOME");
  else ::setenv("XDG_CACHE_HOME", saved_xdg.c_str(), 1);
  if (saved_home.empty()) ::unsetenv("HOME");
  else ::setenv("HOME", saved_home.c_str(), 1);
}

TEST_F(CacheTrustTest, TensorRtSeedFolderRules) {
  const std::string uid = std::to_string(::geteuid());
  const fs::path seed = root_ / "trt_engines";
  EXPECT_EQ(shared_tmp_cache_dir(seed), seed);  // missing: the seed rule
  fs::create_directory(seed);
  fs::permissions(seed, fs::perms::owner_all);
  EXPECT_EQ(shared_tmp_cache_dir(seed), seed);  // ours and private
  fs::permissions(seed, fs::perms::all | fs::perms::sticky_bit);  // a shared 1777 folder
  EXPECT_EQ(shared_tmp_cache_dir(seed), seed / uid);
  fs::permissions(seed, fs::perms::all);  // writable by all, not sticky: others could swap our subfolder
  EXPECT_EQ(shared_tmp_cache_dir(seed), fs::path(seed.string() + "-" + uid));
  if (::geteuid() == 0) {
    fs::permissions(seed, fs::perms::owner_all);
    ASSERT_EQ(::chown(seed.c_str(), kForeignUid, 0), 0);  // another user's
    EXPECT_EQ(shared_tmp_cache_dir(seed), fs::path(seed.string() + "-" + uid));
  }
  // The default for TensorRT follows the rule on the real seed.
  EXPECT_EQ(default_cache_dir("tensorrt"), shared_tmp_cache_dir("/tmp/trt_engines"));
}

TEST_F(CacheTrustTest, CleanNeverTouchesFilesThatAreNotProvablyEntries) {
  fs::create_directories(dir_);
  fs::permissions(dir_, fs::perms::owner_all);
  const std::map<std::string, std::string> files = {
      {"package.json", "{\"name\": \"x\"}"},
      {"libfoo.so", "\x7f" "ELF not really"},
      {"data.bin", std::string(100, '\0')},
      {"notes.txt", "notes"},
      {"model.engine", "an engine without sidecar"},
      {"stray.so.json", "{not json"},
      {".hidden.tmp-x", "not our temp name"},
  };
  for (const auto& [n, content] : files) spit(dir_ / n, content);
  // A well-formed sidecar of ours that describes another file: not proof.
  ArtifactMetadata md;
  md.backend = "tensorrt";
  md.backend_version = "10";
  md.variant = "other";
  md.precision = "fp16";
  md.source_sha256 = "00";
  md.artifact_size = 4;
  md.artifact_sha256 = sha256_hex("elsewhere");
  md.artifact_file = "other_fp16.engine";
  spit(dir_ / "impostor.engine", "keep");
  spit(dir_ / "impostor.engine.json", md.to_json());

  ArtifactCache cache(dir_);
  for (bool all : {false, true}) {
    for (bool dry : {true, false}) {
      auto r = cache.clean({}, all, dry);
      ASSERT_TRUE(r.ok()) << r.error();
      EXPECT_TRUE(r->removed.empty()) << "all=" << all << " dry=" << dry << ": " << r->removed.front();
    }
  }
  for (const auto& [n, content] : files) EXPECT_EQ(slurp(dir_ / n), content) << n;
  EXPECT_EQ(slurp(dir_ / "impostor.engine"), "keep");
  EXPECT_TRUE(fs::exists(dir_ / "impostor.engine.json"));
}

TEST_F(CacheTrustTest, CleanRemovesOurEntriesAndTemporariesOnly) {
  auto cache = built_cache();
  const auto key = trt_key(source_);
  spit(dir_ / "notes.txt", "keep");
  spit(dir_ / ("." + key.file_name() + ".tmp-12-34-5"), "crashed build");
  spit(dir_ / ("." + key.file_name() + ".tmp-12-34-6.build.so"), "crashed TVM build");
  spit(dir_ / ("." + key.file_name() + ".tmp-12-34-7.records.json"), "crashed TVM tuning");
  spit(dir_ / ("." + key.file_name() + ".tmp-12-34-7.seed.json"), "crashed TVM re-tune");
  spit(dir_ / ("." + key.file_name() + ".tmp-12-34-7.notes.json"), "not a tail of ours");
  auto r = cache.clean({}, /*all=*/true);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->removed.size(), 6u);
  EXPECT_TRUE(fs::exists(dir_ / ("." + key.file_name() + ".tmp-12-34-7.notes.json")));
  EXPECT_FALSE(fs::exists(cache.artifact_path(key)));
  EXPECT_FALSE(fs::exists(cache.sidecar_path(key)));
  EXPECT_EQ(slurp(dir_ / "notes.txt"), "keep");
}

TEST_F(CacheTrustTest, CleanRefusesAFolderThatIsNotOurs) {
  auto cache = built_cache();
  fs::permissions(dir_, fs::perms::others_write, fs::perm_options::add);
  auto r = cache.clean({}, true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_TRUE(fs::exists(cache.artifact_path(trt_key(source_))));
}

TEST_F(CacheTrustTest, VerifyAppliesTheLookupChecksAndABadEntryIsRebuilt) {
  // The validator plays TVM's: extra "builder" must be "counting".
  CacheOptions o;
  o.validate = [](const ArtifactMetadata& md, const std::string&) -> std::optional<std::string> {
    auto it = md.extra.find("builder");
    if (it == md.extra.end() || it->second != "counting") return std::string("unusable extra.builder");
    return std::nullopt;
  };
  auto cache = built_cache(o);
  const auto key = trt_key(source_);
  // Garbage in the sidecar's extra (valid JSON, artefact untouched).
  auto j = nlohmann::json::parse(slurp(cache.sidecar_path(key)));
  j["extra"]["builder"] = "garbage";
  spit(cache.sidecar_path(key), j.dump());
  auto v = cache.verify();
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].problem, "unusable extra.builder");
  auto l = cache.lookup(key, trt_env());
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->status, LookupStatus::Stale);
  EXPECT_EQ(l->reason, "unusable extra.builder");
  // Not a permanent failure: the next get_or_build rebuilds it.
  auto r = cache.get_or_build(key, trt_env(), counting_builder(count_));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->outcome, CacheOutcome::Built);
  EXPECT_EQ(builds(), 2);
  v = cache.verify();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)[0].problem, "");

  // A valid pair copied under another entry's name: lookup and verify both refuse it.
  auto other = key;
  other.variant = "copied";
  fs::copy_file(cache.artifact_path(key), cache.artifact_path(other));
  fs::copy_file(cache.sidecar_path(key), cache.sidecar_path(other));
  v = cache.verify();
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 2u);
  EXPECT_NE((*v)[0].problem.find("sidecar describes 'yolov8n_fp16.engine', not 'copied_fp16.engine'"),
            std::string::npos)
      << (*v)[0].problem;
  l = cache.lookup(other, trt_env());
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->status, LookupStatus::Stale);
}

TEST_F(CacheTrustTest, ExtraSourcesArePartOfTheKey) {
  const fs::path weights = root_ / "model.weights";
  spit(weights, "weights-v1");
  ArtifactKey key = trt_key(source_);
  key.extra_sources = {weights};
  ArtifactCache cache(dir_);
  auto first = cache.get_or_build(key, trt_env(), counting_builder(count_));
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_EQ(first->metadata.extra_sources, std::vector<std::string>{fs::absolute(weights).string()});
  // Independent expectation: SHA-256 over "model:<sha>\n" and "<name>:<sha>\n".
  EXPECT_EQ(first->metadata.source_sha256,
            sha256_hex("model:" + sha256_hex("onnx-model-v1") + "\nmodel.weights:" + sha256_hex("weights-v1") + "\n"));
  auto hit = cache.get_or_build(key, trt_env(), counting_builder(count_));
  ASSERT_TRUE(hit.ok());
  EXPECT_EQ(hit->outcome, CacheOutcome::Hit);

  spit(weights, "weights-v2");  // only the external data changes
  auto v = cache.verify();
  ASSERT_TRUE(v.ok());
  EXPECT_NE((*v)[0].problem.find("source model changed"), std::string::npos) << (*v)[0].problem;
  auto rebuilt = cache.get_or_build(key, trt_env(), counting_builder(count_));
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(rebuilt->outcome, CacheOutcome::Built);
  EXPECT_NE(rebuilt->build_reason.find("source model changed"), std::string::npos) << rebuilt->build_reason;
  EXPECT_EQ(builds(), 2);

  fs::remove(weights);  // a missing data file is an error naming it, not a silent hit
  auto gone = cache.lookup(key, trt_env());
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code(), ErrorCode::NotFound);
  EXPECT_NE(gone.error().to_string().find("model.weights"), std::string::npos) << gone.error();
}

TEST_F(CacheTrustTest, NameSuffixSeparatesTargets) {
  ArtifactKey cpu = trt_key(source_);
  cpu.backend = "tvm";
  cpu.extension = ".so";
  cpu.name_suffix = "_cpu";
  ArtifactKey cuda = cpu;
  cuda.name_suffix = "_cuda-sm_90";
  ArtifactCache cache(dir_);
  EXPECT_EQ(cache.artifact_path(cpu), dir_ / "yolov8n_fp16_cpu.so");
  EXPECT_EQ(cache.artifact_path(cuda), dir_ / "yolov8n_fp16_cuda-sm_90.so");
  ASSERT_TRUE(cache.get_or_build(cpu, trt_env(), counting_builder(count_)).ok());
  ASSERT_TRUE(cache.get_or_build(cuda, trt_env(), counting_builder(count_)).ok());
  // Both stay: neither build overwrote the other.
  auto a = cache.get_or_build(cpu, trt_env(), counting_builder(count_));
  auto b = cache.get_or_build(cuda, trt_env(), counting_builder(count_));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->outcome, CacheOutcome::Hit);
  EXPECT_EQ(b->outcome, CacheOutcome::Hit);
  EXPECT_EQ(builds(), 2);
  auto bad = cpu;
  bad.name_suffix = "_../x";
  EXPECT_EQ(cache.lookup(bad, trt_env()).error().code(), ErrorCode::InvalidArgument);
}

TEST_F(CacheTrustTest, WaiterSaysWhomItWaitsForAndTimeoutIsConfigurable) {
  CacheOptions o;
  o.lock_timeout = std::chrono::milliseconds(300);
  o.lock_report_interval = std::chrono::milliseconds(50);
  ArtifactCache cache(dir_, o);
  const auto key = trt_key(source_);
  fs::create_directories(dir_);
  // Another process's lock with its pid recorded, as our lock holders write it.
  const int fd = ::open(cache.lock_path(key).c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  const std::string holder = "pid 424242 on otherhost since 2026-01-01T00:00:00Z\n";
  ASSERT_EQ(::write(fd, holder.data(), holder.size()), static_cast<ssize_t>(holder.size()));
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  std::vector<std::string> reports;
  auto r = cache.get_or_build(key, trt_env(), counting_builder(count_),
                              [&](std::string_view stage, double) { reports.emplace_back(stage); });
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Timeout);
  EXPECT_NE(r.error().message().find("pid 424242"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("--lock-timeout"), std::string::npos) << r.error();
  ASSERT_FALSE(reports.empty());
  EXPECT_NE(reports.front().find("waiting for pid 424242 on otherhost"), std::string::npos) << reports.front();
  EXPECT_NE(reports.front().find(cache.lock_path(key).string()), std::string::npos) << reports.front();
  EXPECT_EQ(builds(), 0);
}

TEST_F(CacheTrustTest, BuilderRecordsItsPidInTheLock) {
  ArtifactCache cache(dir_);
  const auto key = trt_key(source_);
  std::string seen;
  auto r = cache.get_or_build(key, trt_env(), [&](const BuildRequest& req) -> Result<BuildOutput> {
    seen = slurp(cache.lock_path(key));
    spit(req.output_path, "x");
    return BuildOutput{};
  });
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(seen.starts_with("pid " + std::to_string(::getpid()) + " on ")) << seen;
  EXPECT_EQ(slurp(cache.lock_path(key)), "");  // released: no holder recorded
}

TEST(CacheLockTimeout, EnvironmentVariableSetsTheDefault) {
  ::setenv("AEGISRT_LOCK_TIMEOUT", "2.5", 1);
  EXPECT_EQ(default_lock_timeout(), std::chrono::milliseconds(2500));
  EXPECT_EQ(CacheOptions{}.lock_timeout, std::chrono::milliseconds(2500));
  ::setenv("AEGISRT_LOCK_TIMEOUT", "soon", 1);
  EXPECT_EQ(default_lock_timeout(), std::chrono::minutes(30));
  ::setenv("AEGISRT_LOCK_TIMEOUT", "-1", 1);
  EXPECT_EQ(default_lock_timeout(), std::chrono::minutes(30));
  ::unsetenv("AEGISRT_LOCK_TIMEOUT");
  EXPECT_EQ(default_lock_timeout(), std::chrono::minutes(30));
}

TEST_F(CacheTrustTest, HugeSparseSidecarIsRejectedBySizeUnread) {
  auto cache = built_cache();
  const auto sidecar = cache.sidecar_path(trt_key(source_));
  fs::resize_file(sidecar, 3ull << 30);  // 3 GB, sparse
  auto md = ArtifactMetadata::read(sidecar);
  ASSERT_FALSE(md.ok());
  EXPECT_EQ(md.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(md.error().message().find(sidecar.filename().string()), std::string::npos) << md.error();
  auto l = cache.lookup(trt_key(source_), trt_env());
  ASSERT_TRUE(l.ok()) << l.error();
  EXPECT_EQ(l->status, LookupStatus::Stale);
  EXPECT_NE(l->reason.find("sidecar metadata unreadable"), std::string::npos) << l->reason;
}


// clean() on a folder it may list but not search (read without execute
// permission): checking a crashed build's lock file fails with EACCES. That
// used to escape as std::filesystem::filesystem_error; now it is IoError
// naming the lock. Root is never refused, so as root the call runs in a child
// process that drops to "nobody" (the folder is then root's, which is trusted).
TEST_F(CacheTrustTest, CleanOnAFolderItCannotSearchIsATypedError) {
  const bool root = ::geteuid() == 0;
  if (root) {
    // "nobody" must reach the folder: every ancestor searchable by others.
    for (fs::path p = root_.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
      if ((mode_of(p) & 01) == 0) GTEST_SKIP() << p << " is not searchable by others; set TMPDIR elsewhere";
    }
  }
  fs::create_directories(dir_);
  spit(dir_ / ".yolov8n_fp16.engine.tmp-1-2-3", "half-built");
  fs::permissions(root_, static_cast<fs::perms>(0755));
  // Listable, not searchable: by others when we are root (the child is
  // "nobody"), by ourselves otherwise. Writable by nobody else either way.
  fs::permissions(dir_, static_cast<fs::perms>(root ? 0644 : 0600));
  const fs::path dir = dir_;
  EXPECT_EXIT(
      {
        if (root && (::setgid(kForeignUid) != 0 || ::setuid(kForeignUid) != 0)) std::_Exit(4);
        int code = 1;  // 1: clean() succeeded, which it cannot without searching the folder
        try {
          auto r = ArtifactCache(dir).clean();
          if (!r.ok()) {
            const bool typed = r.error().code() == ErrorCode::IoError &&
                               r.error().message().find("yolov8n_fp16.engine.lock") != std::string::npos;
            code = typed ? 0 : 2;
            if (!typed) std::fprintf(stderr, "%s\n", r.error().to_string().c_str());
          }
        } catch (const std::exception& e) {
          std::fprintf(stderr, "threw: %s\n", e.what());
          code = 3;
        }
        std::fflush(stderr);
        std::_Exit(code);
      },
      ::testing::ExitedWithCode(0), "");
  fs::permissions(dir_, static_cast<fs::perms>(0700));  // so TearDown can remove it
  EXPECT_TRUE(fs::exists(dir_ / ".yolov8n_fp16.engine.tmp-1-2-3")) << "nothing may be removed blindly";
}

}  // namespace
}  // namespace aegisrt::testing
