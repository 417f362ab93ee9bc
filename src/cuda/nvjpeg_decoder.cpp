// NvJpegDecoder with nvJPEG (nvjpeg_decoder.h): one library handle and one
// JPEG state per decoder, nvjpegGetImageInfo before anything is allocated,
// nvjpegDecode to interleaved RGB (greyscale: one Y plane) into a DeviceBuffer
// that is reused across frames and grown on demand, on the caller's stream.
#include "cuda/nvjpeg_decoder.h"

#include <cuda_runtime_api.h>
#include <nvjpeg.h>
#include <spdlog/spdlog.h>

#include <string>
#include <utility>

#include "aegisrt/cuda/cuda_stream.h"
#include "aegisrt/cuda/device_buffer.h"
#include "cuda/cuda_check.h"

namespace aegisrt::cuda {

bool nvjpeg_compiled() noexcept { return true; }

namespace {

std::string_view status_name(nvjpegStatus_t s) noexcept {
  switch (s) {
    case NVJPEG_STATUS_SUCCESS: return "NVJPEG_STATUS_SUCCESS";
    case NVJPEG_STATUS_NOT_INITIALIZED: return "NVJPEG_STATUS_NOT_INITIALIZED";
    case NVJPEG_STATUS_INVALID_PARAMETER: return "NVJPEG_STATUS_INVALID_PARAMETER";
    case NVJPEG_STATUS_BAD_JPEG: return "NVJPEG_STATUS_BAD_JPEG";
    case NVJPEG_STATUS_JPEG_NOT_SUPPORTED: return "NVJPEG_STATUS_JPEG_NOT_SUPPORTED";
    case NVJPEG_STATUS_ALLOCATOR_FAILURE: return "NVJPEG_STATUS_ALLOCATOR_FAILURE";
    case NVJPEG_STATUS_EXECUTION_FAILED: return "NVJPEG_STATUS_EXECUTION_FAILED";
    case NVJPEG_STATUS_ARCH_MISMATCH: return "NVJPEG_STATUS_ARCH_MISMATCH";
    case NVJPEG_STATUS_INTERNAL_ERROR: return "NVJPEG_STATUS_INTERNAL_ERROR";
    case NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED: return "NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED";
    case NVJPEG_STATUS_INCOMPLETE_BITSTREAM: return "NVJPEG_STATUS_INCOMPLETE_BITSTREAM";
  }
  return "nvjpegStatus_t(unknown)";
}

/// The typed error of a failing nvJPEG call on image `name`: the data's fault
/// (Corrupt), a format nvJPEG lacks (Unsupported: the CPU decoder may take
/// it), or the device's (CudaError).
Error nvjpeg_error(nvjpegStatus_t s, std::string_view call, std::string_view name) {
  ErrorCode code = ErrorCode::CudaError;
  switch (s) {
    case NVJPEG_STATUS_BAD_JPEG:
    case NVJPEG_STATUS_INCOMPLETE_BITSTREAM: code = ErrorCode::Corrupt; break;
    case NVJPEG_STATUS_JPEG_NOT_SUPPORTED:
    case NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED: code = ErrorCode::Unsupported; break;
    default: break;
  }
  return Error(code, "nvJPEG " + std::string(call) + " failed on image '" + std::string(name) +
                         "': " + std::string(status_name(s)));
}

}  // namespace

struct NvJpegDecoder::Impl {
  int device = 0;
  std::uint64_t max_pixels = 0;
  nvjpegHandle_t handle = nullptr;
  nvjpegJpegState_t state = nullptr;
  DeviceBuffer out;  // the decoded image, grown on demand
  // JpegBackend::Hardware: the hardware-backend handle, its batched state
  // (batch 1, interleaved RGB) and a parsed stream for the support check.
  nvjpegHandle_t hw_handle = nullptr;
  nvjpegJpegState_t hw_state = nullptr;
  nvjpegJpegStream_t hw_stream = nullptr;
  std::uint64_t hw_images = 0;

