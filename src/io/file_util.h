// Internal helpers for the tensor-file readers/writers: checked file access
// with errors naming the file, and atomic publication of written files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "aegisrt/core/result.h"

namespace aegisrt::io::detail {

/// "'path'" for messages.
std::string quoted(const std::filesystem::path& path);

/// A file opened for reading, with its size known up front.
class InputFile {
 public:
  /// NotFound for a missing file or a directory, IoError if it cannot be opened.
  static Result<InputFile> open(const std::filesystem::path& path);

  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  /// Reads exactly dst.size() bytes at the current position; Corrupt
  /// ("truncated") when the file ends first, IoError on a read error.
  Result<void> read_exact(std::span<std::byte> dst, const std::string& what);

 private:
  struct Closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file_;
  std::filesystem::path path_;
  std::uint64_t size_ = 0;
};

/// Writes `bytes` to a temporary file next to `path`, flushes it and renames it
/// over `path`, so readers never see a half-written file. IoError naming the
/// path on failure (the temporary is removed).
Result<void> write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes);

/// A temporary path next to `path` (same directory, so rename is atomic).
std::filesystem::path temp_path_for(const std::filesystem::path& path);

}  // namespace aegisrt::io::detail
