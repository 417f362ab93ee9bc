// The fixture the cache tests share: a fresh folder per test under the system
// temporary directory (removed afterwards) with a source model, the cache
// folder inside it and the build counter file of counting_builder().
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

#include "cache/cache_test_util.h"
#include "common/temp_dir.h"

namespace aegisrt::testing {

class CacheFixture : public ::testing::Test {
 protected:
  /// `prefix`: the per-test folder's name start; `cache_name`: the cache
  /// folder inside it (not created: the cache creates it).
  CacheFixture(std::string prefix, std::string cache_name)
      : prefix_(std::move(prefix)), cache_name_(std::move(cache_name)) {}

  void SetUp() override {
    temp_.emplace(prefix_);
    root_ = temp_->path();
    dir_ = root_ / cache_name_;
    source_ = root_ / "model.onnx";
    spit(source_, "onnx-model-v1");
    count_ = root_ / "builds.txt";
  }
  void TearDown() override { temp_.reset(); }
  /// How many times counting_builder(count_) ran.
  int builds() const { return count_lines(count_); }

  std::filesystem::path root_, dir_, source_, count_;

 private:
  std::string prefix_, cache_name_;
  std::optional<TempDir> temp_;
};

}  // namespace aegisrt::testing
