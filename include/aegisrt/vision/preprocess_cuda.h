// Fused CUDA pre-processing: one kernel does resize (bilinear, same
// half-pixel convention as the CPU path) + letterbox padding + colour order +
// normalisation + layout, from a uint8 HWC image (host or device) into a
// float32 device tensor. Built only with the CUDA toolkit; otherwise create()
// returns Unsupported. No CUDA type appears in this header.
#pragma once

#include <cstdint>
#include <memory>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/vision/preprocess.h"

namespace aegisrt::cuda {
class CudaStream;
}

namespace aegisrt::vision {

/// True when this build compiled the CUDA kernel (a device may still be absent).
bool cuda_preprocess_compiled() noexcept;

/// Per-instance state: the device, a private stream and a reusable staging
/// buffer for host images. Move-only; not thread-safe (one per thread).
class CudaPreprocessor {
 public:
  /// Unsupported without CUDA support compiled in; CudaError when `device`
  /// is not usable (no driver / no GPU).
  static Result<CudaPreprocessor> create(int device = 0);

  CudaPreprocessor(CudaPreprocessor&&) noexcept;
  CudaPreprocessor& operator=(CudaPreprocessor&&) noexcept;
  CudaPreprocessor(const CudaPreprocessor&) = delete;
  CudaPreprocessor& operator=(const CudaPreprocessor&) = delete;
  ~CudaPreprocessor();

  [[nodiscard]] int device() const noexcept;
  /// The stream run_into() queues on (null when moved from, or without CUDA),
  /// so a caller can queue dependent work (an execute) after the kernel.
  [[nodiscard]] cuda::CudaStream* stream() const noexcept;

  /// Host image -> new device float32 tensor of config.tensor_shape(1).
  /// Synchronous: the tensor is ready when this returns.
  Result<PreprocessResult> run(const Image& image, const PreprocessConfig& config);

  /// uint8 [H, W, C] view (C = 1, 3 or 4; host or device on this device,
  /// contiguous) -> slot `batch_index` of `dst`, a device float32 tensor of
  /// shape config.tensor_shape(N). Asynchronous on this preprocessor's stream
  /// when `synchronize` is false (call synchronize() before reading dst; a
  /// host source is copied to the staging buffer first, so it may be reused
  /// as soon as this returns).
  Result<LetterboxTransform> run_into(const TensorView& src, const PreprocessConfig& config,
                                      Tensor& dst, std::int64_t batch_index = 0,
                                      bool synchronize = true);

  /// Waits for all work queued by this preprocessor.
  Result<void> synchronize();

  /// Whether the last run_into() read the source without resampling: the
  /// source already had the resized size (e.g. 640x480 letterboxed into
  /// 640x640), every tap was the identity and the kernel skipped the tap
  /// tables. The output is the same either way; tests and benchmarks use it
  /// to know which kernel they measured.
  [[nodiscard]] bool last_run_was_identity() const noexcept;

 private:
  struct Impl;
  explicit CudaPreprocessor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aegisrt::vision
