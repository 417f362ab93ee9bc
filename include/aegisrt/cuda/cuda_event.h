// CudaEvent: an owned CUDA event (RAII, move-only) for ordering work between
// streams and for timing it on the device.
#pragma once

#include "aegisrt/core/result.h"
#include "aegisrt/core/types.h"

struct CUevent_st;  // = cudaEvent_t's pointee

namespace aegisrt::cuda {

class CudaStream;

class CudaEvent {
 public:
  /// `timing` = false makes a lighter event that elapsed() refuses.
  static Result<CudaEvent> create(int device = 0, bool timing = true);

  CudaEvent(CudaEvent&& other) noexcept;
  CudaEvent& operator=(CudaEvent&& other) noexcept;
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  ~CudaEvent();

  [[nodiscard]] CUevent_st* native() const noexcept { return event_; }
  [[nodiscard]] int device() const noexcept { return device_; }
  [[nodiscard]] bool timing() const noexcept { return timing_; }

  /// Captures the work queued on `stream` so far.
  [[nodiscard]] Result<void> record(const CudaStream& stream);
  /// Blocks until the captured work has finished.
  [[nodiscard]] Result<void> synchronize() const;
  /// true when the captured work has finished, without blocking.
  [[nodiscard]] Result<bool> is_complete() const;

  /// Device time between two recorded, completed timing events (resolution
  /// about 0.5 us). InvalidArgument if either was made with timing = false;
  /// CudaError if either has not been recorded or has not completed.
  [[nodiscard]] static Result<Duration> elapsed(const CudaEvent& start, const CudaEvent& end);

 private:
  CudaEvent(CUevent_st* event, int device, bool timing) noexcept
      : event_(event), device_(device), timing_(timing) {}
  void destroy() noexcept;

  CUevent_st* event_ = nullptr;
  int device_ = 0;
  bool timing_ = true;
};

}  // namespace aegisrt::cuda
