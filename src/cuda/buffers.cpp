// DeviceBuffer and PinnedBuffer: RAII over cudaMalloc / cudaMallocHost.
#include <spdlog/spdlog.h>

#include <cstring>
#include <string>
#include <utility>

#include "aegisrt/cuda/cuda_stream.h"
#include "aegisrt/cuda/device_buffer.h"
#include "aegisrt/cuda/pinned_buffer.h"
#include "cuda_check.h"

namespace aegisrt::cuda {

// ------------------------------------------------------------------ DeviceBuffer

Result<DeviceBuffer> DeviceBuffer::create(std::size_t bytes, int device) {
  AEGIS_TRY(detail::check_device(device, "DeviceBuffer::create"));
  if (bytes == 0) return DeviceBuffer(nullptr, 0, device);
  detail::DeviceGuard guard(device);
  AEGIS_TRY(guard.status());
  void* p = nullptr;
  const detail::RelaxedCaptureMode relaxed;  // another thread may be capturing a graph
  if (const auto err = cudaMalloc(&p, bytes); err != cudaSuccess) {
    return detail::cuda_error(err, "cudaMalloc(" + std::to_string(bytes) + " bytes) on device " +
                                       std::to_string(device));
  }
  return DeviceBuffer(p, bytes, device);
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      device_(other.device_) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    destroy();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    device_ = other.device_;
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() { destroy(); }

void DeviceBuffer::destroy() noexcept {
  if (data_ == nullptr) return;
  detail::DeviceGuard guard(device_);
  const detail::RelaxedCaptureMode relaxed;
  if (const auto err = cudaFree(data_); err != cudaSuccess) {
    spdlog::error("aegisrt cuda: cudaFree({} bytes) on device {} failed: {} ({})", size_, device_,
                  cudaGetErrorName(err), cudaGetErrorString(err));
    (void)cudaGetLastError();
  }
  data_ = nullptr;
  size_ = 0;
}

namespace {

Result<void> copy_bytes(void* dst, const void* src, std::size_t n, cudaMemcpyKind kind,
                        const CudaStream* stream, const char* what) {
  if (n == 0) return {};
  // From pageable memory even the async copy is staged by the driver (and the
  // sync one uses the legacy stream): relaxed, see detail::RelaxedCaptureMode.
  const detail::RelaxedCaptureMode relaxed;
  if (stream != nullptr) {
    AEGIS_TRY(detail::check(cudaMemcpyAsync(dst, src, n, kind, stream->native()),
                            std::string("cudaMemcpyAsync (") + what + ")"));
  } else {
    AEGIS_TRY(detail::check(cudaMemcpy(dst, src, n, kind), std::string("cudaMemcpy (") + what + ")"));
  }
  return {};
}

}  // namespace

Result<void> DeviceBuffer::copy_from_host(std::span<const std::byte> src, const CudaStream* stream) {
  if (src.size() > size_) {
    return Error(ErrorCode::InvalidArgument, "DeviceBuffer::copy_from_host: " +
                                                 std::to_string(src.size()) +
                                                 " bytes do not fit a buffer of " +
                                                 std::to_string(size_));
  }
  detail::DeviceGuard guard(device_);
  AEGIS_TRY(guard.status());
  return copy_bytes(data_, src.data(), src.size(), cudaMemcpyHostToDevice, stream, "host to device");
}

Result<void> DeviceBuffer::copy_to_host(std::span<std::byte> dst, const CudaStream* stream) const {
  if (dst.size() > size_) {
    return Error(ErrorCode::InvalidArgument, "DeviceBuffer::copy_to_host: asked for " +
                                                 std::to_string(dst.size()) +
                                                 " bytes from a buffer of " +
                                                 std::to_string(size_));
  }
  detail::DeviceGuard guard(device_);
  AEGIS_TRY(guard.status());
  return copy_bytes(dst.data(), data_, dst.size(), cudaMemcpyDeviceToHost, stream, "device to host");
}

Result<void> DeviceBuffer::fill(unsigned char value, const CudaStream* stream) {
  if (size_ == 0) return {};
  detail::DeviceGuard guard(device_);
  AEGIS_TRY(guard.status());
  if (stream != nullptr) {
    AEGIS_CUDA_TRY(cudaMemsetAsync(data_, value, size_, stream->native()));
  } else {
    const detail::RelaxedCaptureMode relaxed;
    AEGIS_CUDA_TRY(cudaMemset(data_, value, size_));
  }
  return {};
}

// ------------------------------------------------------------------ PinnedBuffer

Result<PinnedBuffer> PinnedBuffer::create(std::size_t bytes) {
  if (bytes == 0) return PinnedBuffer();
  void* p = nullptr;
  const detail::RelaxedCaptureMode relaxed;
  if (const auto err = cudaMallocHost(&p, bytes); err != cudaSuccess) {
    return detail::cuda_error(err, "cudaMallocHost(" + std::to_string(bytes) + " bytes)");
  }
  std::memset(p, 0, bytes);
  return PinnedBuffer(p, bytes);
}

PinnedBuffer::PinnedBuffer(PinnedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& other) noexcept {
  if (this != &other) {
    destroy();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

PinnedBuffer::~PinnedBuffer() { destroy(); }

void PinnedBuffer::destroy() noexcept {
  if (data_ == nullptr) return;
  const detail::RelaxedCaptureMode relaxed;
  if (const auto err = cudaFreeHost(data_); err != cudaSuccess) {
    spdlog::error("aegisrt cuda: cudaFreeHost({} bytes) failed: {} ({})", size_,
                  cudaGetErrorName(err), cudaGetErrorString(err));
    (void)cudaGetLastError();
  }
  data_ = nullptr;
  size_ = 0;
}

}  // namespace aegisrt::cuda
