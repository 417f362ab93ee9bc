// Private: the device-resident pre-processing of a Pipeline (device_path.cpp
// chooses it, device_path_cuda.cpp runs it; device_path_nocuda.cpp when
// AegisRT is built without the CUDA toolkit).
//
// Per image: the decoded image is copied into page-locked host memory, one
// H2D copy and the fused kernel (vision::CudaPreprocessor) run on the
// pipeline's own CUDA stream and write the model input tensor in place in
// device memory; the backend then reads that tensor (no host round trip
// between pre-processing and execute). Backends that enqueue on the request's
// stream (TensorRT) get the stream and follow the kernel without a host wait;
// the others (ORT's CUDA EP and TVM run on their own streams) are started
// after the stream has been synchronised.
//
// Post-processing on the GPU (yolo_v8 detections; gpu_postprocess_refusal):
// the backend leaves the output in device memory and vision::CudaYoloDecoder
// selects the candidates with a kernel on the same stream, downloads them in
// one small copy and finishes (NMS, letterbox inverse) on the host, with
// results identical to vision::decode_yolo.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/backend/runtime_backend.h"
#include "aegisrt/core/result.h"
#include "aegisrt/core/runtime_types.h"
#include "aegisrt/core/tensor.h"
#include "aegisrt/pipeline/pipeline.h"
#include "aegisrt/vision/detection.h"
#include "aegisrt/vision/geometry.h"
#include "aegisrt/vision/image.h"
#include "aegisrt/vision/preprocess.h"

namespace aegisrt::cuda {
class CudaStream;
}

namespace aegisrt::pipeline::detail {

/// Everything the choice of path depends on (no device needed to decide).
struct DevicePathQuery {
  DevicePathMode mode = DevicePathMode::Auto;
  bool kernel_compiled = false;  // vision::cuda_preprocess_compiled()
  vision::PreprocessConfig preprocess;
  DType input_dtype = DType::Float32;  // the bound model input
  std::string runtime_backend;         // registry name ("onnx", "tvm", "tensorrt")
  Device device;                       // where the backend runs
  BackendCapabilities capabilities;    // of the loaded backend
  bool top_down = false;               // a top-down pose pipeline (two models)
  bool sam = false;                    // Segment Anything (encoder + prompt decoder)
  /// > 0: the input size changes per image (input.preprocessing.keep_aspect
  /// on a dynamic-size export, PipelineInfo::keep_aspect_multiple); the
  /// device path has one fixed-size input buffer.
  int keep_aspect_multiple = 0;
  bool generation = false;             // Florence-2 (vision encoder + generation loop)
};

/// Why the device path cannot be used for `q` (the CPU path runs), or an
/// empty string when it can. Independent of a GPU being present: creating the
/// device resources may still fail afterwards (then that error is the reason).
std::string device_path_refusal(const DevicePathQuery& q);

/// Why JPEGs are not decoded on the GPU (then the CPU decoder runs), or an
/// empty string when nvJPEG may decode them: `mode` (PipelineOptions::decode),
/// `device_path_reason` (PipelineInfo::device_path_reason: empty = the device
/// path is active) and whether this build has nvJPEG. Creating the decoder may
/// still fail afterwards (then that error is the reason).
std::string gpu_decode_refusal(DecodeMode mode, std::string_view device_path_reason, bool nvjpeg_compiled);

/// true when the backend enqueues on ExecutionRequest::stream, so the
/// execute can follow the kernel on the same stream without a host wait.
bool backend_uses_request_stream(std::string_view runtime_backend) noexcept;

/// true when the backend's device outputs are safe to read from the device
/// path's stream as soon as execute() returns: TensorRT writes them on that
/// stream (the request's); ONNX Runtime synchronises its CUDA stream at the
/// end of Run (its default, run option disable_synchronize_execution_providers
/// = 0, which AegisRT never changes; the cuda_graph=1 path copies its outputs
/// synchronously). TVM returns them with its stream's work possibly still
/// queued, so it is refused.
bool backend_device_outputs_complete(std::string_view runtime_backend) noexcept;

/// What the choice of GPU post-processing depends on.
struct GpuPostprocessQuery {
  std::string device_path_reason;     // PipelineInfo::device_path_reason (empty: device path on)
  bool decoder_has_gpu_decode = false;  // the output layout's decoder can (yolo_v8 detections)
  std::string output_layout;          // for the message
  std::string runtime_backend;        // registry name
  BackendCapabilities capabilities;   // of the loaded backend
  /// Every model output is float32 (the kernel reads float32; a float16
  /// head would be downloaded in full every frame).
  bool outputs_float32 = false;
  bool kernel_compiled = false;       // vision::cuda_yolo_decode_compiled()
};

/// Why the model output is decoded on the host (downloaded in full by the
/// backend), or an empty string when the GPU decode may run
/// (PipelineInfo::gpu_postprocess). Creating its buffers may still fail
/// afterwards (then that error is the reason).
std::string gpu_postprocess_refusal(const GpuPostprocessQuery& q);

/// The per-pipeline device resources: CUDA stream (inside the
/// preprocessor), pinned staging memory, the device input tensor.
class DevicePath {
 public:
  /// CudaError / Unsupported when the resources cannot be made (no GPU, no
  /// CUDA in this build).
  static Result<std::unique_ptr<DevicePath>> create(const vision::PreprocessConfig& config, int device,
                                                    bool stream_ordered_execute);
  DevicePath(const DevicePath&) = delete;
  DevicePath& operator=(const DevicePath&) = delete;
  ~DevicePath();

