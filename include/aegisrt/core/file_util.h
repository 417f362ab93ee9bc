// Checked file access shared by every layer: reading refuses anything that is
// not a regular file (a FIFO, socket or device would block or never end),
// bounds the bytes read by the file's real size and a caller's limit, and
// writing publishes atomically (unique temporary + fsync + rename). Every
// error names the file and what it was being read as.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "aegisrt/core/result.h"

namespace aegisrt {

/// Default cap for read_file(): 256 MiB. Callers reading models pass more.
inline constexpr std::uint64_t kDefaultMaxReadBytes = 256ull << 20;

/// "'path'" for messages.
std::string quote_path(const std::filesystem::path& path);

/// Checks that `path` names a regular file (symlinks followed) and returns its
/// size. NotFound: missing, or a dangling symbolic link; InvalidArgument: a
/// symlink loop, a directory, FIFO, socket or device (named as such); IoError:
/// any other stat failure. `what` ("manifest", "tensor file") prefixes the
/// message. Never blocks.
Result<std::uint64_t> check_regular_file(const std::filesystem::path& path, std::string_view what);

/// A regular file opened for reading. Opening never blocks (O_NONBLOCK, then
/// fstat on the opened descriptor, so a file swapped for a FIFO after the
/// check is still refused).
class ReadableFile {
 public:
  static Result<ReadableFile> open(const std::filesystem::path& path, std::string_view what);

  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] std::FILE* stream() const noexcept { return file_.get(); }
  /// Bytes not yet read (size() minus the current position).
  [[nodiscard]] std::uint64_t remaining() const noexcept;

  /// Reads exactly dst.size() bytes at the current position; Corrupt
  /// ("truncated") when the file ends first, IoError on a read error.
  Result<void> read_exact(std::span<std::byte> dst, std::string_view what);

 private:
  struct Closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file_;
  std::filesystem::path path_;
  std::uint64_t size_ = 0;
};

/// The whole file as bytes. Refuses non-regular files (see above) and files
/// larger than `max_bytes` (InvalidArgument naming the size and the limit)
/// before allocating; an allocation failure is IoError, never an exception.
Result<std::string> read_file(const std::filesystem::path& path, std::string_view what,
                              std::uint64_t max_bytes = kDefaultMaxReadBytes);

/// A temporary path next to `target` (same folder, so rename is atomic),
/// unique across processes and threads: ".<name>.tmp-<pid>-<thread>-<counter>".
std::filesystem::path unique_temp_path(const std::filesystem::path& target);

/// Writes `bytes` to `path`, which must not exist yet (O_EXCL: never over
/// another file nor through a symbolic link), applies `mode` (umask-proof)
/// and fsyncs the file; it is not renamed. For a caller that publishes
/// several files in an order of its own (the artefact cache renames its
/// artefact, then the sidecar written here); everyone else wants
/// write_file_atomic(). IoError naming the path; a partly written file is
/// removed.
Result<void> write_file_synced(const std::filesystem::path& path, std::span<const std::byte> bytes,
                               unsigned mode = 0644);
Result<void> write_file_synced(const std::filesystem::path& path, std::string_view text,
                               unsigned mode = 0644);

/// fsync of a file or, with `directory`, of a folder (which makes the renames
/// done in it durable). IoError naming the path.
Result<void> sync_path(const std::filesystem::path& path, bool directory);

/// Writes `bytes` to unique_temp_path(path), fsyncs it, renames it over
/// `path` and fsyncs the folder, so readers never see a half-written file.
/// `mode` is applied to the new file (default 0644; pass 0600 for private
/// files). IoError naming the path on failure; the temporary is removed.
Result<void> write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes,
                               unsigned mode = 0644);
Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view text,
                               unsigned mode = 0644);

}  // namespace aegisrt
