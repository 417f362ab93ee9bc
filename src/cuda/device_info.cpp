// DeviceInfo queries: device count, properties, UUID and memory.
#include "aegisrt/cuda/device_info.h"

#include <fmt/format.h>

#include "cuda_check.h"

namespace aegisrt::cuda {

namespace {

/// nvidia-smi's form: GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.
std::string format_uuid(const cudaUUID_t& uuid) {
  std::string s = "GPU-";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += fmt::format("{:02x}", static_cast<unsigned>(static_cast<unsigned char>(uuid.bytes[i])));
  }
  return s;
}

}  // namespace

Result<int> device_count() {
  int n = 0;
  if (const auto err = cudaGetDeviceCount(&n); err != cudaSuccess) {
    return detail::cuda_error(err, "cudaGetDeviceCount");
  }
  if (n <= 0) return Error(ErrorCode::CudaError, "the CUDA driver reports no devices");
  return n;
}

Result<MemoryInfo> memory_info(int device) {
  AEGIS_TRY(detail::check_device(device, "memory_info"));
  detail::DeviceGuard guard(device);
  AEGIS_TRY(guard.status());
  MemoryInfo m;
  AEGIS_CUDA_TRY(cudaMemGetInfo(&m.free, &m.total));
  return m;
}

Result<DeviceInfo> query_device(int index) {
  AEGIS_TRY(detail::check_device(index, "query_device"));
  cudaDeviceProp prop{};
  AEGIS_CUDA_TRY(cudaGetDeviceProperties(&prop, index));
  DeviceInfo info;
  info.index = index;
  info.name = prop.name;
  info.uuid = format_uuid(prop.uuid);
  info.cc_major = prop.major;
  info.cc_minor = prop.minor;
  info.sm_count = prop.multiProcessorCount;
  info.total_memory = prop.totalGlobalMem;
  AEGIS_ASSIGN_OR_RETURN(const auto mem, memory_info(index));
  info.free_memory = mem.free;
  return info;
}

Result<std::vector<DeviceInfo>> list_devices() {
  AEGIS_ASSIGN_OR_RETURN(const int n, device_count());
  std::vector<DeviceInfo> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    AEGIS_ASSIGN_OR_RETURN(auto info, query_device(i));
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace aegisrt::cuda
