// ArtifactCache: lookup/validation, locked build + atomic publish, and the
// list/verify/clean maintenance used by `aegisrt cache`.
#include "aegisrt/cache/artifact_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "aegisrt/cache/sha256.h"

namespace aegisrt {

namespace fs = std::filesystem;

std::filesystem::path default_cache_dir(std::string_view backend) {
  if (backend == "tensorrt") return "/tmp/trt_engines";
  if (backend == "tvm") return "/tmp/tvm_libs";
  return fs::path("/tmp") / ("aegisrt_" + std::string(backend));
}

std::string_view default_artifact_extension(std::string_view backend) {
  if (backend == "tensorrt") return ".engine";
  if (backend == "tvm") return ".so";
  return ".bin";
}

std::string ArtifactKey::file_name() const {
  const std::string ext =
      extension.empty() ? std::string(default_artifact_extension(backend)) : extension;
  return variant + "_" + precision + ext;
}

std::string_view to_string(LookupStatus s) noexcept {
  switch (s) {
    case LookupStatus::Hit: return "hit";
    case LookupStatus::Miss: return "miss";
    case LookupStatus::Stale: return "stale";
  }
  return "unknown";
}

std::string_view to_string(CacheOutcome o) noexcept {
  switch (o) {
    case CacheOutcome::Hit: return "hit";
    case CacheOutcome::Built: return "built";
    case CacheOutcome::BuiltByOther: return "built-by-other";
    case CacheOutcome::BuiltUncached: return "built-uncached";
  }
  return "unknown";
}

// ---------------------------------------------------------------- metadata

std::string ArtifactMetadata::to_json() const {
  nlohmann::ordered_json j;
  j["format_version"] = format_version;
  j["backend"] = backend;
  j["backend_display_name"] = backend_display_name;
  j["backend_version"] = backend_version;
  j["variant"] = variant;
  j["precision"] = precision;
  j["source_model"] = source_model;
  j["source_sha256"] = source_sha256;
  j["build_options"] = build_options;
  j["gpu"] = {{"uuid", gpu_uuid}, {"compute_capability", compute_capability}, {"name", gpu_name}};
  j["artifact"] = {{"size", artifact_size}, {"sha256", artifact_sha256}};
  j["created_utc"] = created_utc;
  j["build_seconds"] = build_seconds;
  j["extra"] = extra;
  return j.dump(2) + "\n";
}

Result<ArtifactMetadata> ArtifactMetadata::from_json(std::string_view text, std::string_view what) {
  const std::string where(what);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(ErrorCode::Corrupt, "sidecar '" + where + "' is not a JSON object");
  }
  ArtifactMetadata m;
  try {
    const auto version = j.at("format_version").get<int>();
    if (version != kFormatVersion) {
      return Error(ErrorCode::Corrupt, "sidecar '" + where + "' has format_version " +
                                           std::to_string(version) + ", expected " +
                                           std::to_string(kFormatVersion));
    }
    m.format_version = version;
    m.backend = j.at("backend").get<std::string>();
    m.backend_display_name = j.value("backend_display_name", m.backend);
    m.backend_version = j.at("backend_version").get<std::string>();
    m.variant = j.at("variant").get<std::string>();
    m.precision = j.at("precision").get<std::string>();
    m.source_model = j.value("source_model", std::string());
    m.source_sha256 = j.at("source_sha256").get<std::string>();
    m.build_options = j.at("build_options").get<std::map<std::string, std::string>>();
    const auto& gpu = j.at("gpu");
    m.gpu_uuid = gpu.at("uuid").get<std::string>();
    m.compute_capability = gpu.at("compute_capability").get<std::string>();
    m.gpu_name = gpu.value("name", std::string());
    const auto& art = j.at("artifact");
    m.artifact_size = art.at("size").get<std::uint64_t>();
    m.artifact_sha256 = art.at("sha256").get<std::string>();
    m.created_utc = j.value("created_utc", std::string());
    m.build_seconds = j.value("build_seconds", 0.0);
    if (j.contains("extra")) m.extra = j.at("extra").get<std::map<std::string, std::string>>();
  } catch (const std::exception& e) {
    return Error(ErrorCode::Corrupt,
                 "sidecar '" + where + "' has a missing or mistyped field: " + e.what());
  }
  return m;
}

