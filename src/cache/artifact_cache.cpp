// ArtifactCache: lookup/validation, locked build + atomic publish, and the
// list/verify/clean maintenance used by `aegisrt cache`.
#include "aegisrt/cache/artifact_cache.h"

#include <fcntl.h>
#include <pwd.h>
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
#include <regex>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "aegisrt/cache/sha256.h"
#include "aegisrt/core/file_util.h"

namespace aegisrt {

namespace fs = std::filesystem;

namespace {

std::string user_name(uid_t uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::string buf(16384, '\0');
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr && pw.pw_name != nullptr) {
    return pw.pw_name;
  }
  return "?";
}

std::string describe_owner(uid_t uid) { return "uid " + std::to_string(uid) + " (" + user_name(uid) + ")"; }

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

bool trusted_owner(uid_t owner) { return owner == ::geteuid() || owner == 0; }

std::string you() { return describe_owner(::geteuid()); }

}  // namespace

std::filesystem::path user_cache_root() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    return fs::path(xdg) / "aegisrt";
  }
  std::string home;
  if (const char* h = std::getenv("HOME"); h != nullptr && *h == '/') home = h;
  if (home.empty()) {
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::string buf(16384, '\0');
    if (::getpwuid_r(::geteuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
        pw.pw_dir != nullptr && *pw.pw_dir == '/') {
      home = pw.pw_dir;
    }
  }
  if (home.empty()) {
    // No home at all: a per-user folder under /tmp (checked like any other).
    return fs::path("/tmp") / ("aegisrt-cache-" + std::to_string(::geteuid()));
  }
  return fs::path(home) / ".cache" / "aegisrt";
}

std::filesystem::path default_cache_dir(std::string_view backend) {
  if (backend == "tensorrt") return shared_tmp_cache_dir("/tmp/trt_engines");
  return user_cache_root() / std::string(backend);
}

std::filesystem::path shared_tmp_cache_dir(const std::filesystem::path& seed) {
  {
    struct stat st {};
    if (::stat(seed.c_str(), &st) != 0) return seed;  // missing: we create it, 0700
    const bool shared_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
    if (S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() && !shared_write) return seed;  // ours
    // A shared sticky folder of root's (or ours): others cannot rename our subfolder.
    if (S_ISDIR(st.st_mode) && trusted_owner(st.st_uid) && (st.st_mode & S_ISVTX) != 0) {
      return seed / std::to_string(::geteuid());
    }
    // Another user's folder: a subfolder of it would be theirs to swap.
    return fs::path(seed.string() + "-" + std::to_string(::geteuid()));
  }
}

Result<void> check_trusted_dir(const std::filesystem::path& dir, bool allow_sticky) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    const int err = errno;
    return Error(err == ENOENT ? ErrorCode::NotFound : ErrorCode::IoError,
                 "cannot stat cache folder '" + dir.string() + "': " + std::strerror(err));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error(ErrorCode::InvalidArgument, "cache path '" + dir.string() + "' is not a directory");
  }
  if (!trusted_owner(st.st_uid)) {
    return Error(ErrorCode::InvalidArgument,
                 "untrusted cache folder '" + dir.string() + "': owned by " + describe_owner(st.st_uid) +
                     ", not by you (" + you() +
                     "); its files could run code as you, so it is not used (remove it, or pick another "
                     "folder with --cache-dir)");
  }
  const bool shared_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  if (shared_write && !(allow_sticky && (st.st_mode & S_ISVTX) != 0)) {
    return Error(ErrorCode::InvalidArgument,
                 "untrusted cache folder '" + dir.string() + "' (owner " + describe_owner(st.st_uid) +
                     ", mode " + octal_mode(st.st_mode) +
                     "): group or others can write to it, so its files could run code as you; "
                     "it is not used (chmod 700 it, or pick another folder with --cache-dir)");
  }
  return {};
}

Result<void> check_trusted_file(const std::filesystem::path& file, std::string_view what) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    const int err = errno;
    return Error(err == ENOENT ? ErrorCode::NotFound : ErrorCode::IoError,
                 "cannot stat " + std::string(what) + " '" + file.string() + "': " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    return Error(ErrorCode::InvalidArgument,
                 std::string(what) + " '" + file.string() + "' is not a regular file");
  }
  if (!trusted_owner(st.st_uid)) {
    return Error(ErrorCode::InvalidArgument,
                 "untrusted " + std::string(what) + " '" + file.string() + "': owned by " +
                     describe_owner(st.st_uid) + ", not by you (" + you() + "); it is not loaded");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Error(ErrorCode::InvalidArgument,
                 "untrusted " + std::string(what) + " '" + file.string() + "' (owner " +
                     describe_owner(st.st_uid) + ", mode " + octal_mode(st.st_mode) +
                     "): group or others can write to it; it is not loaded");
  }
  return {};
}

