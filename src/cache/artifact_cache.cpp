// ArtifactCache: keys, lookup/validation and the locked build with atomic
// publish. Trust, locking, sidecars and maintenance live beside this file
// (see cache_internal.h for the map).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>

#include <spdlog/spdlog.h>

#include "aegisrt/cache/sha256.h"
#include "aegisrt/core/file_util.h"
#include "cache_internal.h"

namespace aegisrt {

namespace fs = std::filesystem;
using namespace cache_detail;  // NOLINT(google-build-using-namespace): this layer's private helpers

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
  AEGIS_TRY(sync_path(out, false));
  AEGIS_ASSIGN_OR_RETURN(md.artifact_sha256, sha256_file(out));
  md.artifact_size = size;
  md.extra = std::move(built->extra);
  md.build_seconds = to_ms(took) / 1000.0;
  return {};
}

// Caching is off (`unusable` says why): builds into a private temporary
// directory (mkdtemp: 0700) and returns it uncached.
Result<CacheResult> build_uncached(const fs::path& dir, const CacheOptions& options, const ArtifactKey& key,
                                   const BuildEnvironment& env, const BuilderFn& builder, const ProgressFn& progress,
                                   const std::string& unusable, const std::string& reason) {
  const std::string name = key.file_name();
  std::error_code ec;
  fs::path base = options.fallback_temp_dir.empty() ? fs::temp_directory_path(ec) : options.fallback_temp_dir;
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
  res.build_reason = reason;
  res.warning = "artefact cache directory '" + dir.string() + "' is not usable (" + unusable +
                "); caching is off: building '" + name + "' into '" + tmp_dir.string() + "'";
  spdlog::warn("{}", res.warning);
  res.artifact_path = tmp_dir / name;
  res.metadata = make_metadata(key, env, key.source_sha256);
  if (auto r = build_to(builder, key, key.source_sha256, res.artifact_path, progress, res.metadata, res.build_time);
      !r.ok()) {
    fs::remove_all(tmp_dir, ec);
    return std::move(r).error();
  }
  // The sidecar goes along so the backend can read what the builder recorded.
  (void)write_file_synced(tmp_dir / (name + ".json"), res.metadata.to_json());
  return res;
}

// Under the build lock: builds into temporaries beside the entry, then
// publishes them (artefact first, sidecar last) and syncs the folder.
Result<void> build_and_publish(const ArtifactCache& cache, const ArtifactKey& key, const BuildEnvironment& env,
                               const BuilderFn& builder, const ProgressFn& progress, CacheResult& res) {
  const fs::path& dir = cache.dir();
  const std::string name = key.file_name();
  // ".<name>.tmp-<pid>-<tid>-<n>": what clean() knows as a crashed build's.
  const fs::path tmp_artifact = unique_temp_path(dir / name);
  const fs::path tmp_sidecar = unique_temp_path(dir / (name + ".json"));
  auto cleanup = [&] {
    std::error_code ignore;
    fs::remove(tmp_artifact, ignore);
    fs::remove(tmp_sidecar, ignore);
  };
  res.metadata = make_metadata(key, env, key.source_sha256);
  if (auto r = build_to(builder, key, key.source_sha256, tmp_artifact, progress, res.metadata, res.build_time);
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
  res.artifact_path = cache.artifact_path(key);
  std::error_code ec;
  fs::rename(tmp_artifact, res.artifact_path, ec);
  if (!ec) fs::rename(tmp_sidecar, cache.sidecar_path(key), ec);
  if (ec) {
    cleanup();
    return Error(ErrorCode::IoError, "cannot publish '" + name + "' in '" + dir.string() + "': " + ec.message());
  }
  (void)sync_path(dir, true);
  return {};
}

}  // namespace

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
    return build_uncached(dir_, options_, key, env, builder, progress, unusable, first.reason);
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

  AEGIS_TRY(build_and_publish(*this, key, env, builder, progress, res));
  res.outcome = CacheOutcome::Built;
  spdlog::info("artefact cache: published '{}' ({} bytes, built in {:.2f} s)", res.artifact_path.string(),
               res.metadata.artifact_size, res.metadata.build_seconds);
  return res;
}

}  // namespace aegisrt
