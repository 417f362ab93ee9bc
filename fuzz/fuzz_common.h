// Shared by the file-decoder fuzz targets: a finding aborts (as libFuzzer
// expects), and decoders that take a path get the input through a private
// temporary file.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "aegisrt/core/error.h"
#include "aegisrt/core/tensor.h"

namespace aegisrt::fuzz {

[[noreturn]] inline void finding(const char* target, const char* what) {
  std::fprintf(stderr, "%s: invariant broken: %s\n", target, what);
  std::abort();
}

inline void check(bool cond, const char* target, const char* what) {
  if (!cond) finding(target, what);
}

/// A typed rejection of hostile bytes is one of these codes; Internal (a bug),
/// BackendError, CudaError and the like are findings.
inline bool is_input_error(ErrorCode c) {
  return c == ErrorCode::Corrupt || c == ErrorCode::Unsupported || c == ErrorCode::InvalidArgument ||
         c == ErrorCode::NotFound || c == ErrorCode::IoError;
}

/// Bytes of data a decoded host tensor carries: its raw bytes, or for a string
/// tensor the total length of its strings (the std::string objects
/// themselves are bookkeeping, not decoded data).
inline std::uint64_t payload_bytes(const Tensor& t) {
  if (!dtype_is_string(t.dtype())) return t.byte_size();
  std::uint64_t n = 0;
  for (const auto& s : t.span<std::string>()) n += s.size();
  return n;
}

/// Writes the input to a per-process file with the given extension and
/// returns its path (overwritten on every call).
inline std::filesystem::path write_input(const std::uint8_t* data, std::size_t size, const char* ext) {
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("aegisrt_fuzz_" + std::to_string(::getpid()) + ext);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) finding("fuzz", "cannot write the temporary input file");
  if (size > 0 && std::fwrite(data, 1, size, f) != size) finding("fuzz", "short write of the input file");
  std::fclose(f);
  return path;
}

}  // namespace aegisrt::fuzz
