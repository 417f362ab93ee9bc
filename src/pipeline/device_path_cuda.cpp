// DevicePath with the CUDA toolkit: pinned staging of the decoded image, one
// H2D copy and the fused pre-processing kernel on the preprocessor's stream,
// writing a device input tensor that lives as long as the pipeline. Every
// CUDA call goes through the cuda layer (PinnedBuffer, allocate_device_tensor,
// CudaStream, NvJpegDecoder) and vision::CudaPreprocessor. With nvJPEG, a
// JPEG is decoded straight into device memory on the same stream and the
// kernel reads it there (preprocess_jpeg). A yolo_v8 output left in device
// memory is decoded by vision::CudaYoloDecoder on the same stream (decode_yolo).
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "aegisrt/cuda/cuda_stream.h"
#include "aegisrt/cuda/pinned_buffer.h"
#include "aegisrt/cuda/tensor_ops.h"
#include "aegisrt/vision/preprocess_cuda.h"
#include "cuda/nvjpeg_decoder.h"
#include "pipeline/device_path.h"
#include "vision/yolo_decode_cuda.h"

namespace aegisrt::pipeline::detail {

namespace {
Duration since(TimePoint t0) { return std::chrono::duration_cast<Duration>(Clock::now() - t0); }
}  // namespace

struct DevicePath::Impl {
  vision::PreprocessConfig config;
  bool stream_ordered_execute = false;
  // Destroyed in reverse order: the preprocessor (whose stream finishes its
  // queued work) goes before the pinned memory and the tensor that work uses.
  Tensor input;                 // device float32, config.tensor_shape(1)
  cuda::PinnedBuffer pinned;    // the decoded image, page-locked, grown on demand
  std::optional<cuda::NvJpegDecoder> jpeg;  // GPU JPEG decode (enable_jpeg_decode), its output buffer
  std::optional<vision::CudaYoloDecoder> yolo;  // GPU YOLO decode (enable_yolo_decode), its buffers
  std::optional<vision::CudaPreprocessor> pre;