Result<void> check_trusted_artifact(const std::filesystem::path& artifact, std::string_view what) {
  AEGIS_TRY(check_trusted_file(artifact, what));
  const fs::path sidecar = artifact.string() + ".json";
  struct stat st {};
  if (::lstat(sidecar.c_str(), &st) == 0) AEGIS_TRY(check_trusted_file(sidecar, std::string(what) + " sidecar"));
  return check_trusted_dir(artifact.has_parent_path() ? artifact.parent_path() : fs::path("."),
                           /*allow_sticky=*/true);
}

Result<void> ensure_private_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    // Create each missing component 0700 (create_directories would use 0777 & ~umask).
    fs::path built;
    for (const auto& part : dir) {
      built /= part;
      struct stat st {};
      if (::stat(built.c_str(), &st) == 0) continue;
      if (::mkdir(built.c_str(), 0700) != 0 && errno != EEXIST) {
        const int err = errno;
        return Error(ErrorCode::IoError, "cannot create '" + built.string() + "': " + std::strerror(err));
      }
    }
  }
  return check_trusted_dir(dir);
}

Duration default_lock_timeout() {
  constexpr auto kDefault = std::chrono::minutes(30);
  const char* env = std::getenv("AEGISRT_LOCK_TIMEOUT");
  if (env == nullptr || *env == '\0') return kDefault;
  char* end = nullptr;
  errno = 0;
  const double seconds = std::strtod(env, &end);
  if (errno != 0 || end == env || *end != '\0' || !(seconds > 0) || seconds > 1e7) {
    spdlog::warn("ignoring AEGISRT_LOCK_TIMEOUT='{}' (want seconds > 0); waiting up to 30 min for build locks", env);
    return kDefault;
  }
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

Result<std::string> combined_source_hash(const std::filesystem::path& model, std::string_view model_sha,
                                         const std::vector<std::filesystem::path>& extra) {
  if (extra.empty()) return std::string(model_sha);
  Sha256 h;
  h.update("model:" + std::string(model_sha) + "\n");
  for (const auto& f : extra) {
    auto fh = sha256_file(f);
    if (!fh.ok()) {
      return std::move(fh).error().with_context("hashing '" + f.string() + "', which '" + model.string() +
                                                "' reads (external data)");
    }
    h.update(f.filename().string() + ":" + *fh + "\n");
  }
  const auto digest = h.finish();
  if (!h.valid()) return Error(ErrorCode::Internal, "OpenSSL SHA-256 failed while hashing '" + model.string() + "'");
  return Sha256::to_hex(digest);
}

std::string_view default_artifact_extension(std::string_view backend) {
  if (backend == "tensorrt") return ".engine";
  if (backend == "tvm") return ".so";
  return ".bin";
}

std::string ArtifactKey::file_name() const {
  const std::string ext =
      extension.empty() ? std::string(default_artifact_extension(backend)) : extension;
  return variant + "_" + precision + name_suffix + ext;
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
  if (!extra_sources.empty()) j["extra_sources"] = extra_sources;
  j["source_sha256"] = source_sha256;
  j["build_options"] = build_options;
  j["gpu"] = {{"uuid", gpu_uuid}, {"compute_capability", compute_capability}, {"name", gpu_name}};
  j["artifact"] = {{"size", artifact_size}, {"sha256", artifact_sha256}};
  if (!artifact_file.empty()) j["artifact"]["file"] = artifact_file;
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
    if (j.contains("extra_sources")) m.extra_sources = j.at("extra_sources").get<std::vector<std::string>>();
    m.source_sha256 = j.at("source_sha256").get<std::string>();
    m.build_options = j.at("build_options").get<std::map<std::string, std::string>>();
    const auto& gpu = j.at("gpu");
    m.gpu_uuid = gpu.at("uuid").get<std::string>();
    m.compute_capability = gpu.at("compute_capability").get<std::string>();
    m.gpu_name = gpu.value("name", std::string());
    const auto& art = j.at("artifact");
    m.artifact_size = art.at("size").get<std::uint64_t>();
    m.artifact_sha256 = art.at("sha256").get<std::string>();
    m.artifact_file = art.value("file", std::string());
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
  AEGIS_ASSIGN_OR_RETURN(const std::string text, read_file(sidecar, "sidecar", kMaxSidecarBytes));
  return from_json(text, sidecar.string());
}

std::string ArtifactMetadata::expected_file_name(std::string_view extension) const {
  if (!artifact_file.empty()) return artifact_file;
  return variant + "_" + precision + std::string(extension);
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
  if (!key.name_suffix.empty()) AEGIS_TRY(check_component(key.name_suffix, "name_suffix"));
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
  return combined_source_hash(key.source_model, *h, key.extra_sources);
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

// RAII flock() holder on a lock file. The holder writes "pid N on HOST since
// TIME" into the file, so a waiter can say whom it waits for.
class FileLock {
 public:
  FileLock() = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock(FileLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)), held_(std::exchange(o.held_, false)) {}
  FileLock& operator=(FileLock&& o) noexcept {
    if (this != &o) {
      release();
      fd_ = std::exchange(o.fd_, -1);
      held_ = std::exchange(o.held_, false);
    }
    return *this;
  }
  ~FileLock() { release(); }

  /// Opens (creating, 0600) the lock file; never follows a symlink. IoError if
  /// the OS refuses; InvalidArgument for a lock file that is not ours.
  static Result<FileLock> open(const fs::path& path) {
    FileLock l;
    l.fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
    if (l.fd_ < 0) {
      return Error(ErrorCode::IoError,
                   "cannot open lock file '" + path.string() + "': " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(l.fd_, &st) != 0 || !S_ISREG(st.st_mode) || !trusted_owner(st.st_uid) ||
        (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
      return Error(ErrorCode::InvalidArgument,
                   "untrusted lock file '" + path.string() + "' (owner " + describe_owner(st.st_uid) + ", mode " +
                       octal_mode(st.st_mode) + "): not used");
    }
    return l;
  }

  /// Who holds it, as recorded in the file ("pid 123 on host since ...");
  /// empty when nothing is recorded.
  [[nodiscard]] std::string holder() const {
    char buf[256];
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    if (n <= 0) return {};
    std::string s(buf, static_cast<std::size_t>(n));
    while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
    if (s.find_first_of("\n\0") != std::string::npos || !s.starts_with("pid ")) return {};
    return s;
  }

  /// Polls until `timeout`; `waited` says if it had to wait. Every
  /// `report_every` it logs whom it waits for and calls `report`.
  Result<void> acquire(Duration timeout, const fs::path& path, bool& waited, Duration report_every,
                       const std::function<void(const std::string&, double)>& report) {
    waited = false;
    const auto start = Clock::now();
    const auto deadline = start + timeout;
    auto next_report = start + report_every;
    for (;;) {
      if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) {
        held_ = true;
        record_holder();
        return {};
      }
      if (errno != EWOULDBLOCK && errno != EINTR) {
        return Error(ErrorCode::IoError, "flock('" + path.string() + "') failed: " + std::strerror(errno));
      }
      const auto now = Clock::now();
      const std::string who = holder();
      const std::string whom = who.empty() ? "another process (pid not recorded)" : who;
      if (!waited || now >= next_report) {
        const double elapsed = std::chrono::duration<double>(now - start).count();
        const double limit = std::chrono::duration<double>(timeout).count();
        const std::string msg = fmt_wait(path, whom, elapsed, limit);
        if (!waited) spdlog::info("{}", msg);
        else spdlog::warn("{}", msg);
        if (report) report(msg, limit > 0 ? std::min(1.0, elapsed / limit) : -1.0);
        if (waited) next_report = now + report_every;
      }
      waited = true;
      if (now >= deadline) {
        return Error(ErrorCode::Timeout,
                     "timed out after " + fmt_seconds(std::chrono::duration<double>(timeout).count()) +
                         " waiting for " + whom + ", which holds the build lock '" + path.string() +
                         "' (set --lock-timeout SECONDS or AEGISRT_LOCK_TIMEOUT to wait longer)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  bool try_acquire() {
    held_ = ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
    return held_;
  }
  void release() noexcept {
    if (fd_ >= 0) {
      if (held_ && ::ftruncate(fd_, 0) != 0) {  // no holder recorded any more
      }
      ::flock(fd_, LOCK_UN);
      ::close(fd_);
      fd_ = -1;
      held_ = false;
    }
  }

 private:
  static std::string fmt_seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, s < 10 ? "%.1f s" : "%.0f s", s);
    return buf;
  }
  static std::string fmt_wait(const fs::path& path, const std::string& whom, double elapsed, double limit) {
    return "artefact cache: waiting for " + whom + " to finish building '" +
           path.filename().replace_extension().string() + "' (lock '" + path.string() + "'; waited " +
           fmt_seconds(elapsed) + " of " + fmt_seconds(limit) + ")";
  }
  void record_holder() noexcept {
    char host[256] = {};
    (void)::gethostname(host, sizeof host - 1);
    const std::string text = "pid " + std::to_string(::getpid()) + " on " + host + " since " + utc_now() + "\n";
    if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, text.data(), text.size(), 0);
  }

  int fd_ = -1;
  bool held_ = false;
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
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
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
  for (const auto& f : key.extra_sources) md.extra_sources.push_back(fs::absolute(f, ec).string());
  md.source_sha256 = source_sha;
  md.artifact_file = key.file_name();
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

// Checks shared by lookup() and verify(): the file name the sidecar
// describes, the backend validator, the environment and the artefact's
// integrity. nullopt = usable.
std::optional<std::string> check_entry(const fs::path& artifact, const ArtifactMetadata& md,
                                       const std::optional<BuildEnvironment>& env, const CacheOptions& options,
                                       bool checksum) {
  const std::string fname = artifact.filename().string();
  const std::string described = md.expected_file_name(fs::path(fname).extension().string());
  if (described != fname) {
    return "sidecar describes '" + described + "', not '" + fname + "' (renamed or copied entry)";
  }
  if (options.validate) {
    if (auto why = options.validate(md, fname)) return *why;
  }
  if (env) {
    if (auto why = compare_environment(md, *env)) return *why;
  }
  return check_integrity(artifact, md, checksum);
}

// Our temporaries: ".<name>.tmp-<pid>-<tid>-<n>" (cache and write_file_atomic),
// optionally with the TVM builder's ".build.so" / ".io.json" tails.
bool is_our_temporary(const std::string& fname, std::string& artifact_name) {
  static const std::regex kTemp(R"(^\.(.+)\.tmp-[0-9]+-[0-9]+-[0-9]+(\.build\.so|\.io\.json)?$)");
  std::smatch m;
  if (!std::regex_match(fname, m, kTemp)) return false;
  artifact_name = m[1].str();
  if (artifact_name.ends_with(".json")) artifact_name.resize(artifact_name.size() - 5);
  return !artifact_name.empty();
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
  // Trust first: nothing in a folder someone else can write is read, let alone loaded.
  if (fs::exists(dir_, ec)) AEGIS_TRY(check_trusted_dir(dir_));
  struct stat st {};
  if (::lstat(r.artifact_path.c_str(), &st) != 0) {
    r.status = LookupStatus::Miss;
    r.reason = "no cached artefact at '" + r.artifact_path.string() + "'";
    return r;
  }
  AEGIS_TRY(check_trusted_file(r.artifact_path, "cached artefact"));
  r.status = LookupStatus::Stale;
  const auto sidecar = sidecar_path(key);
  if (::lstat(sidecar.c_str(), &st) != 0) {
    r.reason = "no sidecar metadata beside the artefact ('" + sidecar.string() +
               "' missing: an older or interrupted build)";
    return r;
  }
  AEGIS_TRY(check_trusted_file(sidecar, "cache sidecar"));
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
  if (auto why = check_entry(r.artifact_path, *md, env, options_, options_.verify_checksum)) {
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

  // Is the directory usable? Creating it (0700) and its lock file is the test.
  // A folder that exists but is not ours is an error, not "unusable".
  std::error_code ec;
  std::string unusable;
  if (auto made = ensure_private_dir(dir_); !made.ok()) {
    if (made.error().code() == ErrorCode::InvalidArgument) return std::move(made).error();
    unusable = made.error().message();
  }
  Result<FileLock> lock = Error(ErrorCode::IoError, unusable);
  if (unusable.empty()) {
    lock = FileLock::open(lock_path(key));
    if (!lock.ok()) {
      if (lock.error().code() == ErrorCode::InvalidArgument) return std::move(lock).error();
      unusable = lock.error().message();
    }
  }

  if (!unusable.empty()) {
    // Caching is off: build into a private temporary directory (mkdtemp: 0700).
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
  AEGIS_TRY(lock->acquire(options_.lock_timeout, lock_path(key), waited, options_.lock_report_interval,
                          [&progress](const std::string& msg, double fraction) {
                            if (progress) progress(msg, fraction);
                          }));
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
  // Whatever mode the builder left: readable, writable only by us.
  if (::chmod(tmp_artifact.c_str(), 0644) != 0) {
    const int err = errno;
    cleanup();
    return Error(ErrorCode::IoError, "cannot chmod '" + tmp_artifact.string() + "': " + std::strerror(err));
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
      if (!kArtifactExt.contains(fs::path(artifact_name).extension().string())) continue;  // package.json
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
      if (md.ok()) {
        // Ours only if the sidecar names exactly this artefact file.
        e.ours = md->expected_file_name(e.artifact_path.extension().string()) == n;
        e.metadata = std::move(*md);
        if (!e.ours) e.problem = "sidecar describes '" + e.metadata->expected_file_name(e.artifact_path.extension().string()) +
                                 "', not '" + n + "'";
      } else {
        e.problem = "sidecar metadata unreadable: " + md.error().message();
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<CacheEntry>> ArtifactCache::verify(const EnvironmentLookup& env) const {
  AEGIS_ASSIGN_OR_RETURN(auto entries, list());
  std::error_code ec;
  const bool dir_exists = fs::exists(dir_, ec);
  std::string dir_problem;
  if (dir_exists) {
    if (auto t = check_trusted_dir(dir_); !t.ok()) dir_problem = t.error().message();
  }
  for (auto& e : entries) {
    if (!dir_problem.empty()) {
      e.problem = dir_problem;
      continue;
    }
    if (!e.problem.empty()) continue;
    if (!e.sidecar_exists) {
      e.problem = "no sidecar metadata (an older or interrupted build, or not a cache entry)";
      continue;
    }
    if (!e.artifact_exists) {
      e.problem = "sidecar without artefact";
      continue;
    }
    if (auto t = check_trusted_file(e.artifact_path, "cached artefact"); !t.ok()) {
      e.problem = t.error().message();
      continue;
    }
    if (auto t = check_trusted_file(e.sidecar_path, "cache sidecar"); !t.ok()) {
      e.problem = t.error().message();
      continue;
    }
    const auto& md = *e.metadata;
    // The source: model + every extra file, as lookup() hashes them.
    if (!md.source_model.empty() && fs::is_regular_file(md.source_model, ec)) {
      auto h = sha256_file(md.source_model);
      std::vector<fs::path> extras(md.extra_sources.begin(), md.extra_sources.end());
      Result<std::string> combined = h.ok() ? combined_source_hash(md.source_model, *h, extras)
                                            : Result<std::string>(std::move(h).error());
      if (!combined.ok()) {
        e.problem = "source model unreadable: " + combined.error().message();
        continue;
      }
      if (*combined != md.source_sha256) {
        e.problem = "source model changed ('" + md.source_model + "'" +
                    (extras.empty() ? std::string() : " with its " + std::to_string(extras.size()) + " data file(s)") +
                    " sha256 " + short_hash(*combined) + "..., built from " + short_hash(md.source_sha256) + "...)";
        continue;
      }
    } else {
      e.notes.push_back("source model '" + md.source_model + "' not found: not compared");
    }
    std::optional<BuildEnvironment> running = env ? env(md) : std::nullopt;
    if (auto why = check_entry(e.artifact_path, md, running, options_, true)) {
      e.problem = *why;
      continue;
    }
    if (!running) {
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
  // Never delete in a folder that is not ours.
  AEGIS_TRY(check_trusted_dir(dir_));
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
    // Only provable entries: our sidecar naming this artefact (or our sidecar alone).
    if (!e.ours) continue;
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
    if (e.artifact_exists) remove_one(e.artifact_path);
    remove_one(e.sidecar_path);
  }

  // Temporaries of crashed builds (our names only) whose lock is free.
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string fname = it->path().filename().string();
    std::string artifact_name;
    if (!is_our_temporary(fname, artifact_name)) continue;
    if (!it->is_regular_file(ec)) continue;
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
