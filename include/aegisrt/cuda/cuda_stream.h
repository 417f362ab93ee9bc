// CudaStream: an owned, non-blocking CUDA stream (RAII, move-only). The only
// way AegisRT code outside src/cuda/ gets a stream; the CUDA headers stay out
// of our public interface (native() is the runtime's cudaStream_t).
#pragma once

#include "aegisrt/core/result.h"

struct CUstream_st;  // = cudaStream_t's pointee

namespace aegisrt::cuda {

class CudaEvent;

class CudaStream {
 public:
  /// A new non-blocking stream on `device`. InvalidArgument for a device
  /// index that does not exist; CudaError when the runtime refuses.
  static Result<CudaStream> create(int device = 0);

  CudaStream(CudaStream&& other) noexcept;
  CudaStream& operator=(CudaStream&& other) noexcept;
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  /// Destroys the stream (pending work still completes); logs, never throws.
  ~CudaStream();

  /// The cudaStream_t; null only for a moved-from stream.
  [[nodiscard]] CUstream_st* native() const noexcept { return stream_; }
  [[nodiscard]] int device() const noexcept { return device_; }

  /// Blocks until all work queued so far has finished.
  [[nodiscard]] Result<void> synchronize() const;
  /// true when all queued work has finished (cudaStreamQuery), without blocking.
  [[nodiscard]] Result<bool> is_idle() const;
  /// Makes later work on this stream wait for `event` (which may be on another stream).
  [[nodiscard]] Result<void> wait(const CudaEvent& event) const;

 private:
  CudaStream(CUstream_st* stream, int device) noexcept : stream_(stream), device_(device) {}
  void destroy() noexcept;

  CUstream_st* stream_ = nullptr;
  int device_ = 0;
};

}  // namespace aegisrt::cuda
