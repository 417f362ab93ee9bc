// Artefact cache locking and durable writes: FileLock (flock() plus a
// "pid N on HOST since TIME" holder record), fsync'ed files and folders, and
// the build-lock timeout from AEGISRT_LOCK_TIMEOUT.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <thread>

#include <spdlog/spdlog.h>

#include "cache_internal.h"

namespace aegisrt {

namespace fs = std::filesystem;

namespace cache_detail {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<FileLock> FileLock::open(const std::filesystem::path& path) {
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

std::string FileLock::holder() const {
  char buf[256];
  const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
  if (n <= 0) return {};
  std::string s(buf, static_cast<std::size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  if (s.find_first_of("\n\0") != std::string::npos || !s.starts_with("pid ")) return {};
  return s;
}

Result<void> FileLock::acquire(Duration timeout, const std::filesystem::path& path, bool& waited, Duration report_every,
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

bool FileLock::try_acquire() {
  held_ = ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
  return held_;
}

void FileLock::release() noexcept {
  if (fd_ >= 0) {
    if (held_ && ::ftruncate(fd_, 0) != 0) {  // no holder recorded any more
    }
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
    fd_ = -1;
    held_ = false;
  }
}

std::string FileLock::fmt_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, s < 10 ? "%.1f s" : "%.0f s", s);
  return buf;
}

std::string FileLock::fmt_wait(const std::filesystem::path& path, const std::string& whom, double elapsed, double limit) {
  return "artefact cache: waiting for " + whom + " to finish building '" +
         path.filename().replace_extension().string() + "' (lock '" + path.string() + "'; waited " +
         fmt_seconds(elapsed) + " of " + fmt_seconds(limit) + ")";
}

void FileLock::record_holder() noexcept {
  char host[256] = {};
  (void)::gethostname(host, sizeof host - 1);
  const std::string text = "pid " + std::to_string(::getpid()) + " on " + host + " since " + utc_now() + "\n";
  if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, text.data(), text.size(), 0);
}

}  // namespace cache_detail

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

GpuMatch default_gpu_match() {
  const char* env = std::getenv("AEGISRT_CACHE_GPU_MATCH");
  if (env == nullptr || *env == '\0') return GpuMatch::Uuid;
  const std::string_view v(env);
  if (v == "uuid") return GpuMatch::Uuid;
  if (v == "model") return GpuMatch::Model;
  spdlog::warn("ignoring AEGISRT_CACHE_GPU_MATCH='{}' (want 'uuid' or 'model'); GPU artefacts must match the GPU's UUID",
               env);
  return GpuMatch::Uuid;
}

std::string_view to_string(GpuMatch m) noexcept { return m == GpuMatch::Model ? "model" : "uuid"; }

}  // namespace aegisrt