  ~Impl() {
    if (pre) {
      if (auto* s = pre->stream(); s != nullptr) (void)s->synchronize();
    }
  }
};

DevicePath::DevicePath(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DevicePath::~DevicePath() = default;

Result<std::unique_ptr<DevicePath>> DevicePath::create(const vision::PreprocessConfig& config, int device,
                                                       bool stream_ordered_execute) {
  AEGIS_TRY(config.validate());
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->stream_ordered_execute = stream_ordered_execute;
  AEGIS_ASSIGN_OR_RETURN(vision::CudaPreprocessor pre, vision::CudaPreprocessor::create(device));
  impl->pre.emplace(std::move(pre));
  AEGIS_ASSIGN_OR_RETURN(impl->input,
                         cuda::allocate_device_tensor(config.tensor_shape(1), DType::Float32, device, "input"));
  return std::unique_ptr<DevicePath>(new DevicePath(std::move(impl)));
}

Result<vision::LetterboxTransform> DevicePath::preprocess(const vision::Image& image) {
  Impl& m = *impl_;
  if (image.empty()) return Error(ErrorCode::InvalidArgument, "cannot pre-process an empty image");
  // The previous image's upload may still read the pinned buffer (a
  // stream-ordered execute returns once its outputs are on the host, so this
  // is normally already idle).
  AEGIS_TRY(m.pre->synchronize());
  const std::size_t bytes = image.pixels().size();
  if (bytes > m.pinned.size()) {
    m.pinned = cuda::PinnedBuffer();
    AEGIS_ASSIGN_OR_RETURN(m.pinned, cuda::PinnedBuffer::create(bytes));
  }
  std::memcpy(m.pinned.data(), image.pixels().data(), bytes);
  const TensorView src(m.pinned.data(),
                       Shape{image.height(), image.width(), image.channels()}, DType::UInt8, Location::host());
  // From page-locked memory the H2D copy is asynchronous; the kernel follows
  // it on the same stream. Without a stream-ordered execute, wait here so a
  // backend on another stream (ORT's CUDA EP, TVM) sees the finished input.
  AEGIS_ASSIGN_OR_RETURN(const vision::LetterboxTransform t,
                         m.pre->run_into(src, m.config, m.input, 0, !m.stream_ordered_execute));
  return t;
}

TensorView DevicePath::input() const { return impl_->input.view(); }

cuda::CudaStream* DevicePath::execute_stream() const noexcept {
  return impl_->stream_ordered_execute ? impl_->pre->stream() : nullptr;
}

std::size_t DevicePath::device_bytes() const noexcept { return impl_->input.byte_size(); }

bool DevicePath::jpeg_decode_compiled() noexcept { return cuda::nvjpeg_compiled(); }

Result<void> DevicePath::enable_jpeg_decode(std::uint64_t max_pixels, bool hardware) {
  Impl& m = *impl_;
  if (m.jpeg) return {};
  AEGIS_ASSIGN_OR_RETURN(cuda::NvJpegDecoder d,
                         cuda::NvJpegDecoder::create(m.pre->device(), max_pixels,
                                                     hardware ? cuda::JpegBackend::Hardware
                                                              : cuda::JpegBackend::Default));
  m.jpeg.emplace(std::move(d));
  return {};
}

bool DevicePath::jpeg_decode_enabled() const noexcept { return impl_->jpeg.has_value(); }

Result<DevicePath::JpegFrame> DevicePath::preprocess_jpeg(std::span<const std::byte> jpeg, std::string_view name) {
  Impl& m = *impl_;
  if (!m.jpeg) {
    return Error(ErrorCode::FailedPrecondition, "GPU JPEG decoding was not enabled on this device path");
  }
  cuda::CudaStream* stream = m.pre->stream();
  if (stream == nullptr) return Error(ErrorCode::Internal, "the device path's pre-processor has no stream");
  JpegFrame f;
  TimePoint t = Clock::now();
  // The previous image's work may still read the decoder's output buffer and
  // the input tensor (normally already idle, as in preprocess()).
  AEGIS_TRY(m.pre->synchronize());
  AEGIS_ASSIGN_OR_RETURN(const cuda::DeviceImage img, m.jpeg->decode(jpeg, *stream, name));
  // Waiting here keeps the decode time honest (nvJPEG's device phase is
  // queued on the stream); the kernel would wait for it on the stream anyway.
  if (auto done = stream->synchronize(); !done.ok()) {
    return done.error().with_context("nvJPEG decode of '" + std::string(name) + "'");
  }
  f.decode = since(t);
  f.width = img.width;
  f.height = img.height;
  t = Clock::now();
  // The same kernel as after an upload, reading the device image in place.
  AEGIS_ASSIGN_OR_RETURN(f.transform, m.pre->run_into(img.view, m.config, m.input, 0, !m.stream_ordered_execute));
  f.preprocess = since(t);
  return f;
}

Result<void> DevicePath::enable_yolo_decode() {
  Impl& m = *impl_;
  if (m.yolo) return {};
  AEGIS_ASSIGN_OR_RETURN(vision::CudaYoloDecoder d, vision::CudaYoloDecoder::create(m.pre->device()));
  m.yolo.emplace(std::move(d));
  return {};
}

bool DevicePath::yolo_decode_enabled() const noexcept { return impl_->yolo.has_value(); }

Result<std::vector<vision::Detection>> DevicePath::decode_yolo(const TensorView& output,
                                                               const vision::YoloDecodeConfig& config,
                                                               const vision::LetterboxTransform& transform) {
  Impl& m = *impl_;
  if (!m.yolo) {
    return Error(ErrorCode::FailedPrecondition, "GPU YOLO decoding was not enabled on this device path");
  }
  cuda::CudaStream* stream = m.pre->stream();
  if (stream == nullptr) return Error(ErrorCode::Internal, "the device path's pre-processor has no stream");
  // On the pipeline's stream: after a TensorRT execute queued there; ONNX
  // Runtime's outputs are complete when execute() returns
  // (backend_device_outputs_complete).
  return m.yolo->decode(output, config, transform, *stream);
}

}  // namespace aegisrt::pipeline::detail
