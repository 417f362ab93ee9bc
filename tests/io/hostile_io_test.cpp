// Hostile tensor files (issue 12): size claims checked against the file's real
// size before allocating, zip bombs bounded by the entry's .npy header, every
// allocation failure a typed error naming the file and entry, and FIFOs refused
// instead of blocking. Risky reads run in a child process (fork) so that a
// regression shows up as a failed test, not as a hung or killed test binary:
// the child has a time limit and, outside ASan, an address-space limit only a
// little above what it already uses, so a reader that allocates what a file
// claims (instead of what it holds) dies or errors in the child.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <thread>

#include "aegisrt/io/npy.h"
#include "aegisrt/io/npz.h"
#include "aegisrt/io/tensor_files.h"
#include "aegisrt/io/tensor_proto.h"
#include "io/io_test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define AEGIS_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AEGIS_TEST_ASAN 1
#endif
#endif

namespace aegisrt::io {
namespace {

using aegisrt::testing::TempDir;
namespace fs = std::filesystem;

const fs::path kHostile = fs::path(AEGISRT_TEST_DATA_DIR) / "io_hostile";

constexpr bool kAsan =
#if defined(AEGIS_TEST_ASAN)
    true;
#else
    false;
#endif

struct ChildResult {
  bool timed_out = false;
  bool exited = false;
  int code = -1;
  int signal = 0;
};

std::ostream& operator<<(std::ostream& os, const ChildResult& r) {
  if (r.timed_out) return os << "child timed out (blocked)";
  if (r.exited) return os << "child exited with " << r.code;
  return os << "child killed by signal " << r.signal;
}

std::uint64_t current_address_space() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t pages = 0;
  statm >> pages;
  return pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

/// Runs `body` in a forked child; its return value is the exit code. With
/// `headroom` > 0 (and not under ASan, which reserves terabytes of address
/// space) the child's address space is limited to what it uses now plus
/// `headroom` bytes.
ChildResult run_in_child(const std::function<int()>& body, std::uint64_t headroom, int timeout_s = 20) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (headroom > 0 && !kAsan) {
      const rlimit lim{current_address_space() + headroom, current_address_space() + headroom};
      ::setrlimit(RLIMIT_AS, &lim);
    }
    const int rc = body();
    std::fflush(nullptr);
    ::_exit(rc);
  }
  ChildResult r;
  if (pid < 0) return r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  while (true) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.timed_out = true;
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  r.exited = WIFEXITED(status);
  r.code = r.exited ? WEXITSTATUS(status) : -1;
  r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return r;
}

/// Child-side check: 0 if `r` failed with `code` and its message holds every
/// part; 1 otherwise (printing what it got).
template <typename T>
int expect_error(const Result<T>& r, ErrorCode code, const std::vector<std::string>& parts) {
  if (r.ok()) {
    std::cerr << "expected an error, the read succeeded\n";
    return 1;
  }
  std::cerr << "got: " << r.error() << "\n";
  if (r.error().code() != code) return 1;
  for (const auto& p : parts) {
    if (r.error().message().find(p) == std::string::npos) {
      std::cerr << "message lacks '" << p << "'\n";
      return 1;
    }
  }
  return 0;
}

class HostileFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kHostile / "claim4g_stored.npz")) {
      GTEST_SKIP() << "hostile test files not generated in " << kHostile;
    }
  }
};

// A ~300-byte .npz whose zip directory claims a 4,000,000,000-byte entry: the
// claim is compared with the file's real size and refused before any
// allocation (before the fix it allocated and zero-filled 4 GB, and died with
// an uncaught std::bad_alloc under a memory limit).
TEST_F(HostileFiles, FourGigabyteClaimIsRefusedWithoutAllocating) {
  for (const char* name : {"claim4g_stored.npz", "claim4g_deflated.npz"}) {
    const fs::path path = kHostile / name;
    ASSERT_LT(fs::file_size(path), 1024U);
    const auto r = run_in_child(
        [&] {
          return expect_error(read_npz(path), ErrorCode::Corrupt,
                              {path.string(), "entry 'x.npy'", "4000000000", "claims"});
        },
        std::uint64_t{256} << 20);
    EXPECT_TRUE(r.exited && r.code == 0) << name << ": " << r;
  }
}

// 64 MiB of zeros behind a header for 4 floats (a zip bomb the zip directory
// declares honestly): the entry's size must equal what its header's shape
// needs, checked before anything is inflated or allocated.
TEST_F(HostileFiles, EntryLargerThanItsHeaderShapeIsRefusedBeforeInflating) {
  const fs::path path = kHostile / "header_mismatch.npz";
  ASSERT_LT(fs::file_size(path), std::uintmax_t{1} << 20);
  const auto r = run_in_child(
      [&] {
        return expect_error(read_npz(path), ErrorCode::Corrupt,
                            {path.string(), "entry 'x.npy'", "data size mismatch", "needs 16 bytes"});
      },
      std::uint64_t{32} << 20);
  EXPECT_TRUE(r.exited && r.code == 0) << r;
}