Result<ArtifactMetadata> ArtifactMetadata::read(const std::filesystem::path& sidecar) {
  std::ifstream in(sidecar, std::ios::binary);
  if (!in) {
    std::error_code ec;
    return Error(fs::exists(sidecar, ec) ? ErrorCode::IoError : ErrorCode::NotFound,
                 "cannot read sidecar '" + sidecar.string() + "'");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return from_json(ss.str(), sidecar.string());
}

// ---------------------------------------------------------------- helpers
namespace {

Result<void> check_component(const std::string& value, std::string_view field) {
  if (value.empty()) {
    return Error(ErrorCode::InvalidArgument, "cache key field '" + std::string(field) + "' is empty");
  }
  if (value == "." || value == ".." || value.front() == '.' ||
      value.find_first_of("/\\") != std::string::npos || value.find('\0') != std::string::npos) {
    return Error(ErrorCode::InvalidArgument, "cache key field '" + std::string(field) + "' ('" +
                                                 value + "') must be a plain file-name part");
  }
  return {};
}

Result<void> check_key(const ArtifactKey& key) {
  AEGIS_TRY(check_component(key.backend, "backend"));
  AEGIS_TRY(check_component(key.variant, "variant"));
  AEGIS_TRY(check_component(key.precision, "precision"));
  if (!key.extension.empty() &&
      (key.extension.front() != '.' || key.extension.find('/') != std::string::npos)) {
    return Error(ErrorCode::InvalidArgument,
                 "cache key extension '" + key.extension + "' must look like '.engine'");
  }
  if (key.source_sha256.empty() && key.source_model.empty()) {
    return Error(ErrorCode::InvalidArgument,
                 "cache key for '" + key.file_name() + "' names no source model");
  }
  return {};
}

Result<std::string> source_hash(const ArtifactKey& key) {
  if (!key.source_sha256.empty()) return key.source_sha256;
  auto h = sha256_file(key.source_model);
  if (!h.ok()) return std::move(h).error().with_context("hashing source model for cache key");
  return h;
}

std::string short_hash(const std::string& h) { return h.size() > 12 ? h.substr(0, 12) : h; }

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string describe_gpu(const std::string& uuid, const std::string& cc) {
  if (uuid.empty() && cc.empty()) return "no GPU (CPU artefact)";
  return uuid + " (compute capability " + cc + ")";
}

// Environment-dependent checks: backend version and GPU.
std::optional<std::string> compare_environment(const ArtifactMetadata& md,
                                               const BuildEnvironment& env) {
  if (md.backend_version != env.backend_version) {
    const std::string name = env.backend_display_name.empty()
                                 ? (md.backend_display_name.empty() ? md.backend : md.backend_display_name)
                                 : env.backend_display_name;
    return "built for " + name + " " + md.backend_version + ", running " + env.backend_version;
  }
  const bool gpu_artifact = !md.gpu_uuid.empty() || !md.compute_capability.empty();
  const bool gpu_env = !env.gpu_uuid.empty() || !env.compute_capability.empty();
  if (gpu_artifact || gpu_env) {
    if (md.gpu_uuid != env.gpu_uuid || md.compute_capability != env.compute_capability) {
      return "GPU mismatch: built for " + describe_gpu(md.gpu_uuid, md.compute_capability) +
             ", running on " + describe_gpu(env.gpu_uuid, env.compute_capability);
    }
  }
  return std::nullopt;
}

// Size and checksum of the artefact against the sidecar.
std::optional<std::string> check_integrity(const fs::path& artifact, const ArtifactMetadata& md,
                                           bool checksum) {
  std::error_code ec;
  const auto size = fs::file_size(artifact, ec);
  if (ec) return "artefact unreadable: " + ec.message();
  if (size != md.artifact_size) {
    return "artefact corrupt: size mismatch (sidecar says " + std::to_string(md.artifact_size) +
           " bytes, file has " + std::to_string(size) + ")";
  }
  if (checksum) {
    auto h = sha256_file(artifact);
    if (!h.ok()) return "artefact unreadable: " + h.error().message();
    if (*h != md.artifact_sha256) {
      return "artefact corrupt: checksum mismatch (sidecar sha256 " + short_hash(md.artifact_sha256) +
             "..., file " + short_hash(*h) + "...)";
    }
  }
  return std::nullopt;
}

std::string describe_option_change(const std::map<std::string, std::string>& was,
                                   const std::map<std::string, std::string>& now) {
  std::string out;
  auto add = [&out](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  for (const auto& [k, v] : now) {
    auto it = was.find(k);
    if (it == was.end()) add(k + " added ('" + v + "')");
    else if (it->second != v) add(k + " '" + it->second + "' -> '" + v + "'");
  }
  for (const auto& [k, v] : was)
    if (!now.contains(k)) add(k + " removed (was '" + v + "')");
  return out;
}

// RAII flock() holder on a lock file.
class FileLock {
 public:
  FileLock() = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock(FileLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FileLock& operator=(FileLock&& o) noexcept {
    if (this != &o) {
      release();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~FileLock() { release(); }

  /// Opens (creating) the lock file. IoError if the OS refuses.
  static Result<FileLock> open(const fs::path& path) {
    FileLock l;
    l.fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (l.fd_ < 0) {
      return Error(ErrorCode::IoError,
                   "cannot open lock file '" + path.string() + "': " + std::strerror(errno));
    }
    return l;
  }
  /// true = acquired. Polls until `timeout`; `waited` says if it had to wait.
  Result<void> acquire(Duration timeout, const fs::path& path, bool& waited) {
    waited = false;
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return {};
      if (errno != EWOULDBLOCK && errno != EINTR) {
        return Error(ErrorCode::IoError, "flock('" + path.string() + "') failed: " + std::strerror(errno));
      }
      waited = true;
      if (Clock::now() >= deadline) {
        return Error(ErrorCode::Timeout,
                     "timed out after " + std::to_string(to_ms(timeout) / 1000.0) +
                         " s waiting for another build holding '" + path.string() + "'");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  bool try_acquire() { return ::flock(fd_, LOCK_EX | LOCK_NB) == 0; }
  void release() noexcept {
    if (fd_ >= 0) {
      ::flock(fd_, LOCK_UN);
      ::close(fd_);
      fd_ = -1;
    }
  }

 private:
  int fd_ = -1;
};

Result<void> fsync_path(const fs::path& p, bool directory) {
  const int fd = ::open(p.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Error(ErrorCode::IoError, "cannot open '" + p.string() + "' to sync: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Error(ErrorCode::IoError, "fsync('" + p.string() + "') failed: " + std::strerror(err));
  return {};
}

Result<void> write_file_synced(const fs::path& p, const std::string& content) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error(ErrorCode::IoError, "cannot create '" + p.string() + "': " + std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Error(ErrorCode::IoError, "cannot write '" + p.string() + "': " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Error(ErrorCode::IoError, "fsync('" + p.string() + "') failed: " + std::strerror(err));
  return {};
}

std::string unique_suffix() {
  static std::atomic<unsigned> counter{0};
  const auto tid = std::hash<std::thread::id>{}(std::this_thread::get_id());
  return std::to_string(::getpid()) + "-" + std::to_string(tid % 100000) + "-" +
         std::to_string(counter.fetch_add(1));
}

// Runs the builder, catching anything it throws.
Result<BuildOutput> run_builder(const BuilderFn& builder, const BuildRequest& req) {
  if (!builder) return Error(ErrorCode::InvalidArgument, "no builder given for '" + req.key.file_name() + "'");
  try {
    return builder(req);
  } catch (const std::exception& e) {
    return Error(ErrorCode::Internal, std::string("builder threw: ") + e.what());
  } catch (...) {
    return Error(ErrorCode::Internal, "builder threw an unknown exception");
  }
}

ArtifactMetadata make_metadata(const ArtifactKey& key, const BuildEnvironment& env,
                               const std::string& source_sha) {
  ArtifactMetadata md;
  md.backend = key.backend;
  md.backend_display_name = env.backend_display_name;
  md.backend_version = env.backend_version;
  md.variant = key.variant;
  md.precision = key.precision;
  std::error_code ec;
  md.source_model = key.source_model.empty() ? std::string() : fs::absolute(key.source_model, ec).string();
  md.source_sha256 = source_sha;
  md.build_options = key.build_options;
  md.gpu_uuid = env.gpu_uuid;
  md.compute_capability = env.compute_capability;
  md.gpu_name = env.gpu_name;
  md.created_utc = utc_now();
  return md;
}

// Builds into `out`, fills size/checksum/extra/time in `md`.
Result<void> build_to(const BuilderFn& builder, const ArtifactKey& key, const std::string& source_sha,
                      const fs::path& out, const ProgressFn& progress, ArtifactMetadata& md,
                      Duration& took) {
  BuildRequest req;
  req.key = key;
  req.output_path = out;
  req.source_sha256 = source_sha;
  req.progress = [progress](std::string_view stage, double fraction) {
    if (progress) progress(stage, fraction);
  };
  const auto start = Clock::now();
  auto built = run_builder(builder, req);
  took = std::chrono::duration_cast<Duration>(Clock::now() - start);
  if (!built.ok()) return std::move(built).error().with_context("building '" + key.file_name() + "'");
  std::error_code ec;
  const auto size = fs::file_size(out, ec);
  if (ec || size == 0) {
    return Error(ErrorCode::BackendError,
                 "builder for '" + key.file_name() + "' reported success but produced " +
                     (ec ? "no file" : "an empty file") + " at '" + out.string() + "'");
  }
  AEGIS_TRY(fsync_path(out, false));
  AEGIS_ASSIGN_OR_RETURN(md.artifact_sha256, sha256_file(out));
  md.artifact_size = size;
  md.extra = std::move(built->extra);
  md.build_seconds = to_ms(took) / 1000.0;
  return {};
}

}  // namespace

// ---------------------------------------------------------------- cache

ArtifactCache::ArtifactCache(std::filesystem::path dir, CacheOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {}

fs::path ArtifactCache::artifact_path(const ArtifactKey& key) const { return dir_ / key.file_name(); }
fs::path ArtifactCache::sidecar_path(const ArtifactKey& key) const {
  return dir_ / (key.file_name() + ".json");
}
fs::path ArtifactCache::lock_path(const ArtifactKey& key) const {
  return dir_ / (key.file_name() + ".lock");
}

Result<LookupResult> ArtifactCache::lookup(const ArtifactKey& key, const BuildEnvironment& env) const {
  AEGIS_TRY(check_key(key));
  AEGIS_ASSIGN_OR_RETURN(const std::string source_sha, source_hash(key));

  LookupResult r;
  r.artifact_path = artifact_path(key);
  std::error_code ec;
  if (!fs::is_regular_file(r.artifact_path, ec)) {
    r.status = LookupStatus::Miss;
    r.reason = "no cached artefact at '" + r.artifact_path.string() + "'";
    return r;
  }
  r.status = LookupStatus::Stale;
  const auto sidecar = sidecar_path(key);
  if (!fs::exists(sidecar, ec)) {
    r.reason = "no sidecar metadata beside the artefact ('" + sidecar.string() +
               "' missing: an older or interrupted build)";
    return r;
  }
  auto md = ArtifactMetadata::read(sidecar);
  if (!md.ok()) {
    r.reason = "sidecar metadata unreadable: " + md.error().message();
    return r;
  }
  r.metadata = *md;
  if (md->backend != key.backend || md->variant != key.variant || md->precision != key.precision) {
    r.reason = "sidecar describes " + md->backend + " " + md->variant + "_" + md->precision +
               ", expected " + key.backend + " " + key.variant + "_" + key.precision;
    return r;
  }
  if (md->source_sha256 != source_sha) {
    r.reason = "source model changed (sha256 " + short_hash(md->source_sha256) + "... at build time, now " +
               short_hash(source_sha) + "...)";
    return r;
  }
  if (md->build_options != key.build_options) {
    r.reason = "build options changed: " + describe_option_change(md->build_options, key.build_options);
    return r;
  }
  if (auto why = compare_environment(*md, env)) {
    r.reason = *why;
    return r;
  }
  if (auto why = check_integrity(r.artifact_path, *md, options_.verify_checksum)) {
    r.reason = *why;
    return r;
  }
  r.status = LookupStatus::Hit;
  return r;
}

Result<CacheResult> ArtifactCache::get_or_build(const ArtifactKey& key_in, const BuildEnvironment& env,
                                                const BuilderFn& builder, const ProgressFn& progress) {
  AEGIS_TRY(check_key(key_in));
  ArtifactKey key = key_in;
  AEGIS_ASSIGN_OR_RETURN(key.source_sha256, source_hash(key_in));
  const std::string name = key.file_name();

  AEGIS_ASSIGN_OR_RETURN(LookupResult first, lookup(key, env));
  if (first.status == LookupStatus::Hit) {
    spdlog::debug("artefact cache: hit {}", first.artifact_path.string());
    CacheResult res;
    res.artifact_path = first.artifact_path;
    res.metadata = std::move(*first.metadata);
    res.outcome = CacheOutcome::Hit;
    return res;
  }

  // Is the directory usable? Creating it and its lock file is the test.
  std::error_code ec;
  std::string unusable;
  fs::create_directories(dir_, ec);
  if (ec) unusable = "cannot create '" + dir_.string() + "': " + ec.message();
  Result<FileLock> lock = Error(ErrorCode::IoError, unusable);
  if (unusable.empty()) {
    lock = FileLock::open(lock_path(key));
    if (!lock.ok()) unusable = lock.error().message();
  }

  if (!unusable.empty()) {
    // Caching is off: build into a private temporary directory.
    fs::path base = options_.fallback_temp_dir.empty() ? fs::temp_directory_path(ec)
                                                       : options_.fallback_temp_dir;
    if (base.empty()) base = "/tmp";
    std::string tmpl = (base / "aegisrt_uncached_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return Error(ErrorCode::IoError, "cache directory unusable (" + unusable +
                                           ") and no temporary directory for an uncached build in '" +
                                           base.string() + "': " + std::strerror(errno));
    }
    const fs::path tmp_dir = tmpl;
    CacheResult res;
    res.caching_enabled = false;
    res.outcome = CacheOutcome::BuiltUncached;
    res.build_reason = first.reason;
    res.warning = "artefact cache directory '" + dir_.string() + "' is not usable (" + unusable +
                  "); caching is off: building '" + name + "' into '" + tmp_dir.string() + "'";
    spdlog::warn("{}", res.warning);
    res.artifact_path = tmp_dir / name;
    res.metadata = make_metadata(key, env, key.source_sha256);
    if (auto r = build_to(builder, key, key.source_sha256, res.artifact_path, progress, res.metadata,
                          res.build_time);
        !r.ok()) {
      fs::remove_all(tmp_dir, ec);
      return std::move(r).error();
    }
    // The sidecar goes along so the backend can read what the builder recorded.
    (void)write_file_synced(tmp_dir / (name + ".json"), res.metadata.to_json());
    return res;
  }

  bool waited = false;
  const auto wait_start = Clock::now();
  AEGIS_TRY(lock->acquire(options_.lock_timeout, lock_path(key), waited));
  CacheResult res;
  res.wait_time = std::chrono::duration_cast<Duration>(Clock::now() - wait_start);

  // Someone may have published while we were waiting (or between our lookup
  // and the lock): look again under the lock.
  AEGIS_ASSIGN_OR_RETURN(LookupResult second, lookup(key, env));
  if (second.status == LookupStatus::Hit) {
    spdlog::info("artefact cache: {} was built by another process while we waited", name);
    res.artifact_path = second.artifact_path;
    res.metadata = std::move(*second.metadata);
    res.outcome = CacheOutcome::BuiltByOther;
    res.build_reason = first.reason;
    return res;
  }
  res.build_reason = second.reason;
  if (second.status == LookupStatus::Stale) {
    spdlog::warn("artefact cache: rebuilding '{}': {}", second.artifact_path.string(), second.reason);
  } else {
    spdlog::info("artefact cache: building '{}': {}", second.artifact_path.string(), second.reason);
  }

  const std::string suffix = unique_suffix();
  const fs::path tmp_artifact = dir_ / ("." + name + ".tmp-" + suffix);
  const fs::path tmp_sidecar = dir_ / ("." + name + ".json.tmp-" + suffix);
  auto cleanup = [&] {
    std::error_code ignore;
    fs::remove(tmp_artifact, ignore);
    fs::remove(tmp_sidecar, ignore);
  };
  res.metadata = make_metadata(key, env, key.source_sha256);
  if (auto r = build_to(builder, key, key.source_sha256, tmp_artifact, progress, res.metadata,
                        res.build_time);
      !r.ok()) {
    cleanup();
    return std::move(r).error();
  }
  if (auto r = write_file_synced(tmp_sidecar, res.metadata.to_json()); !r.ok()) {
    cleanup();
    return std::move(r).error().with_context("publishing '" + name + "'");
  }
  // Artefact first, sidecar last: the sidecar's checksum guards any half state.
  res.artifact_path = artifact_path(key);
  fs::rename(tmp_artifact, res.artifact_path, ec);
  if (!ec) fs::rename(tmp_sidecar, sidecar_path(key), ec);
  if (ec) {
    cleanup();
    return Error(ErrorCode::IoError, "cannot publish '" + name + "' in '" + dir_.string() + "': " + ec.message());
  }
  (void)fsync_path(dir_, true);
  res.outcome = CacheOutcome::Built;
  spdlog::info("artefact cache: published '{}' ({} bytes, built in {:.2f} s)", res.artifact_path.string(),
               res.metadata.artifact_size, res.metadata.build_seconds);
  return res;
}

// ---------------------------------------------------------------- maintenance

Result<std::vector<CacheEntry>> ArtifactCache::list() const {
  std::error_code ec;
  std::vector<CacheEntry> out;
  if (!fs::exists(dir_, ec)) return out;
  if (!fs::is_directory(dir_, ec)) {
    return Error(ErrorCode::InvalidArgument, "cache path '" + dir_.string() + "' is not a directory");
  }
  static const std::set<std::string> kArtifactExt = {".engine", ".so", ".bin", ".plan"};
  std::map<std::string, CacheEntry> by_name;
  fs::directory_iterator it(dir_, ec), end;
  if (ec) return Error(ErrorCode::IoError, "cannot list '" + dir_.string() + "': " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file(ec)) continue;
    const std::string fname = it->path().filename().string();
    if (fname.empty() || fname.front() == '.') continue;  // temporaries
    if (fname.ends_with(".lock")) continue;
    std::string artifact_name;
    if (fname.ends_with(".json")) {
      artifact_name = fname.substr(0, fname.size() - 5);
    } else if (kArtifactExt.contains(it->path().extension().string())) {
      artifact_name = fname;
    } else {
      continue;
    }
    auto& e = by_name[artifact_name];
    e.artifact_path = dir_ / artifact_name;
    e.sidecar_path = dir_ / (artifact_name + ".json");
  }
  for (auto& [n, e] : by_name) {
    e.artifact_exists = fs::is_regular_file(e.artifact_path, ec);
    e.sidecar_exists = fs::is_regular_file(e.sidecar_path, ec);
    if (e.artifact_exists) e.artifact_size = fs::file_size(e.artifact_path, ec);
    if (e.sidecar_exists) {
      auto md = ArtifactMetadata::read(e.sidecar_path);
      if (md.ok()) e.metadata = std::move(*md);
      else e.problem = "sidecar metadata unreadable: " + md.error().message();
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<CacheEntry>> ArtifactCache::verify(const EnvironmentLookup& env) const {
  AEGIS_ASSIGN_OR_RETURN(auto entries, list());
  for (auto& e : entries) {
    if (!e.problem.empty()) continue;
    if (!e.sidecar_exists) {
      e.problem = "no sidecar metadata (an older or interrupted build)";
      continue;
    }
    if (!e.artifact_exists) {
      e.problem = "sidecar without artefact";
      continue;
    }
    const auto& md = *e.metadata;
    if (auto why = check_integrity(e.artifact_path, md, true)) {
      e.problem = *why;
      continue;
    }
    std::error_code ec;
    if (!md.source_model.empty() && fs::is_regular_file(md.source_model, ec)) {
      auto h = sha256_file(md.source_model);
      if (h.ok() && *h != md.source_sha256) {
        e.problem = "source model changed ('" + md.source_model + "' sha256 " + short_hash(*h) +
                    "..., built from " + short_hash(md.source_sha256) + "...)";
        continue;
      }
    } else {
      e.notes.push_back("source model '" + md.source_model + "' not found: not compared");
    }
    std::optional<BuildEnvironment> running = env ? env(md) : std::nullopt;
    if (running) {
      if (auto why = compare_environment(md, *running)) e.problem = *why;
    } else {
      e.notes.push_back("no running " + (md.backend_display_name.empty() ? md.backend : md.backend_display_name) +
                        " in this build: version/GPU not compared");
    }
  }
  return entries;
}

Result<CleanReport> ArtifactCache::clean(const EnvironmentLookup& env, bool all, bool dry_run) const {
  CleanReport report;
  std::error_code ec;
  if (!fs::exists(dir_, ec)) return report;
  AEGIS_ASSIGN_OR_RETURN(auto entries, verify(env));

  auto remove_one = [&](const fs::path& p) {
    if (!fs::exists(p, ec)) return;
    if (dry_run) {
      report.removed.push_back(p);
      return;
    }
    if (fs::remove(p, ec)) report.removed.push_back(p);
    else report.failures.push_back(p.string() + ": " + ec.message());
  };

  for (const auto& e : entries) {
    if (!all && e.problem.empty()) continue;
    // Skip entries being built right now (their lock is held).
    const fs::path lock = e.artifact_path.string() + ".lock";
    std::optional<FileLock> held;
    if (fs::exists(lock, ec)) {
      auto l = FileLock::open(lock);
      if (l.ok()) {
        if (!l->try_acquire()) {
          report.failures.push_back(e.artifact_path.string() + ": a build holds its lock; left alone");
          continue;
        }
        held.emplace(std::move(*l));
      }
    }
    remove_one(e.artifact_path);
    remove_one(e.sidecar_path);
  }

  // Temporaries of crashed builds: ".{name}.tmp-*" / ".{name}.json.tmp-*" whose lock is free.
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string fname = it->path().filename().string();
    const auto pos = fname.find(".tmp-");
    if (fname.empty() || fname.front() != '.' || pos == std::string::npos) continue;
    std::string artifact_name = fname.substr(1, pos - 1);
    if (artifact_name.ends_with(".json")) artifact_name.resize(artifact_name.size() - 5);
    const fs::path lock = dir_ / (artifact_name + ".lock");
    std::optional<FileLock> held;
    if (fs::exists(lock)) {
      auto l = FileLock::open(lock);
      if (l.ok()) {
        if (!l->try_acquire()) continue;  // in flight
        held.emplace(std::move(*l));
      }
    }
    remove_one(it->path());
  }
  return report;
}

}  // namespace aegisrt
