// Private to src/cuda/: turning cudaError_t into Result, validating device
// indices, and a guard that makes a device current for one scope.
#pragma once

#include <cuda_runtime_api.h>

#include <string_view>

#include "aegisrt/core/result.h"

namespace aegisrt::cuda::detail {

/// CudaError "<call> failed: cudaErrorX (description)". Also clears the
/// runtime's last-error slot so a later, unrelated check does not see it.
Error cuda_error(cudaError_t err, std::string_view call);

inline Result<void> check(cudaError_t err, std::string_view call) {
  if (err == cudaSuccess) return {};
  return cuda_error(err, call);
}

/// ok when 0 <= device < device_count(); InvalidArgument naming `what` otherwise,
/// CudaError when there is no usable device at all.
Result<void> check_device(int device, std::string_view what);

/// Makes `device` current; restores the previous device on destruction.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) noexcept;
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;
  ~DeviceGuard();
  /// cudaSuccess, or why the device could not be made current.
  [[nodiscard]] Result<void> status() const;

 private:
  int previous_ = -1;
  int device_ = 0;
  cudaError_t status_ = cudaSuccess;
  bool restore_ = false;
};

/// While it lives, the calling thread may make the CUDA calls that stream
/// capture counts as "potentially unsafe" (cudaMalloc, cudaFree,
/// cudaMallocHost, cudaFreeHost, synchronous copies and sets, stream and
/// event creation, nvJPEG's own allocations) while ANOTHER thread captures a
/// CUDA graph in cudaStreamCaptureModeGlobal. ONNX Runtime's CUDA provider
/// captures in that mode (cuda_graph=1): without this, one pipeline's first
/// frames (growing its pinned or staging buffers) or a freed device tensor
/// invalidate another pipeline's capture, and ORT's Run fails with
/// CUDNN_STATUS_EXECUTION_FAILED / cudaErrorStreamCaptureInvalidated. The
/// calls wrapped here never touch a capturing stream: they allocate, free or
/// copy on the caller's own (non-blocking) streams, so relaxing them is
/// exactly what cudaThreadExchangeStreamCaptureMode is for. The previous
/// mode comes back on destruction. It costs two thread-local exchanges.
class RelaxedCaptureMode {
 public:
  RelaxedCaptureMode() noexcept : ok_(cudaThreadExchangeStreamCaptureMode(&mode_) == cudaSuccess) {}
  RelaxedCaptureMode(const RelaxedCaptureMode&) = delete;
  RelaxedCaptureMode& operator=(const RelaxedCaptureMode&) = delete;
  ~RelaxedCaptureMode() {
    if (ok_) (void)cudaThreadExchangeStreamCaptureMode(&mode_);
  }

 private:
  cudaStreamCaptureMode mode_ = cudaStreamCaptureModeRelaxed;  // then the thread's previous mode
  bool ok_ = false;
};

}  // namespace aegisrt::cuda::detail

/// Returns the CudaError of a failing CUDA runtime call from the enclosing
/// function; `call` is the text of the call, for the message.
#define AEGIS_CUDA_TRY(call) AEGIS_TRY(::aegisrt::cuda::detail::check((call), #call))
