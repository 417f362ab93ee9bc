// Which path a Pipeline pre-processes on (device_path.h), and the hook that
// attaches the device path at create() / create_instance().
#include "pipeline/device_path.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

#include "aegisrt/backend/backend_vocabulary.h"
#include "aegisrt/vision/preprocess_cuda.h"
#include "pipeline/decoders/decoder.h"
#include "vision/yolo_decode_cuda.h"

namespace aegisrt::pipeline {

std::string_view to_string(DevicePathMode m) noexcept {
  switch (m) {
    case DevicePathMode::Auto: return "auto";
    case DevicePathMode::Off: return "off";
    case DevicePathMode::Require: return "require";
  }
  return "auto";
}

Result<DevicePathMode> parse_device_path_mode(std::string_view s) {
  if (s == "auto") return DevicePathMode::Auto;
  if (s == "off") return DevicePathMode::Off;
  if (s == "require") return DevicePathMode::Require;
  return Error(ErrorCode::InvalidArgument,
               "device path '" + std::string(s) + "' is not one of auto, off, require");
}

std::string_view to_string(DecodeMode m) noexcept {
  switch (m) {
    case DecodeMode::Auto: return "auto";
    case DecodeMode::Cpu: return "cpu";
    case DecodeMode::Gpu: return "gpu";
    case DecodeMode::GpuHardware: return "gpu-hw";
  }
  return "auto";
}

Result<DecodeMode> parse_decode_mode(std::string_view s) {
  if (s == "auto") return DecodeMode::Auto;
  if (s == "cpu") return DecodeMode::Cpu;
  if (s == "gpu") return DecodeMode::Gpu;
  if (s == "gpu-hw") return DecodeMode::GpuHardware;
  return Error(ErrorCode::InvalidArgument, "decode '" + std::string(s) + "' is not one of auto, cpu, gpu, gpu-hw");
}

namespace detail {

std::string gpu_decode_refusal(DecodeMode mode, std::string_view device_path_reason, bool nvjpeg_compiled) {
  if (mode == DecodeMode::Cpu) return "CPU decode asked for (PipelineOptions::decode = cpu)";
  if (!device_path_reason.empty()) {
    return "GPU decode needs the device path, which is off: " + std::string(device_path_reason);
  }
  if (!nvjpeg_compiled) {
    return "AegisRT was built without nvJPEG (scripts/deps/45-nvjpeg.sh, AEGISRT_WITH_NVJPEG)";
  }
  return {};
}

bool backend_uses_request_stream(std::string_view runtime_backend) noexcept {
  // TensorRT enqueues on ExecutionRequest::stream; ONNX Runtime's CUDA EP and
  // TVM run on streams of their own and ignore it.
  return runtime_backend == "tensorrt";
}

bool backend_device_outputs_complete(std::string_view runtime_backend) noexcept {
  return runtime_backend == "tensorrt" || runtime_backend == "onnx";
}

std::string gpu_postprocess_refusal(const GpuPostprocessQuery& q) {
  if (!q.device_path_reason.empty()) {
    return "post-processing on the GPU needs the device path, which is off: " + q.device_path_reason;
  }
  if (!q.decoder_has_gpu_decode) {
    return "output layout '" + q.output_layout + "' decodes on the host (the GPU decode covers yolo_v8 detections)";
  }
  if (!q.capabilities.device_outputs) {
    return "backend '" + q.runtime_backend + "' as loaded returns no device outputs";
  }
  if (!backend_device_outputs_complete(q.runtime_backend)) {
    return "backend '" + q.runtime_backend +
           "' may return device outputs before its stream has written them (the GPU decode reads them after "
           "ONNX Runtime, which synchronises its stream, and TensorRT, which runs on the pipeline's stream)";
  }
  if (!q.outputs_float32) return "the model's outputs are not all float32 (the decode kernel reads float32)";
  if (!q.kernel_compiled) return "AegisRT was built without the CUDA toolkit (no decode kernel)";
  return {};
}

std::string device_path_refusal(const DevicePathQuery& q) {
  if (q.mode == DevicePathMode::Off) return "device path switched off (PipelineOptions::device_path = off)";
  if (q.top_down) return "top-down pose (detector + pose model, crops per person) pre-processes on the CPU";
  if (q.sam) return "Segment Anything (image encoder + prompt decoder) pre-processes on the CPU";
  if (q.generation) return "Florence-2 (vision encoder + generation loop) pre-processes on the CPU";
  if (!q.capabilities.device_inputs) {
    return "backend '" + q.runtime_backend + "' as loaded takes no device inputs (it runs on " +
           to_string(q.device) + ")";
  }
  if (!q.kernel_compiled) return "AegisRT was built without the CUDA toolkit (no pre-processing kernel)";
  if (q.keep_aspect_multiple > 0) {
    return "dynamic input size: the input keeps each image's aspect (input.preprocessing.keep_aspect, a "
           "multiple of " + std::to_string(q.keep_aspect_multiple) +
           "); the device path has one fixed-size input buffer";
  }
  const vision::PreprocessConfig& c = q.preprocess;
  if (c.interpolation != vision::Interpolation::Bilinear) {
    return "the CUDA pre-processing kernel resizes bilinearly only; this variant resizes bicubically "
           "(Pillow)";
  }
  if (c.border != vision::BorderMode::None) {
    return "the CUDA pre-processing kernel has no source border (reflect padding)";
  }
  if (c.align_corners) return "the CUDA pre-processing kernel has no align_corners resize";
  if (q.input_dtype != DType::Float32) {
    return "the CUDA pre-processing kernel writes float32; the model input is " +
           std::string(dtype_name(q.input_dtype));
  }
  return {};
}

}  // namespace detail

Result<void> Pipeline::attach_device_path() {
  if (decoder_) decoder_->set_device_decode(nullptr);  // it must not keep the path replaced here
  device_.reset();
  info_.device_path = false;
  detail::DevicePathQuery q;
  q.mode = options_.device_path;
  q.kernel_compiled = vision::cuda_preprocess_compiled();
  q.preprocess = info_.preprocess;
  q.input_dtype = input_dtype_;
  q.runtime_backend = info_.runtime_backend;
  q.capabilities = context_->backend().capabilities();
  q.top_down = top_down_ != nullptr;
  q.sam = sam_ != nullptr;
  q.keep_aspect_multiple = info_.keep_aspect_multiple;
  q.generation = florence_ != nullptr;
  // The device the backend was loaded on (Pipeline::load_model: the
  // vocabulary name's device); a CPU binding whose backend options chose a
  // CUDA provider runs on device 0.
  int device = 0;
  if (auto b = models::bind_backend(info_.backend); b.ok() && b->device.kind == DeviceKind::CUDA) {
    q.device = b->device;
    device = b->device.index;
  } else {
    q.device = Device::cpu();
  }
  std::string reason = detail::device_path_refusal(q);
  if (reason.empty()) {
    auto made = detail::DevicePath::create(info_.preprocess, device,
                                           detail::backend_uses_request_stream(info_.runtime_backend));
    if (made.ok()) {
      // The input tensor and the upload staging count against the context's budget.
      const std::size_t bytes = (*made)->device_bytes();
      if (auto a = context_->allocate_memory(bytes); a.ok()) {
        device_ = std::move(made).value();
        device_bytes_ = bytes;
      } else {
        reason = "the device input buffers (" + std::to_string(bytes) +
                 " bytes) do not fit the context's memory budget: " + a.error().message();
      }
    } else {
      reason = "creating the device pre-processing resources failed: " + made.error().message();
    }
  }
  if (device_) {
    info_.device_path = true;
    info_.device_path_reason.clear();
    attach_gpu_postprocess();
    return attach_jpeg_decoder();
  }
  info_.device_path_reason = reason;
  attach_gpu_postprocess();
  if (options_.device_path == DevicePathMode::Require) {
    return Error(ErrorCode::Unsupported, "device path required for " + info_.model + "/" + info_.variant +
                                             " on " + info_.backend + " but unavailable: " + reason);
  }
  if (q.capabilities.device_inputs && options_.device_path == DevicePathMode::Auto) {
    spdlog::info("pipeline: {}/{} pre-processes on the CPU: {}", info_.model, info_.variant, reason);
  }
  return attach_jpeg_decoder();
}

void Pipeline::attach_gpu_postprocess() {
  info_.gpu_postprocess = false;
  detail::GpuPostprocessQuery q;
  q.device_path_reason = info_.device_path_reason;
  q.decoder_has_gpu_decode = decoder_ != nullptr && decoder_->has_device_decode();
  q.output_layout = std::string(models::to_string(variant_.output.layout));
  q.runtime_backend = info_.runtime_backend;
  q.capabilities = context_->backend().capabilities();
  const auto outputs = context_->backend().output_specs();
  q.outputs_float32 = !outputs.empty() && std::all_of(outputs.begin(), outputs.end(), [](const TensorDesc& d) {
    return d.dtype == DType::Float32;
  });
  q.kernel_compiled = vision::cuda_yolo_decode_compiled();
  std::string reason = detail::gpu_postprocess_refusal(q);
  if (reason.empty() && !device_) reason = "no device path";  // (device_path_reason is set whenever device_ is null)
  if (reason.empty()) {
    if (auto made = device_->enable_yolo_decode(); !made.ok()) {
      reason = "creating the GPU decode buffers failed: " + made.error().message();
    }
  }
  if (reason.empty()) {
    decoder_->set_device_decode(device_.get());
    info_.gpu_postprocess = true;
    info_.gpu_postprocess_reason.clear();
    return;
  }
  // Not an error in any mode: the host decode gives the same results.
  info_.gpu_postprocess_reason = reason;
  if (device_ && q.decoder_has_gpu_decode) {
    spdlog::info("pipeline: {}/{} post-processes on the host: {}", info_.model, info_.variant, reason);
  }
}

Result<void> Pipeline::attach_jpeg_decoder() {
  info_.decoder = "cpu";
  info_.decoder_hardware = false;
  const bool hardware = options_.decode == DecodeMode::GpuHardware;
  std::string reason = detail::gpu_decode_refusal(options_.decode, info_.device_path_reason,
                                                  detail::DevicePath::jpeg_decode_compiled());
  if (reason.empty() && !device_) reason = "no device path";  // (device_path_reason is set whenever device_ is null)
  if (reason.empty()) {
    if (auto made = device_->enable_jpeg_decode(vision::kMaxImagePixels, hardware); !made.ok()) {
      reason = "creating the nvJPEG decoder failed: " + made.error().message();
    }
  }
  if (reason.empty()) {
    info_.decoder = "nvjpeg";
    info_.decoder_hardware = hardware;
    info_.decoder_reason.clear();
    return {};
  }
  info_.decoder_reason = reason;
  if (options_.decode == DecodeMode::Gpu || hardware) {
    return Error(ErrorCode::Unsupported, "GPU JPEG decode (decode = " + std::string(to_string(options_.decode)) +
                                             ") required for " + info_.model + "/" +
                                             info_.variant + " on " + info_.backend + " but unavailable: " + reason);
  }
  if (options_.decode == DecodeMode::Auto && device_) {
    spdlog::info("pipeline: {}/{} decodes JPEGs on the CPU: {}", info_.model, info_.variant, reason);
  }
  return {};
}

}  // namespace aegisrt::pipeline
