// Shared by the TVM tests: model paths, the persistent test cache and CUDA
// availability.
#pragma once

#include <filesystem>
#include <string>

#include "aegisrt/backends/tvm/tvm_backend.h"

#if defined(AEGISRT_HAVE_CUDA)
#include "aegisrt/cuda/device_info.h"
#endif

namespace aegisrt::testing {

inline std::filesystem::path test_model(const std::string& name) {
  return std::filesystem::path(AEGISRT_TEST_DATA_DIR) / "models" / (name + ".onnx");
}

/// Built libraries live here across test processes (the cache's lock makes
/// concurrent ctest processes build each model once).
inline std::filesystem::path tvm_test_cache() { return AEGISRT_TVM_TEST_CACHE; }

/// Empty when a CUDA device is usable here, else why not.
inline std::string cuda_skip_reason() {
#if defined(AEGISRT_HAVE_CUDA)
  auto n = cuda::device_count();
  if (!n.ok()) return "no CUDA device: " + n.error().message();
  if (*n == 0) return "no CUDA device on this machine";
  return {};
#else
  return "built without the CUDA layer (AEGISRT_WITH_CUDA=OFF)";
#endif
}

}  // namespace aegisrt::testing
