// Artefact cache trust: who owns a cache folder or file and who may write
// it (a file others can write could run code as you), private folder creation
// and the default cache locations.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cache_internal.h"

namespace aegisrt {

namespace fs = std::filesystem;

namespace cache_detail {

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

}  // namespace

std::string describe_owner(uid_t uid) { return "uid " + std::to_string(uid) + " (" + user_name(uid) + ")"; }

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

bool trusted_owner(uid_t owner) { return owner == ::geteuid() || owner == 0; }

std::string you() { return describe_owner(::geteuid()); }

}  // namespace cache_detail

using cache_detail::describe_owner;
using cache_detail::octal_mode;
using cache_detail::trusted_owner;
using cache_detail::you;

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

}  // namespace aegisrt
