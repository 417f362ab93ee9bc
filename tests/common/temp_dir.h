// The one per-test temporary folder every test uses: a fresh folder under the
// system temporary directory, named after the process and the running test
// ("<prefix><pid>_<suite>_<test>", '/' of parameterised names made '_'), so
// tests running at once (ctest -j, several processes) never share one; it is
// removed with everything in it when the TempDir goes.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace aegisrt::testing {

class TempDir {
 public:
  /// `prefix` starts the folder's name ("aegisrt_cache_"); outside a running
  /// test the name has "<pid>_notest" instead of the test's names.
  explicit TempDir(std::string_view prefix = "aegisrt_io_") {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "_" + info->name() : "notest";
    for (auto& c : name)
      if (c == '/') c = '_';
    path_ = std::filesystem::temp_directory_path() / (std::string(prefix) + std::to_string(::getpid()) + "_" + name);
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& f) const { return path_ / f; }

 private:
  std::filesystem::path path_;
};

}  // namespace aegisrt::testing
