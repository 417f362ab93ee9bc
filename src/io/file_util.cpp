// Checked file access and atomic writes for src/io.
#include "io/file_util.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace aegisrt::io::detail {

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

Result<InputFile> InputFile::open(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return Error(ErrorCode::NotFound, "file " + quoted(path) + " does not exist");
  }
  if (std::filesystem::is_directory(status)) {
    return Error(ErrorCode::NotFound, quoted(path) + " is a directory, not a tensor file");
  }
  InputFile f;
  f.path_ = path;
  f.file_.reset(std::fopen(path.c_str(), "rb"));
  if (!f.file_) {
    return Error(ErrorCode::IoError,
                 "cannot open " + quoted(path) + ": " + std::strerror(errno));
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Error(ErrorCode::IoError, "cannot stat " + quoted(path) + ": " + ec.message());
  f.size_ = size;
  return f;
}

Result<void> InputFile::read_exact(std::span<std::byte> dst, const std::string& what) {
  if (dst.empty()) return {};
  const std::size_t got = std::fread(dst.data(), 1, dst.size(), file_.get());
  if (got == dst.size()) return {};
  if (std::ferror(file_.get())) {
    return Error(ErrorCode::IoError, "read error in " + quoted(path_) + " while reading " + what);
  }
  return Error(ErrorCode::Corrupt, quoted(path_) + " is truncated: " + what + " needs " +
                                       std::to_string(dst.size()) + " bytes, only " +
                                       std::to_string(got) + " left");
}

std::filesystem::path temp_path_for(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  auto tmp = path;
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  return tmp;
}

Result<void> write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  const auto tmp = temp_path_for(path);
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    return Error(ErrorCode::IoError,
                 "cannot create " + quoted(tmp) + " for " + quoted(path) + ": " + std::strerror(errno));
  }
  bool ok = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = ok && ::fsync(::fileno(f)) == 0;
  const int saved_errno = errno;
  ok = (std::fclose(f) == 0) && ok;
  std::error_code ec;
  if (!ok) {
    std::filesystem::remove(tmp, ec);
    return Error(ErrorCode::IoError,
                 "cannot write " + quoted(path) + ": " + std::strerror(saved_errno));
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    return Error(ErrorCode::IoError, "cannot rename " + quoted(tmp) + " to " + quoted(path) +
                                         ": " + ec.message());
  }
  return {};
}

}  // namespace aegisrt::io::detail
