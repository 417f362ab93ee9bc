// CUDA error conversion, device index checks and the device guard.
#include "cuda_check.h"

#include <spdlog/spdlog.h>

#include <string>

#include "aegisrt/cuda/device_info.h"

namespace aegisrt::cuda::detail {

Error cuda_error(cudaError_t err, std::string_view call) {
  (void)cudaGetLastError();  // clear the non-sticky error so it does not leak into later checks
  const char* name = cudaGetErrorName(err);
  const char* text = cudaGetErrorString(err);
  return Error(ErrorCode::CudaError, std::string(call) + " failed: " +
                                         (name ? name : "cudaError?") + " (" +
                                         (text ? text : "unknown") + ")");
}

Result<void> check_device(int device, std::string_view what) {
  AEGIS_ASSIGN_OR_RETURN(const int n, device_count());
  if (device < 0 || device >= n) {
    return Error(ErrorCode::InvalidArgument,
                 std::string(what) + ": CUDA device " + std::to_string(device) +
                     " does not exist (" + std::to_string(n) + " device(s) present)");
  }
  return {};
}

DeviceGuard::DeviceGuard(int device) noexcept : device_(device) {
  status_ = cudaGetDevice(&previous_);
  if (status_ != cudaSuccess) return;
  if (previous_ == device) return;
  status_ = cudaSetDevice(device);
  restore_ = status_ == cudaSuccess;
}

DeviceGuard::~DeviceGuard() {
  if (!restore_) return;
  if (const auto err = cudaSetDevice(previous_); err != cudaSuccess) {
    spdlog::warn("aegisrt cuda: could not restore current device {}: {}", previous_,
                 cudaGetErrorName(err));
  }
}

Result<void> DeviceGuard::status() const {
  if (status_ == cudaSuccess) return {};
  return cuda_error(status_, "cudaSetDevice(" + std::to_string(device_) + ")");
}

}  // namespace aegisrt::cuda::detail
