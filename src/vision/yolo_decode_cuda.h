// Private: YOLO v8/v11 detection decode on the GPU (issue 16: post-processing
// on the GPU where it pays). For a float32 [B, 4+C, N] head in device memory
// (the yolo_v8 layout; segment / pose heads stay on the host) a kernel
// (yolo_decode_kernel.cu) keeps the anchors whose best class passes the
// confidence threshold, compacted into a small device buffer; one download
// of that buffer (count + candidates, into page-locked memory) on the
// caller's stream, then the host sorts the candidates by anchor and runs the
// same max_candidates / NMS / letterbox-inverse code as vision::decode_yolo
// (yolo_decode.h): the detections are bit-identical to decode_yolo on the
// downloaded output.
//
// When the kernel cannot or should not do it, decode() downloads the whole
// output and calls vision::decode_yolo (same results, same errors): a head
// that is not float32 / channels-first / anchor-contiguous, on another
// device, more than 2^31-1 anchors, or more passing anchors than the buffer
// holds (never truncated). last_path() says which ran.
//
// yolo_decode_cuda.cpp with the CUDA toolkit; yolo_decode_cuda_stub.cpp
// without (create() reports Unsupported).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/vision/detection.h"
#include "aegisrt/vision/geometry.h"

namespace aegisrt::cuda {
class CudaStream;
}

namespace aegisrt::vision {

/// true when this build has the GPU decode kernel.
bool cuda_yolo_decode_compiled() noexcept;

class CudaYoloDecoder {
 public:
  /// Candidates the device buffer holds (28 bytes each; the download is
  /// 16 + 28 * capacity bytes per frame). YOLOv8n at conf 0.25 passes a few
  /// hundred of its 8400 anchors at most.
  static constexpr std::uint32_t kDefaultCapacity = 2048;

  /// Device buffer + page-locked download buffer on `device`. CudaError when
  /// there is no usable device, InvalidArgument for capacity 0, Unsupported
  /// without the CUDA toolkit.
  static Result<CudaYoloDecoder> create(int device, std::uint32_t capacity = kDefaultCapacity);

  CudaYoloDecoder(CudaYoloDecoder&&) noexcept;
  CudaYoloDecoder& operator=(CudaYoloDecoder&&) noexcept;
  CudaYoloDecoder(const CudaYoloDecoder&) = delete;
  CudaYoloDecoder& operator=(const CudaYoloDecoder&) = delete;
  ~CudaYoloDecoder();

  /// How the last decode() ran.
  enum class Path : std::uint8_t {
    Gpu,                // kernel + one small download + host NMS
    HostOutput,         // the output was already in host memory: decode_yolo
    DownloadLayout,     // a head the kernel does not take: full download + decode_yolo
    DownloadOverflow,   // more candidates than the capacity: full download + decode_yolo
  };

  /// decode_yolo(output, config, transform, batch_index) for an output in
  /// this decoder's device memory, the work queued on `stream` after what it
  /// holds (the output must be complete when that work runs: written on
  /// `stream`, or finished before the call). The stream is synchronised
  /// before returning. A host output is decoded by decode_yolo directly.
  Result<std::vector<Detection>> decode(const TensorView& output, const YoloDecodeConfig& config,
                                        const LetterboxTransform& transform, cuda::CudaStream& stream,
                                        std::int64_t batch_index = 0);

  [[nodiscard]] Path last_path() const noexcept { return last_; }
  /// Anchors that passed the threshold in the last kernel run (may exceed the capacity).
  [[nodiscard]] std::uint32_t last_count() const noexcept { return last_count_; }
  [[nodiscard]] std::uint32_t capacity() const noexcept;
  [[nodiscard]] int device() const noexcept;

  struct Impl;

 private:
  explicit CudaYoloDecoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  Path last_ = Path::Gpu;
  std::uint32_t last_count_ = 0;
};

}  // namespace aegisrt::vision
