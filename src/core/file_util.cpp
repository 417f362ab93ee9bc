// Checked file access and atomic writes (see aegisrt/core/file_util.h).
#include "aegisrt/core/file_util.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <new>
#include <thread>

namespace aegisrt {
namespace {

std::string prefix(std::string_view what, const std::filesystem::path& path) {
  std::string s(what.empty() ? std::string_view("file") : what);
  return s + " " + quote_path(path);
}

std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

// Classifies a failed stat(): a dangling link and a loop get their own words.
Error stat_error(const std::filesystem::path& path, std::string_view what, int err) {
  if (err == ENOENT || err == ENOTDIR) {
    struct stat lst {};
    if (::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
      return Error(ErrorCode::NotFound,
                   prefix(what, path) + " is a dangling symbolic link (its target does not exist)");
    }
    return Error(ErrorCode::NotFound, prefix(what, path) + " does not exist");
  }
  if (err == ELOOP) {
    return Error(ErrorCode::InvalidArgument,
                 prefix(what, path) + " is a symbolic link loop (too many levels of links)");
  }
  return Error(ErrorCode::IoError, "cannot stat " + prefix(what, path) + ": " + std::strerror(err));
}

Result<std::uint64_t> regular_size(const struct stat& st, const std::filesystem::path& path,
                                   std::string_view what) {
  if (!S_ISREG(st.st_mode)) {
    return Error(ErrorCode::InvalidArgument,
                 prefix(what, path) + " is " + kind_of(st.st_mode) + ", not a regular file");
  }
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace

std::string quote_path(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

Result<std::uint64_t> check_regular_file(const std::filesystem::path& path, std::string_view what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return stat_error(path, what, errno);
  return regular_size(st, path, what);
}

Result<ReadableFile> ReadableFile::open(const std::filesystem::path& path, std::string_view what) {
  // Check first so a missing file / FIFO gets its precise message, then open
  // without blocking and check the descriptor itself (the path may have changed).
  AEGIS_TRY(check_regular_file(path, what));
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ELOOP) return stat_error(path, what, err);
    return Error(ErrorCode::IoError, "cannot open " + prefix(what, path) + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Error(ErrorCode::IoError, "cannot stat " + prefix(what, path) + ": " + std::strerror(err));
  }
  auto size = regular_size(st, path, what);
  if (!size) {
    ::close(fd);
    return size.error();
  }
  // Regular files never block; clear O_NONBLOCK anyway so stdio behaves normally.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  std::FILE* f = ::fdopen(fd, "rb");
  if (f == nullptr) {
    const int err = errno;
    ::close(fd);
    return Error(ErrorCode::IoError, "cannot open " + prefix(what, path) + ": " + std::strerror(err));
  }
  ReadableFile out;
  out.file_.reset(f);
  out.path_ = path;
  out.size_ = *size;
  return out;
}

std::uint64_t ReadableFile::remaining() const noexcept {
  const long pos = std::ftell(file_.get());
  if (pos < 0) return 0;
  const auto p = static_cast<std::uint64_t>(pos);
  return p >= size_ ? 0 : size_ - p;
}

Result<void> ReadableFile::read_exact(std::span<std::byte> dst, std::string_view what) {
  if (dst.empty()) return {};
  const std::size_t got = std::fread(dst.data(), 1, dst.size(), file_.get());
  if (got == dst.size()) return {};
  if (std::ferror(file_.get())) {
    return Error(ErrorCode::IoError,
                 "read error in " + quote_path(path_) + " while reading " + std::string(what));
  }
  return Error(ErrorCode::Corrupt, quote_path(path_) + " is truncated: " + std::string(what) +
                                       " needs " + std::to_string(dst.size()) + " bytes, only " +
                                       std::to_string(got) + " left");
}

Result<std::string> read_file(const std::filesystem::path& path, std::string_view what,
                              std::uint64_t max_bytes) {
  AEGIS_ASSIGN_OR_RETURN(ReadableFile file, ReadableFile::open(path, what));
  if (file.size() > max_bytes) {
    return Error(ErrorCode::InvalidArgument,
                 prefix(what, path) + " is " + std::to_string(file.size()) +
                     " bytes, more than the limit of " + std::to_string(max_bytes) + " bytes");
  }
  std::string bytes;
  try {
    bytes.resize(static_cast<std::size_t>(file.size()));
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::IoError, "out of memory reading " + prefix(what, path) + " (" +
                                         std::to_string(file.size()) + " bytes)");
  }
  AEGIS_TRY(file.read_exact(std::as_writable_bytes(std::span(bytes.data(), bytes.size())),
                            std::string(what.empty() ? "contents" : what)));
  return bytes;
}

std::filesystem::path unique_temp_path(const std::filesystem::path& target) {
  static std::atomic<std::uint64_t> counter{0};
  const auto tid = std::hash<std::thread::id>{}(std::this_thread::get_id());
  std::string name = "." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                     std::to_string(tid % 1000000007ull) + "-" +
                     std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
  return target.parent_path() / name;
}

Result<void> write_file_synced(const std::filesystem::path& path, std::span<const std::byte> bytes,
                               unsigned mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) {
    const int err = errno;
    return Error(ErrorCode::IoError, "cannot create " + quote_path(path) + ": " + std::strerror(err));
  }
  int err = 0;
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fchmod(fd, static_cast<mode_t>(mode)) != 0) err = errno;  // umask-proof
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(path.c_str());
    return Error(ErrorCode::IoError, "cannot write " + quote_path(path) + ": " + std::strerror(err));
  }
  return {};
}

Result<void> write_file_synced(const std::filesystem::path& path, std::string_view text,
                               unsigned mode) {
  return write_file_synced(path, std::as_bytes(std::span(text.data(), text.size())), mode);
}

Result<void> sync_path(const std::filesystem::path& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Error(ErrorCode::IoError, "cannot open " + quote_path(path) + " to sync: " + std::strerror(err));
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Error(ErrorCode::IoError, "fsync(" + quote_path(path) + ") failed: " + std::strerror(err));
  return {};
}

Result<void> write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes,
                               unsigned mode) {
  const auto tmp = unique_temp_path(path);
  if (auto r = write_file_synced(tmp, bytes, mode); !r.ok()) {
    return Error(ErrorCode::IoError, "cannot write " + quote_path(path) + " (through a temporary file): " +
                                         r.error().message());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Error(ErrorCode::IoError, "cannot write " + quote_path(path) + ": " + std::strerror(err));
  }
  // Make the rename itself durable; a failure here loses nothing already visible.
  (void)sync_path(path.has_parent_path() ? path.parent_path() : std::filesystem::path("."), true);
  return {};
}

Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view text,
                               unsigned mode) {
  return write_file_atomic(path, std::as_bytes(std::span(text.data(), text.size())), mode);
}

}  // namespace aegisrt
