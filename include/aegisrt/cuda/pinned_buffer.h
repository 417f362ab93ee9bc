// PinnedBuffer: owned page-locked host memory (RAII, move-only), the staging
// area that lets host<->device copies run asynchronously on a stream.
#pragma once

#include <cstddef>
#include <span>

#include "aegisrt/core/result.h"

namespace aegisrt::cuda {

class PinnedBuffer {
 public:
  /// `bytes` of zeroed page-locked host memory (0 gives an empty buffer).
  /// CudaError when the driver cannot pin that much.
  static Result<PinnedBuffer> create(std::size_t bytes);

  PinnedBuffer() = default;  // empty
  PinnedBuffer(PinnedBuffer&& other) noexcept;
  PinnedBuffer& operator=(PinnedBuffer&& other) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer();

  [[nodiscard]] void* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::span<std::byte> bytes() const noexcept {
    return {static_cast<std::byte*>(data_), size_};
  }

 private:
  PinnedBuffer(void* data, std::size_t size) noexcept : data_(data), size_(size) {}
  void destroy() noexcept;

  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace aegisrt::cuda
