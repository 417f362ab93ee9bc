// CudaStream and CudaEvent: RAII over cudaStream_t / cudaEvent_t.
#include "aegisrt/cuda/cuda_stream.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "aegisrt/cuda/cuda_event.h"
#include "cuda_check.h"

namespace aegisrt::cuda {

// ------------------------------------------------------------------ CudaStream

Result<CudaStream> CudaStream::create(int device) {
  AEGIS_TRY(detail::check_device(device, "CudaStream::create"));
  detail::DeviceGuard guard(device);
  AEGIS_TRY(guard.status());
  cudaStream_t s = nullptr;
  const detail::RelaxedCaptureMode relaxed;  // another thread may be capturing a graph
  AEGIS_CUDA_TRY(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return CudaStream(s, device);
}

CudaStream::CudaStream(CudaStream&& other) noexcept
    : stream_(std::exchange(other.stream_, nullptr)), device_(other.device_) {}

CudaStream& CudaStream::operator=(CudaStream&& other) noexcept {
  if (this != &other) {
    destroy();
    stream_ = std::exchange(other.stream_, nullptr);
    device_ = other.device_;
  }
  return *this;
}

CudaStream::~CudaStream() { destroy(); }

void CudaStream::destroy() noexcept {
  if (stream_ == nullptr) return;
  detail::DeviceGuard guard(device_);
  const detail::RelaxedCaptureMode relaxed;
  if (const auto err = cudaStreamDestroy(stream_); err != cudaSuccess) {
    spdlog::warn("aegisrt cuda: cudaStreamDestroy on device {} failed: {} ({})", device_,
                 cudaGetErrorName(err), cudaGetErrorString(err));
    (void)cudaGetLastError();
  }
  stream_ = nullptr;
}

Result<void> CudaStream::synchronize() const {
  if (stream_ == nullptr) return Error(ErrorCode::InvalidArgument, "synchronize() on a moved-from CudaStream");
  const detail::RelaxedCaptureMode relaxed;  // the stream is ours, never capturing
  AEGIS_CUDA_TRY(cudaStreamSynchronize(stream_));
  return {};
}

Result<bool> CudaStream::is_idle() const {
  if (stream_ == nullptr) return Error(ErrorCode::InvalidArgument, "is_idle() on a moved-from CudaStream");
  const detail::RelaxedCaptureMode relaxed;  // the stream is ours, never capturing
  const auto err = cudaStreamQuery(stream_);
  if (err == cudaSuccess) return true;
  if (err == cudaErrorNotReady) {
    (void)cudaGetLastError();
    return false;
  }
  return detail::cuda_error(err, "cudaStreamQuery");
}

Result<void> CudaStream::wait(const CudaEvent& event) const {
  if (stream_ == nullptr || event.native() == nullptr) {
    return Error(ErrorCode::InvalidArgument, "CudaStream::wait with a moved-from stream or event");
  }
  AEGIS_CUDA_TRY(cudaStreamWaitEvent(stream_, event.native(), 0));
  return {};
}

// ------------------------------------------------------------------ CudaEvent

Result<CudaEvent> CudaEvent::create(int device, bool timing) {
  AEGIS_TRY(detail::check_device(device, "CudaEvent::create"));
  detail::DeviceGuard guard(device);
  AEGIS_TRY(guard.status());
  cudaEvent_t e = nullptr;
  const detail::RelaxedCaptureMode relaxed;
  AEGIS_CUDA_TRY(cudaEventCreateWithFlags(&e, timing ? cudaEventDefault : cudaEventDisableTiming));
  return CudaEvent(e, device, timing);
}

CudaEvent::CudaEvent(CudaEvent&& other) noexcept
    : event_(std::exchange(other.event_, nullptr)), device_(other.device_), timing_(other.timing_) {}

CudaEvent& CudaEvent::operator=(CudaEvent&& other) noexcept {
  if (this != &other) {
    destroy();
    event_ = std::exchange(other.event_, nullptr);
    device_ = other.device_;
    timing_ = other.timing_;
  }
  return *this;
}

CudaEvent::~CudaEvent() { destroy(); }

void CudaEvent::destroy() noexcept {
  if (event_ == nullptr) return;
  detail::DeviceGuard guard(device_);
  const detail::RelaxedCaptureMode relaxed;
  if (const auto err = cudaEventDestroy(event_); err != cudaSuccess) {
    spdlog::warn("aegisrt cuda: cudaEventDestroy on device {} failed: {} ({})", device_,
                 cudaGetErrorName(err), cudaGetErrorString(err));
    (void)cudaGetLastError();
  }
  event_ = nullptr;
}

Result<void> CudaEvent::record(const CudaStream& stream) {
  if (event_ == nullptr || stream.native() == nullptr) {
    return Error(ErrorCode::InvalidArgument, "CudaEvent::record with a moved-from event or stream");
  }
  AEGIS_CUDA_TRY(cudaEventRecord(event_, stream.native()));
  return {};
}

Result<void> CudaEvent::synchronize() const {
  if (event_ == nullptr) return Error(ErrorCode::InvalidArgument, "synchronize() on a moved-from CudaEvent");
  const detail::RelaxedCaptureMode relaxed;
  AEGIS_CUDA_TRY(cudaEventSynchronize(event_));
  return {};
}

Result<bool> CudaEvent::is_complete() const {
  if (event_ == nullptr) return Error(ErrorCode::InvalidArgument, "is_complete() on a moved-from CudaEvent");
  const detail::RelaxedCaptureMode relaxed;  // the event is ours, never recorded in a capture
  const auto err = cudaEventQuery(event_);
  if (err == cudaSuccess) return true;
  if (err == cudaErrorNotReady) {
    (void)cudaGetLastError();
    return false;
  }
  return detail::cuda_error(err, "cudaEventQuery");
}

Result<Duration> CudaEvent::elapsed(const CudaEvent& start, const CudaEvent& end) {
  if (start.event_ == nullptr || end.event_ == nullptr) {
    return Error(ErrorCode::InvalidArgument, "CudaEvent::elapsed with a moved-from event");
  }
  if (!start.timing_ || !end.timing_) {
    return Error(ErrorCode::InvalidArgument,
                 "CudaEvent::elapsed needs events created with timing = true");
  }
  float ms = 0.f;
  AEGIS_CUDA_TRY(cudaEventElapsedTime(&ms, start.event_, end.event_));
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(ms));
}

}  // namespace aegisrt::cuda
