// SHA-256 through OpenSSL's EVP interface (libcrypto).
#include "aegisrt/cache/sha256.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include <openssl/evp.h>

namespace aegisrt {

namespace {
EVP_MD_CTX* as_ctx(void* p) noexcept { return static_cast<EVP_MD_CTX*>(p); }
}  // namespace

Sha256::Sha256() noexcept : ctx_(EVP_MD_CTX_new()) { reset(); }

Sha256::~Sha256() { EVP_MD_CTX_free(as_ctx(ctx_)); }

Sha256::Sha256(Sha256&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)), ok_(other.ok_) {}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(as_ctx(ctx_));
    ctx_ = std::exchange(other.ctx_, nullptr);
    ok_ = other.ok_;
  }
  return *this;
}

void Sha256::reset() noexcept {
  ok_ = ctx_ != nullptr && EVP_DigestInit_ex(as_ctx(ctx_), EVP_sha256(), nullptr) == 1;
}

void Sha256::update(std::span<const std::byte> data) noexcept {
  if (!ok_ || data.empty()) return;
  ok_ = EVP_DigestUpdate(as_ctx(ctx_), data.data(), data.size()) == 1;
}

void Sha256::update(std::string_view data) noexcept {
  update(std::as_bytes(std::span<const char>(data.data(), data.size())));
}

Sha256::Digest Sha256::finish() noexcept {
  Digest out{};
  unsigned int len = 0;
  if (!ok_ || EVP_DigestFinal_ex(as_ctx(ctx_), out.data(), &len) != 1 || len != out.size()) {
    ok_ = false;
    return Digest{};
  }
  return out;
}

std::string Sha256::to_hex(const Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (auto b : d) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 0xF]);
  }
  return s;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  const auto d = h.finish();
  return h.valid() ? Sha256::to_hex(d) : std::string();
}

Result<std::string> sha256_file(const std::filesystem::path& path) {
  // O_NONBLOCK + fstat: a FIFO or device is refused instead of blocking forever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    return Error(err == ENOENT ? ErrorCode::NotFound : ErrorCode::IoError,
                 "cannot open '" + path.string() + "' for hashing: " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error(ErrorCode::InvalidArgument, "'" + path.string() + "' is not a regular file (cannot hash it)");
  }
  Sha256 h;
  std::vector<std::byte> buf(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Error(ErrorCode::IoError, "cannot read '" + path.string() + "': " + std::strerror(err));
    }
    h.update(std::span<const std::byte>(buf.data(), static_cast<std::size_t>(n)));
  }
  ::close(fd);
  const auto digest = h.finish();
  if (!h.valid()) return Error(ErrorCode::Internal, "OpenSSL SHA-256 failed while hashing '" + path.string() + "'");
  return Sha256::to_hex(digest);
}

}  // namespace aegisrt
