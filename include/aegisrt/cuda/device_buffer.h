// DeviceBuffer: an owned block of device memory (RAII, move-only) with checked
// host<->device copies. Device tensors come from tensor_ops.h instead.
#pragma once

#include <cstddef>
#include <span>

#include "aegisrt/core/result.h"

namespace aegisrt::cuda {

class CudaStream;

class DeviceBuffer {
 public:
  /// `bytes` of uninitialised device memory on `device` (0 bytes gives an
  /// empty buffer with a null pointer). CudaError (cudaErrorMemoryAllocation)
  /// when the device cannot provide it; InvalidArgument for a bad device index.
  static Result<DeviceBuffer> create(std::size_t bytes, int device = 0);

  DeviceBuffer() = default;  // empty
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  /// Frees the memory; logs a failure, never throws.
  ~DeviceBuffer();

  [[nodiscard]] void* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] int device() const noexcept { return device_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  /// Copies `src` to the start of the buffer (src.size() <= size(), else
  /// InvalidArgument). Without a stream the copy is complete on return; with
  /// one it is queued there and `src` must stay valid until the stream is
  /// synchronised (use a PinnedBuffer for truly asynchronous copies).
  [[nodiscard]] Result<void> copy_from_host(std::span<const std::byte> src,
                                            const CudaStream* stream = nullptr);
  /// Copies the first dst.size() bytes (<= size()) into `dst`; same stream rules.
  [[nodiscard]] Result<void> copy_to_host(std::span<std::byte> dst,
                                          const CudaStream* stream = nullptr) const;
  /// Sets every byte to `value`; same stream rules.
  [[nodiscard]] Result<void> fill(unsigned char value, const CudaStream* stream = nullptr);

 private:
  DeviceBuffer(void* data, std::size_t size, int device) noexcept
      : data_(data), size_(size), device_(device) {}
  void destroy() noexcept;

  void* data_ = nullptr;
  std::size_t size_ = 0;
  int device_ = 0;
};

}  // namespace aegisrt::cuda
