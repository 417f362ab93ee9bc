// Private to src/cache: what the cache's files share. Not installed.
//   cache_trust.cpp        folder/file trust (owner, mode), private folders, default locations
//   cache_lock.cpp         FileLock (flock + holder record), fsync'ed writes, lock timeout
//   cache_sidecar.cpp      ArtifactMetadata JSON, validation of an entry against its sidecar
//   artifact_cache.cpp     keys, lookup(), get_or_build() (locked build + atomic publish)
//   cache_maintenance.cpp  list(), verify(), clean()
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "aegisrt/cache/artifact_cache.h"

namespace aegisrt::cache_detail {

// ---- cache_trust.cpp
/// "uid 1000 (alice)".
std::string describe_owner(uid_t uid);
/// "0755".
std::string octal_mode(mode_t mode);
/// We trust files and folders owned by us or by root.
bool trusted_owner(uid_t owner);

// ---- cache_lock.cpp
/// RAII flock() holder on a lock file. The holder writes "pid N on HOST since
/// TIME" into the file, so a waiter can say whom it waits for.
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
  static Result<FileLock> open(const std::filesystem::path& path);

  /// Who holds it, as recorded in the file ("pid 123 on host since ...");
  /// empty when nothing is recorded.
  [[nodiscard]] std::string holder() const;

  /// Polls until `timeout`; `waited` says if it had to wait. Every
  /// `report_every` it logs whom it waits for and calls `report`.
  Result<void> acquire(Duration timeout, const std::filesystem::path& path, bool& waited, Duration report_every,
                       const std::function<void(const std::string&, double)>& report);
  /// Takes the lock if it is free; false (not held) otherwise.
  bool try_acquire();
  void release() noexcept;

 private:
  static std::string fmt_seconds(double s);
  static std::string fmt_wait(const std::filesystem::path& path, const std::string& whom, double elapsed, double limit);
  void record_holder() noexcept;

  int fd_ = -1;
  bool held_ = false;
};


// Synced writes, fsync and temporary names: core/file_util.h
// (write_file_synced, sync_path, unique_temp_path).
std::string utc_now();

// ---- cache_sidecar.cpp
/// First 12 hex digits, for messages.
std::string short_hash(const std::string& h);
/// Why `md` does not fit the running backend/GPU; nullopt when it does.
std::optional<std::string> compare_environment(const ArtifactMetadata& md, const BuildEnvironment& env,
                                               GpuMatch match = GpuMatch::Uuid);
/// Size and (when `checksum`) SHA-256 of the artefact against the sidecar.
std::optional<std::string> check_integrity(const std::filesystem::path& artifact, const ArtifactMetadata& md,
                                           bool checksum);
/// "opt 'a' -> 'b', x added ('1')".
std::string describe_option_change(const std::map<std::string, std::string>& was,
                                   const std::map<std::string, std::string>& now);
/// Checks shared by lookup() and verify(); nullopt = usable.
std::optional<std::string> check_entry(const std::filesystem::path& artifact, const ArtifactMetadata& md,
                                       const std::optional<BuildEnvironment>& env, const CacheOptions& options,
                                       bool checksum);

}  // namespace aegisrt::cache_detail