  /// Pre-processes a 1-, 3- or 4-channel host image into input(). When
  /// stream_ordered_execute, the work may still be queued on stream() on
  /// return; otherwise it has finished.
  Result<vision::LetterboxTransform> preprocess(const vision::Image& image);
  /// The model input in device memory ([1,3,H,W] or [1,H,W,3] float32).
  [[nodiscard]] TensorView input() const;
  /// The stream to hand to the execute (null unless stream_ordered_execute).
  [[nodiscard]] cuda::CudaStream* execute_stream() const noexcept;
  /// Device bytes of the input tensor, for the context's memory budget (the
  /// preprocessor's upload staging grows with the image and is not counted).
  [[nodiscard]] std::size_t device_bytes() const noexcept;

  /// true when this build has the nvJPEG decoder (cuda/nvjpeg_decoder.h).
  static bool jpeg_decode_compiled() noexcept;
  /// Creates the nvJPEG decoder on this path's device (handle + JPEG state;
  /// Unsupported without nvJPEG, CudaError when it cannot be initialised).
  /// `max_pixels` as vision::DecodeOptions::max_pixels. `hardware`: the
  /// GPU's hardware JPEG engine for the colour JPEGs it takes
  /// (cuda::JpegBackend::Hardware; Unsupported on a GPU without one).
  Result<void> enable_jpeg_decode(std::uint64_t max_pixels, bool hardware = false);
  [[nodiscard]] bool jpeg_decode_enabled() const noexcept;

  /// A JPEG decoded on the GPU and pre-processed into input().
  struct JpegFrame {
    vision::LetterboxTransform transform;
    int width = 0;   // the decoded (original) image size
    int height = 0;
    Duration decode{0};      // nvJPEG decode, finished (stream synchronised)
    Duration preprocess{0};  // the fused kernel (queued only with a stream-ordered execute)
  };
  /// Decodes `jpeg` with nvJPEG into device memory on the pipeline's stream,
  /// then the fused kernel reads that device image (no host RGB). Errors as
  /// cuda::NvJpegDecoder::decode (Unsupported: decode it on the CPU instead;
  /// Corrupt / CudaError name `name`); FailedPrecondition before enable_jpeg_decode().
  Result<JpegFrame> preprocess_jpeg(std::span<const std::byte> jpeg, std::string_view name);

  /// Creates the GPU YOLO decoder (vision::CudaYoloDecoder: a device buffer
  /// and a page-locked download buffer) on this path's device. Unsupported
  /// without CUDA, CudaError when the buffers cannot be made.
  Result<void> enable_yolo_decode();
  [[nodiscard]] bool yolo_decode_enabled() const noexcept;
  /// vision::decode_yolo of image 0 of `output` (a device output of this
  /// execute, complete: see backend_device_outputs_complete), decoded on the
  /// GPU on this path's stream and synchronised on return (identical
  /// detections; falls back to a full download + decode_yolo when the kernel
  /// cannot take the head or more anchors pass than its buffer holds). A host
  /// output is decoded by decode_yolo. FailedPrecondition before enable_yolo_decode().
  Result<std::vector<vision::Detection>> decode_yolo(const TensorView& output, const vision::YoloDecodeConfig& config,
                                                     const vision::LetterboxTransform& transform);

  struct Impl;

 private:
  explicit DevicePath(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aegisrt::pipeline::detail
