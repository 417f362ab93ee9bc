// DeviceInfo: what a CUDA device is (name, UUID, compute capability, SMs, memory).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "aegisrt/core/result.h"

namespace aegisrt::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  std::string uuid;  // "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
  int cc_major = 0;
  int cc_minor = 0;
  int sm_count = 0;
  std::size_t total_memory = 0;
  std::size_t free_memory = 0;
  /// "9.0"
  [[nodiscard]] std::string compute_capability() const {
    return std::to_string(cc_major) + "." + std::to_string(cc_minor);
  }
};

/// Number of CUDA devices; CudaError (with the driver's reason) if none usable.
Result<int> device_count();
/// InvalidArgument for an index outside [0, device_count()).
Result<DeviceInfo> query_device(int index);
/// All devices; CudaError when no driver/device is present.
Result<std::vector<DeviceInfo>> list_devices();

/// Free and total memory of one device right now (cudaMemGetInfo).
struct MemoryInfo {
  std::size_t free = 0;
  std::size_t total = 0;
};
Result<MemoryInfo> memory_info(int device);

}  // namespace aegisrt::cuda
