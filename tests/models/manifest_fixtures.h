// Test fixtures for the models layer: a small valid manifest with known line
// numbers, line-editing helpers and a scratch folder that cleans up after itself.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace aegisrt::models::testing {

// Line numbers matter: tests assert them. Keep in step with kLine* below.
inline const char* const kTinyManifest =
    "model:\n"                                                              // 1
    "  name: tiny\n"                                                        // 2
    "  family: test\n"                                                      // 3
    "  variants: [a, b]\n"                                                  // 4
    "  default_variant: a\n"                                                // 5
    "  backends: [onnx, tensorrt]\n"                                        // 6
    "  precisions: [fp32, fp16]\n"                                          // 7
    "source:\n"                                                             // 8
    "  weights: none\n"                                                     // 9
    "  export: none\n"                                                      // 10
    "input:\n"                                                              // 11
    "  type: image\n"                                                       // 12
    "  color_format: rgb\n"                                                 // 13
    "  preprocessing:\n"                                                    // 14
    "    resize: letterbox\n"                                               // 15
    "    size: [64, 96]\n"                                                  // 16
    "    pad_value: 114\n"                                                  // 17
    "    normalize: {scale: 1/255, mean: [0, 0, 0], std: [1, 1, 1]}\n"      // 18
    "    layout: NCHW\n"                                                    // 19
    "output:\n"                                                             // 20
    "  type: detections\n"                                                  // 21
    "  layout: yolo_v8\n"                                                   // 22
    "  fields:\n"                                                           // 23
    "    - {name: output0, dtype: float32, shape: [1, 6, 126]}\n"           // 24
    "  class_names: [cat, dog]\n"                                           // 25
    "postprocessing:\n"                                                     // 26
    "  confidence_threshold: 0.25\n"                                        // 27
    "  nms_iou_threshold: 0.45\n"                                           // 28
    "resources:\n"                                                          // 29
    "  device_memory_mb: {a: 10, b: 20}\n";                                 // 30

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

/// kTinyManifest with 1-based line `n` replaced by `text`.
inline std::string tiny_with_line(int n, const std::string& text) {
  auto lines = split_lines(kTinyManifest);
  lines.at(static_cast<std::size_t>(n - 1)) = text;
  return join_lines(lines);
}

/// kTinyManifest without 1-based line `n`.
inline std::string tiny_without_line(int n) {
  auto lines = split_lines(kTinyManifest);
  lines.erase(lines.begin() + (n - 1));
  return join_lines(lines);
}

/// A fresh folder under the test temp dir, removed at scope exit.
class ScratchDir {
 public:
  ScratchDir() {
    std::random_device rd;
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("aegisrt_models_" + std::to_string(rd()) + "_" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  /// Writes <root>/<model>/manifest.yaml and returns its path.
  std::filesystem::path write_manifest(const std::string& model_folder, const std::string& text) const {
    const auto dir = path_ / model_folder;
    std::filesystem::create_directories(dir);
    const auto file = dir / "manifest.yaml";
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }

 private:
  std::filesystem::path path_;
};

/// kTinyManifest renamed to `name` (for multi-model catalogs).
inline std::string tiny_named(const std::string& name) { return tiny_with_line(2, "  name: " + name); }

}  // namespace aegisrt::models::testing
