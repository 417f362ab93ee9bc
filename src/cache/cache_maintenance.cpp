// ArtifactCache maintenance for `aegisrt cache`: list(), verify() and
// clean(). Only files provably ours are ever removed.
#include <map>
#include <regex>
#include <set>

#include "aegisrt/cache/sha256.h"
#include "cache_internal.h"

namespace aegisrt {

namespace fs = std::filesystem;
using namespace cache_detail;  // NOLINT(google-build-using-namespace): this layer's private helpers

namespace {

// Our temporaries: ".<name>.tmp-<pid>-<tid>-<n>" (cache and write_file_atomic),
// optionally with the TVM builder's ".build.so" / ".io.json" / ".records.json"
// / ".seed.json" tails.
bool is_our_temporary(const std::string& fname, std::string& artifact_name) {
  static const std::regex kTemp(
      R"(^\.(.+)\.tmp-[0-9]+-[0-9]+-[0-9]+(\.build\.so|\.io\.json|\.records\.json|\.seed\.json)?$)");
  std::smatch m;
  if (!std::regex_match(fname, m, kTemp)) return false;
  artifact_name = m[1].str();
  if (artifact_name.ends_with(".json")) artifact_name.resize(artifact_name.size() - 5);
  return !artifact_name.empty();
}

// The build lock `lock`, taken, when it exists and nobody holds it (nullopt
// when there is no lock file or it is not ours to take); `busy` when a build
// holds it. IoError when the OS cannot say whether the lock file exists (a
// folder we may list but not search): clean() never throws.
Result<std::optional<FileLock>> lock_if_free(const fs::path& lock, bool& busy) {
  busy = false;
  std::error_code ec;
  const bool exists = fs::exists(lock, ec);
  if (ec) return Error(ErrorCode::IoError, "cannot check build lock '" + lock.string() + "': " + ec.message());
  std::optional<FileLock> held;
  if (!exists) return held;
  auto l = FileLock::open(lock);
  if (l.ok()) {
    if (!l->try_acquire()) {
      busy = true;
      return held;
    }
    held.emplace(std::move(*l));
  }
  return held;
}

}  // namespace

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
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code fec;  // one entry's type unknown: skip it, keep listing
    if (!it->is_regular_file(fec)) continue;
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
  if (ec) return Error(ErrorCode::IoError, "cannot list '" + dir_.string() + "': " + ec.message());
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
  const bool dir_exists = fs::exists(dir_, ec);
  if (ec) return Error(ErrorCode::IoError, "cannot check cache folder '" + dir_.string() + "': " + ec.message());
  if (!dir_exists) return report;
  // Never delete in a folder that is not ours.
  AEGIS_TRY(check_trusted_dir(dir_));
  AEGIS_ASSIGN_OR_RETURN(auto entries, verify(env));

  auto remove_one = [&](const fs::path& p) {
    std::error_code rec;
    const bool exists = fs::exists(p, rec);
    if (rec) {
      report.failures.push_back(p.string() + ": " + rec.message());
      return;
    }
    if (!exists) return;
    if (dry_run) {
      report.removed.push_back(p);
      return;
    }
    if (fs::remove(p, rec)) report.removed.push_back(p);
    else report.failures.push_back(p.string() + ": " + rec.message());
  };

  for (const auto& e : entries) {
    if (!all && e.problem.empty()) continue;
    // Only provable entries: our sidecar naming this artefact (or our sidecar alone).
    if (!e.ours) continue;
    // Skip entries being built right now (their lock is held).
    bool busy = false;
    AEGIS_ASSIGN_OR_RETURN(std::optional<FileLock> held, lock_if_free(e.artifact_path.string() + ".lock", busy));
    if (busy) {
      report.failures.push_back(e.artifact_path.string() + ": a build holds its lock; left alone");
      continue;
    }
    if (e.artifact_exists) remove_one(e.artifact_path);
    remove_one(e.sidecar_path);
  }

  // Temporaries of crashed builds (our names only) whose lock is free.
  fs::directory_iterator it(dir_, ec);
  for (const fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
    const std::string fname = it->path().filename().string();
    std::string artifact_name;
    if (!is_our_temporary(fname, artifact_name)) continue;
    std::error_code fec;
    if (!it->is_regular_file(fec)) continue;
    bool busy = false;
    AEGIS_ASSIGN_OR_RETURN(std::optional<FileLock> held, lock_if_free(dir_ / (artifact_name + ".lock"), busy));
    if (busy) continue;  // in flight
    remove_one(it->path());
  }
  if (ec) return Error(ErrorCode::IoError, "cannot list cache folder '" + dir_.string() + "': " + ec.message());
  return report;
}

}  // namespace aegisrt