  ~Impl() {
    const detail::RelaxedCaptureMode relaxed;  // frees nvJPEG's buffers
    // nvJPEG's objects belong to the device they were made on.
    detail::DeviceGuard guard(device);
    if (hw_stream != nullptr) (void)nvjpegJpegStreamDestroy(hw_stream);
    if (hw_state != nullptr) (void)nvjpegJpegStateDestroy(hw_state);
    if (hw_handle != nullptr) (void)nvjpegDestroy(hw_handle);
    if (state != nullptr) {
      if (const auto s = nvjpegJpegStateDestroy(state); s != NVJPEG_STATUS_SUCCESS) {
        spdlog::warn("nvjpegJpegStateDestroy failed: {}", status_name(s));
      }
    }
    if (handle != nullptr) {
      if (const auto s = nvjpegDestroy(handle); s != NVJPEG_STATUS_SUCCESS) {
        spdlog::warn("nvjpegDestroy failed: {}", status_name(s));
      }
    }
  }

  /// A fresh JPEG state after a failed decode (nvJPEG leaves its state
  /// undefined then), so that the next image decodes normally.
  Result<void> renew_state() {
    if (state != nullptr) (void)nvjpegJpegStateDestroy(state);
    state = nullptr;
    if (const auto s = nvjpegJpegStateCreate(handle, &state); s != NVJPEG_STATUS_SUCCESS) {
      state = nullptr;
      return Error(ErrorCode::CudaError, "nvjpegJpegStateCreate failed: " + std::string(status_name(s)));
    }
    return {};
  }

  /// The hardware state after a failed batched decode, re-created and
  /// re-initialised for a batch of 1.
  Result<void> renew_hw_state() {
    if (hw_state != nullptr) (void)nvjpegJpegStateDestroy(hw_state);
    hw_state = nullptr;
    if (const auto s = nvjpegJpegStateCreate(hw_handle, &hw_state); s != NVJPEG_STATUS_SUCCESS) {
      hw_state = nullptr;
      return Error(ErrorCode::CudaError, "nvjpegJpegStateCreate (hardware) failed: " + std::string(status_name(s)));
    }
    if (const auto s = nvjpegDecodeBatchedInitialize(hw_handle, hw_state, 1, 1, NVJPEG_OUTPUT_RGBI);
        s != NVJPEG_STATUS_SUCCESS) {
      return Error(ErrorCode::CudaError,
                   "nvjpegDecodeBatchedInitialize (hardware, batch 1) failed: " + std::string(status_name(s)));
    }
    return {};
  }

