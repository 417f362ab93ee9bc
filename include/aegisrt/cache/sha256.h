// SHA-256 (FIPS 180-4) for cache keys and artefact checksums; a small own
// implementation, checked against the NIST test vectors in tests/cache.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "aegisrt/core/result.h"

namespace aegisrt {

class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;

  Sha256() noexcept { reset(); }
  void reset() noexcept;
  void update(std::span<const std::byte> data) noexcept;
  void update(std::string_view data) noexcept;
  /// Finishes and returns the digest; the object must be reset() before reuse.
  [[nodiscard]] Digest finish() noexcept;

  /// Lower-case hex of a digest.
  static std::string to_hex(const Digest& d);

 private:
  void compress(const std::uint8_t* block) noexcept;

  std::array<std::uint32_t, 8> state_{};
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

/// Lower-case hex SHA-256 of a byte string.
std::string sha256_hex(std::string_view data);

/// Lower-case hex SHA-256 of a file's content; NotFound / IoError naming the file.
Result<std::string> sha256_file(const std::filesystem::path& path);

}  // namespace aegisrt
