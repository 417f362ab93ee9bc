// Shared by the OpenVINO tests: model paths, the persistent test cache, a
// .npy reader (the ORT tests' independent one) and load/run short-hands.
#pragma once

#include <filesystem>
#include <string>

#include "aegisrt/backends/openvino/openvino_backend.h"
#include "backends/onnxruntime/ort_test_util.h"  // read_npy(), read_reference(): no ORT dependency

namespace aegisrt::testing::openvino {

inline std::filesystem::path shared_model(const std::string& name) {
  return std::filesystem::path(AEGISRT_TEST_DATA_DIR) / "models" / (name + ".onnx");
}
inline std::filesystem::path own_dir() { return AEGISRT_TEST_OPENVINO_DIR; }
inline std::filesystem::path own_model(const std::string& name) { return own_dir() / (name + ".onnx"); }

/// Compiled blobs live here across test processes.
inline std::filesystem::path test_cache() { return AEGISRT_OPENVINO_TEST_CACHE; }

inline LoadOptions options_for(const std::filesystem::path& model,
                               std::map<std::string, std::string> backend_options = {}) {
  LoadOptions o;
  o.artifact_path = model;
  o.cache_dir = test_cache();
  o.backend_options = std::move(backend_options);
  return o;
}

}  // namespace aegisrt::testing::openvino