  /// Whether the hardware engine takes this JPEG (a header it parses, a
  /// layout nvjpegDecodeBatchedSupported accepts). Anything else goes to the
  /// default path, which reports bad data with its own typed error.
  bool hardware_takes(const unsigned char* data, std::size_t size) {
    if (hw_handle == nullptr || hw_state == nullptr) return false;
    if (nvjpegJpegStreamParse(hw_handle, data, size, 0, 0, hw_stream) != NVJPEG_STATUS_SUCCESS) return false;
    int unsupported = 1;  // nvJPEG sets 0 when the decoder can take the stream
    return nvjpegDecodeBatchedSupported(hw_handle, hw_stream, &unsupported) == NVJPEG_STATUS_SUCCESS &&
           unsupported == 0;
  }
};

NvJpegDecoder::NvJpegDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NvJpegDecoder::NvJpegDecoder(NvJpegDecoder&&) noexcept = default;
NvJpegDecoder& NvJpegDecoder::operator=(NvJpegDecoder&&) noexcept = default;
NvJpegDecoder::~NvJpegDecoder() = default;

int NvJpegDecoder::device() const noexcept { return impl_ ? impl_->device : -1; }
std::size_t NvJpegDecoder::buffer_bytes() const noexcept { return impl_ ? impl_->out.size() : 0; }

Result<NvJpegDecoder> NvJpegDecoder::create(int device, std::uint64_t max_pixels, JpegBackend backend) {
  AEGIS_TRY(detail::check_device(device, "NvJpegDecoder::create"));
  detail::DeviceGuard guard(device);
  AEGIS_TRY(guard.status());
  const detail::RelaxedCaptureMode relaxed;  // nvJPEG allocates here too
  auto impl = std::make_unique<Impl>();
  impl->device = device;
  impl->max_pixels = max_pixels;
  if (const auto s = nvjpegCreateSimple(&impl->handle); s != NVJPEG_STATUS_SUCCESS) {
    impl->handle = nullptr;
    return Error(ErrorCode::CudaError, "nvjpegCreateSimple on cuda:" + std::to_string(device) +
                                           " failed: " + std::string(status_name(s)));
  }
  if (const auto s = nvjpegJpegStateCreate(impl->handle, &impl->state); s != NVJPEG_STATUS_SUCCESS) {
    impl->state = nullptr;
    return Error(ErrorCode::CudaError, "nvjpegJpegStateCreate on cuda:" + std::to_string(device) +
                                           " failed: " + std::string(status_name(s)));
  }
  if (backend == JpegBackend::Hardware) {
    if (const auto s = nvjpegCreateEx(NVJPEG_BACKEND_HARDWARE, nullptr, nullptr, 0, &impl->hw_handle);
        s != NVJPEG_STATUS_SUCCESS) {
      impl->hw_handle = nullptr;
      return Error(ErrorCode::Unsupported, "no hardware JPEG decoder on cuda:" + std::to_string(device) +
                                               " (nvjpegCreateEx(NVJPEG_BACKEND_HARDWARE): " +
                                               std::string(status_name(s)) +
                                               "; the engine is on A100, A30 and H100/H200-class GPUs)");
    }
    if (const auto s = nvjpegJpegStreamCreate(impl->hw_handle, &impl->hw_stream); s != NVJPEG_STATUS_SUCCESS) {
      impl->hw_stream = nullptr;
      return Error(ErrorCode::CudaError, "nvjpegJpegStreamCreate (hardware) on cuda:" + std::to_string(device) +
                                             " failed: " + std::string(status_name(s)));
    }
    AEGIS_TRY(impl->renew_hw_state());
  }
  return NvJpegDecoder(std::move(impl));
}

std::uint64_t NvJpegDecoder::hardware_images() const noexcept { return impl_ ? impl_->hw_images : 0; }

Result<DeviceImage> NvJpegDecoder::decode(std::span<const std::byte> jpeg, const CudaStream& stream,
                                          std::string_view name) {
  if (!impl_) return Error(ErrorCode::InvalidArgument, "NvJpegDecoder was moved from");
  Impl& m = *impl_;
  const std::string img = "'" + std::string(name) + "'";
  if (!looks_like_jpeg(jpeg)) {
    return Error(ErrorCode::Unsupported, "image " + img + " is not a JPEG (no SOI marker): not for nvJPEG");
  }
  if (!jpeg_ends_with_eoi(jpeg)) {
    return Error(ErrorCode::Unsupported,
                 "JPEG " + img + " does not end with an EOI marker (truncated, or data after the image): "
                 "left to the CPU decoder, which checks every scan");
  }
  if (stream.device() != m.device) {
    return Error(ErrorCode::InvalidArgument, "nvJPEG decode of " + img + ": the stream is on cuda:" +
                                                 std::to_string(stream.device()) + ", the decoder on cuda:" +
                                                 std::to_string(m.device));
  }
  detail::DeviceGuard guard(m.device);
  AEGIS_TRY(guard.status());
  // nvJPEG allocates its device and pinned work buffers with cudaMalloc /
  // cudaMallocHost inside the calls below (detail::RelaxedCaptureMode says why).
  const detail::RelaxedCaptureMode relaxed;
  if (m.state == nullptr) AEGIS_TRY(m.renew_state());

  const auto* data = reinterpret_cast<const unsigned char*>(jpeg.data());
  int components = 0;
  nvjpegChromaSubsampling_t subsampling = NVJPEG_CSS_UNKNOWN;
  int widths[NVJPEG_MAX_COMPONENT] = {};
  int heights[NVJPEG_MAX_COMPONENT] = {};
  if (const auto s = nvjpegGetImageInfo(m.handle, data, jpeg.size(), &components, &subsampling, widths, heights);
      s != NVJPEG_STATUS_SUCCESS) {
    return nvjpeg_error(s, "nvjpegGetImageInfo", name);
  }
  const int w = widths[0];
  const int h = heights[0];
  if (w <= 0 || h <= 0) {
    return Error(ErrorCode::Corrupt, "JPEG " + img + " has no valid dimensions (" + std::to_string(w) + "x" +
                                         std::to_string(h) + ")");
  }
  const auto pixels = static_cast<std::uint64_t>(w) * static_cast<std::uint64_t>(h);
  if (pixels > m.max_pixels) {
    return Error(ErrorCode::Unsupported, "JPEG " + img + " is " + std::to_string(w) + "x" + std::to_string(h) +
                                             ", more than the " + std::to_string(m.max_pixels) +
                                             " pixels allowed");
  }
  int channels = 0;
  nvjpegOutputFormat_t format = NVJPEG_OUTPUT_RGBI;
  if (components == 1 || subsampling == NVJPEG_CSS_GRAY) {
    channels = 1;
    format = NVJPEG_OUTPUT_Y;
  } else if (components == 3 && subsampling != NVJPEG_CSS_UNKNOWN) {
    channels = 3;
  } else {
    return Error(ErrorCode::Unsupported, "JPEG " + img + " has " + std::to_string(components) +
                                             " components (subsampling " + std::to_string(subsampling) +
                                             "): not decoded to RGB by nvJPEG here (CMYK/YCCK go to the CPU)");
  }
  const std::size_t pitch = static_cast<std::size_t>(w) * static_cast<std::size_t>(channels);
  const std::size_t bytes = pitch * static_cast<std::size_t>(h);
  if (bytes > m.out.size()) {
    // Work queued earlier (the previous image's pre-processing) may still read the buffer.
    AEGIS_TRY(stream.synchronize());
    m.out = DeviceBuffer();
    AEGIS_ASSIGN_OR_RETURN(m.out, DeviceBuffer::create(bytes, m.device));
  }
  nvjpegImage_t dst{};
  dst.channel[0] = static_cast<unsigned char*>(m.out.data());
  dst.pitch[0] = pitch;
  // A failed decode: anything it queued finishes before its state is
  // re-created (nvJPEG leaves the state unusable), then the typed error.
  auto failed = [&](nvjpegStatus_t s, const char* call, Result<void> (Impl::*renew)(), const char* what) -> Error {
    Error e = nvjpeg_error(s, call, name);
    (void)stream.synchronize();
    if (auto r = (m.*renew)(); !r.ok()) {
      spdlog::warn("nvJPEG: re-creating the {} after a failed decode: {}", what, r.error().message());
    }
    return e;
  };
  // The engine check parses the stream a second time (nvjpegGetImageInfo's
  // header read above is what every path's checks need): a few microseconds
  // beside the decode's ~350.
  if (channels == 3 && m.hardware_takes(data, jpeg.size())) {
    const unsigned char* const datas[1] = {data};
    const std::size_t lengths[1] = {jpeg.size()};
    if (const auto s = nvjpegDecodeBatched(m.hw_handle, m.hw_state, datas, lengths, &dst, stream.native());
        s != NVJPEG_STATUS_SUCCESS) {
      return failed(s, "nvjpegDecodeBatched (hardware)", &Impl::renew_hw_state, "hardware state");
    }
    ++m.hw_images;
  } else if (const auto s = nvjpegDecode(m.handle, m.state, data, jpeg.size(), format, &dst, stream.native());
             s != NVJPEG_STATUS_SUCCESS) {
    return failed(s, "nvjpegDecode", &Impl::renew_state, "JPEG state");
  }
  DeviceImage out;
  out.view = TensorView(m.out.data(), Shape{h, w, channels}, DType::UInt8, Location::device(m.device));
  out.width = w;
  out.height = h;
  out.channels = channels;
  return out;
}

}  // namespace aegisrt::cuda
