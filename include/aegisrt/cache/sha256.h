// SHA-256 (FIPS 180-4) for cache keys and artefact checksums, computed by
// OpenSSL's EVP API (libcrypto; issue 16 measured ~1 GB/s for it versus
// ~130 MB/s for the former own implementation; not re-measured here);
// checked against the NIST test vectors in tests/cache. No OpenSSL type
// appears here.
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

  Sha256() noexcept;
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;

  /// False when OpenSSL could not set up a context (out of memory): update()
  /// then does nothing and finish() returns zeros; sha256_file/sha256_hex check it.
  [[nodiscard]] bool valid() const noexcept { return ctx_ != nullptr && ok_; }
  void reset() noexcept;
  void update(std::span<const std::byte> data) noexcept;
  void update(std::string_view data) noexcept;
  /// Finishes and returns the digest; the object must be reset() before reuse.
  [[nodiscard]] Digest finish() noexcept;

  /// Lower-case hex of a digest.
  static std::string to_hex(const Digest& d);

 private:
  void* ctx_ = nullptr;  // EVP_MD_CTX*
  bool ok_ = false;
};

/// Lower-case hex SHA-256 of a byte string ("" if OpenSSL fails, which only
/// an out-of-memory can cause).
std::string sha256_hex(std::string_view data);

/// Lower-case hex SHA-256 of a file's content; NotFound / IoError naming the file.
Result<std::string> sha256_file(const std::filesystem::path& path);

}  // namespace aegisrt
