// Tests for the checked file helpers: non-regular files are refused without
// blocking, limits are applied before allocating, atomic writes never collide.
#include "aegisrt/core/file_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include "common/temp_dir.h"

namespace fs = std::filesystem;
using namespace aegisrt;

namespace {

class FileUtil : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, const std::string& text) {
    const auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  aegisrt::testing::TempDir temp_{"aegisrt_file_util_"};
  fs::path dir_ = temp_.path();
};

TEST_F(FileUtil, ReadsARegularFileWhole) {
  const auto p = write("a.txt", std::string("he\0llo", 6));
  auto r = read_file(p, "test file");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, std::string("he\0llo", 6));
}

TEST_F(FileUtil, FifoIsRefusedWithoutBlocking) {
  const auto p = dir_ / "pipe";
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  auto r = read_file(p, "manifest");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("FIFO"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("manifest"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find(p.string()), std::string::npos) << r.error();
  auto f = ReadableFile::open(p, "tensor file");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), ErrorCode::InvalidArgument);
}

TEST_F(FileUtil, DeviceAndDirectoryAreNamed) {
  auto dev = check_regular_file("/dev/null", "image");
  ASSERT_FALSE(dev);
  EXPECT_NE(dev.error().message().find("character device"), std::string::npos) << dev.error();
  auto d = check_regular_file(dir_, "image");
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message().find("directory"), std::string::npos) << d.error();
}

TEST_F(FileUtil, DanglingLinkAndLoopAreNamed) {
  fs::create_symlink(dir_ / "nowhere", dir_ / "dangling");
  auto a = check_regular_file(dir_ / "dangling", "manifest");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), ErrorCode::NotFound);
  EXPECT_NE(a.error().message().find("dangling symbolic link"), std::string::npos) << a.error();

  fs::create_symlink(dir_ / "loop_b", dir_ / "loop_a");
  fs::create_symlink(dir_ / "loop_a", dir_ / "loop_b");
  auto b = check_regular_file(dir_ / "loop_a", "manifest");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(b.error().message().find("loop"), std::string::npos) << b.error();

  auto c = check_regular_file(dir_ / "absent", "manifest");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::NotFound);
  EXPECT_NE(c.error().message().find("does not exist"), std::string::npos) << c.error();
}

TEST_F(FileUtil, SizeLimitIsCheckedBeforeReading) {
  const auto p = write("big.bin", std::string(1000, 'x'));
  auto r = read_file(p, "sidecar", 999);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("1000 bytes"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("999"), std::string::npos) << r.error();
  // A sparse 3 GB file is refused by its size alone (no 3 GB read).
  const auto sparse = dir_ / "sparse.json";
  { std::ofstream(sparse) << "{"; }
  fs::resize_file(sparse, 3ull << 30);
  auto s = read_file(sparse, "sidecar", 1 << 20);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::InvalidArgument);
}

TEST_F(FileUtil, ReadExactReportsTruncation) {
  const auto p = write("short.bin", "abc");
  auto f = ReadableFile::open(p, "tensor file");
  ASSERT_TRUE(f) << f.error();
  EXPECT_EQ(f->size(), 3u);
  std::vector<std::byte> buf(5);
  auto r = f->read_exact(buf, "payload");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::Corrupt);
  EXPECT_NE(r.error().message().find("truncated"), std::string::npos);
}

TEST_F(FileUtil, AtomicWritesFromManyThreadsNeverCollide) {
  const auto target = dir_ / "out.txt";
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string text(4096, static_cast<char>('a' + t));
      for (int i = 0; i < 50; ++i) {
        if (!write_file_atomic(target, text)) ++failures[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
  auto r = read_file(target, "out");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 4096u);
  EXPECT_EQ(r->find_first_not_of((*r)[0]), std::string::npos) << "interleaved writes";
  // No temporaries left behind.
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(FileUtil, AtomicWriteAppliesModeAndNamesUnwritableFolder) {
  const auto p = dir_ / "private.json";
  ASSERT_TRUE(write_file_atomic(p, std::string_view("{}"), 0600));
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(unique_temp_path(p), unique_temp_path(p));
  auto bad = write_file_atomic(dir_ / "no_such_dir" / "x", std::string_view("x"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::IoError);
  EXPECT_NE(bad.error().message().find("no_such_dir"), std::string::npos) << bad.error();
}

TEST_F(FileUtil, SyncedWriteCreatesOnlyNewFilesWithTheMode) {
  // The artefact cache writes its sidecar temporaries this way, then renames
  // them itself: content and mode as asked, never over an existing file.
  const auto p = dir_ / "sidecar.json";
  const mode_t old_mask = ::umask(077);  // the mode must not depend on the umask
  const auto written = write_file_synced(p, std::string_view("{\"a\": 1}"), 0644);
  ::umask(old_mask);
  ASSERT_TRUE(written) << written.error();
  EXPECT_EQ(read_file(p, "sidecar").value(), "{\"a\": 1}");
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  auto again = write_file_synced(p, std::string_view("other"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::IoError);
  EXPECT_NE(again.error().message().find("sidecar.json"), std::string::npos) << again.error();
  EXPECT_EQ(read_file(p, "sidecar").value(), "{\"a\": 1}") << "an existing file is left alone";

  // Nor through a symbolic link (O_EXCL): the link's target stays untouched.
  const auto target = write("target.txt", "keep");
  const auto link = dir_ / "link.json";
  fs::create_symlink(target, link);
  EXPECT_FALSE(write_file_synced(link, std::string_view("x")));
  EXPECT_EQ(read_file(target, "target").value(), "keep");
}

TEST_F(FileUtil, SyncPathNamesWhatItCannotOpen) {
  EXPECT_TRUE(sync_path(dir_, true));
  const auto f = write("f.txt", "x");
  EXPECT_TRUE(sync_path(f, false));
  auto missing = sync_path(dir_ / "missing", false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::IoError);
  EXPECT_NE(missing.error().message().find("missing"), std::string::npos) << missing.error();
  auto not_dir = sync_path(f, true);  // O_DIRECTORY on a file
  ASSERT_FALSE(not_dir);
  EXPECT_NE(not_dir.error().message().find("f.txt"), std::string::npos) << not_dir.error();
}

}  // namespace