// A real 64 MiB tensor read with only 32 MiB to spare: a typed error naming
// the file and the entry, not an uncaught std::bad_alloc nor "tensor ''".
TEST_F(HostileFiles, OutOfMemoryNamesTheFileAndEntry) {
  if (kAsan) GTEST_SKIP() << "needs an address-space limit, which ASan cannot run under";
  const fs::path path = kHostile / "zeros_64m.npz";
  const auto r = run_in_child(
      [&] {
        auto res = read_npz(path);
        if (res.ok()) {
          std::cerr << "read succeeded despite the memory limit\n";
          return 2;
        }
        std::cerr << "got: " << res.error() << "\n";
        const auto& msg = res.error().message();
        const bool named = msg.find(path.string()) != std::string::npos &&
                           msg.find("entry 'big.npy'") != std::string::npos &&
                           msg.find("tensor ''") == std::string::npos;
        return named && res.error().code() == ErrorCode::IoError ? 0 : 1;
      },
      std::uint64_t{32} << 20);
  EXPECT_TRUE(r.exited && r.code == 0) << r;
}

TEST_F(HostileFiles, TheBombsStillReadWithoutLimits) {
  // Control: zeros_64m.npz is a valid file; only the limit made it fail above.
  auto big = read_npz(kHostile / "zeros_64m.npz");
  ASSERT_TRUE(big.ok()) << big.error();
  ASSERT_EQ(big->size(), 1U);
  EXPECT_EQ((*big)[0].name(), "big");
  EXPECT_EQ((*big)[0].element_count(), (std::int64_t{64} << 20) / 4);
}

// A TensorProto whose dims claim 10^9 floats but holds none: refused by
// comparing the claim with the data present, before allocating 4 GB.
TEST(HostileTensorProto, DimsClaimingMoreThanTheDataAreRefusedBeforeAllocating) {
  if (!tensor_proto_supported()) GTEST_SKIP() << "no ONNX protobuf support in this build";
  TempDir dir;
  // dims: [1000000000] (field 1, varint), data_type: FLOAT (field 2), no data.
  const std::vector<std::byte> bytes = {std::byte{0x08}, std::byte{0x80}, std::byte{0x94}, std::byte{0xEB},
                                        std::byte{0xDC}, std::byte{0x03}, std::byte{0x10}, std::byte{0x01}};
  aegisrt::testing::write_bytes(dir / "claim.pb", bytes);
  const fs::path path = dir / "claim.pb";
  const auto r = run_in_child(
      [&] {
        return expect_error(read_tensor_proto(path), ErrorCode::Corrupt,
                            {path.string(), "float_data holds 0 values"});
      },
      std::uint64_t{256} << 20);
  EXPECT_TRUE(r.exited && r.code == 0) << r;
}

// FIFOs (and other non-regular files) are refused at once, by name, for every
// tensor file format and in folders of tensor files; before the fix the open
// blocked forever waiting for a writer.
TEST(HostileFifo, TensorFilesThatAreFifosFailFast) {
  TempDir dir;
  for (const char* name : {"t.npy", "t.npz", "t.pb"}) {
    const fs::path path = dir / name;
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    const auto r = run_in_child(
        [&] {
          return expect_error(read_tensor_file(path), ErrorCode::InvalidArgument, {path.string(), "FIFO"});
        },
        0, 10);
    EXPECT_TRUE(r.exited && r.code == 0) << name << ": " << r;
    fs::remove(path);
  }
  const fs::path folder = dir / "inputs";
  fs::create_directories(folder);
  ASSERT_EQ(::mkfifo((folder / "a.npy").c_str(), 0600), 0);
  const auto r = run_in_child(
      [&] {
        return expect_error(read_tensor_dir(folder), ErrorCode::InvalidArgument, {"a.npy", "FIFO"});
      },
      0, 10);
  EXPECT_TRUE(r.exited && r.code == 0) << "folder: " << r;
}

TEST(HostileFifo, DirectoryAndDanglingLinkAreNamed) {
  TempDir dir;
  auto d = read_npy(dir.path());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(d.error().message().find("directory"), std::string::npos) << d.error();
  fs::create_symlink(dir / "missing.npy", dir / "link.npy");
  auto l = read_npy(dir / "link.npy");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code(), ErrorCode::NotFound);
  EXPECT_NE(l.error().message().find("dangling"), std::string::npos) << l.error();
}

}  // namespace
}  // namespace aegisrt::io
