// CudaYoloDecoder: validation, the kernel launch (yolo_decode_kernel.cu) and
// the one download on the caller's stream, then the host part shared with
// vision::decode_yolo (yolo_decode.h). Every CUDA resource and error goes
// through the cuda layer (DeviceBuffer, PinnedBuffer, copy_to_host,
// DeviceGuard, AEGIS_CUDA_TRY); this file calls no CUDA runtime function itself.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <utility>

#include "aegisrt/cuda/cuda_stream.h"
#include "aegisrt/cuda/device_buffer.h"
#include "aegisrt/cuda/pinned_buffer.h"
#include "aegisrt/cuda/tensor_ops.h"
#include "cuda/cuda_check.h"
#include "vision/yolo_decode.h"
#include "vision/yolo_decode_cuda.h"
#include "vision/yolo_decode_kernel.h"

namespace aegisrt::vision {

struct CudaYoloDecoder::Impl {
  int device = 0;
  std::uint32_t capacity = 0;
  cuda::DeviceBuffer buffer;   // YoloCandidateHeader, then `capacity` YoloCandidates
  cuda::PinnedBuffer host;     // the same bytes, downloaded
};

bool cuda_yolo_decode_compiled() noexcept { return true; }

CudaYoloDecoder::CudaYoloDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CudaYoloDecoder::CudaYoloDecoder(CudaYoloDecoder&&) noexcept = default;
CudaYoloDecoder& CudaYoloDecoder::operator=(CudaYoloDecoder&&) noexcept = default;
CudaYoloDecoder::~CudaYoloDecoder() = default;

std::uint32_t CudaYoloDecoder::capacity() const noexcept { return impl_ ? impl_->capacity : 0; }
int CudaYoloDecoder::device() const noexcept { return impl_ ? impl_->device : -1; }

Result<CudaYoloDecoder> CudaYoloDecoder::create(int device, std::uint32_t capacity) {
  if (capacity == 0) return Error(ErrorCode::InvalidArgument, "GPU YOLO decoder capacity must be > 0");
  auto impl = std::make_unique<Impl>();
  impl->device = device;
  impl->capacity = capacity;
  const std::size_t bytes =
      sizeof(detail::YoloCandidateHeader) + static_cast<std::size_t>(capacity) * sizeof(detail::YoloCandidate);
  AEGIS_ASSIGN_OR_RETURN(impl->buffer, cuda::DeviceBuffer::create(bytes, device));
  AEGIS_ASSIGN_OR_RETURN(impl->host, cuda::PinnedBuffer::create(bytes));
  return CudaYoloDecoder(std::move(impl));
}

namespace {

/// The heads the kernel takes: float32 [B, 4+C, N] channels first, anchors
/// contiguous, on `device`, batch index in range, N < 2^31. Anything else
/// (including what decode_yolo rejects) is decoded on the host, which also
/// gives decode_yolo's own errors.
bool kernel_takes(const TensorView& output, const YoloDecodeConfig& config, int device, std::int64_t batch_index) {
  if (!output.location().is_device() || output.location().device_id != device) return false;
  if (output.dtype() != DType::Float32 || output.rank() != 3 || config.layout != YoloLayout::ChannelsFirst) {
    return false;
  }
  if (!output.validate("detection output").ok()) return false;
  const Shape& s = output.shape();
  const Shape& st = output.strides();
  if (s[1] < 5 || st[2] != 1 || st[1] < 0 || st[0] < 0) return false;
  if (s[2] > std::numeric_limits<std::int32_t>::max() || s[1] - 4 > std::numeric_limits<std::int32_t>::max()) {
    return false;
  }
  return batch_index >= 0 && batch_index < s[0];
}

}  // namespace

Result<std::vector<Detection>> CudaYoloDecoder::decode(const TensorView& output, const YoloDecodeConfig& config,
                                                       const LetterboxTransform& transform, cuda::CudaStream& stream,
                                                       std::int64_t batch_index) {
  if (!impl_) return Error(ErrorCode::InvalidArgument, "CudaYoloDecoder was moved from");
  Impl& m = *impl_;
  last_count_ = 0;
  if (output.location().is_host()) {
    last_ = Path::HostOutput;
    return decode_yolo(output, config, transform, batch_index);
  }
  const auto on_host = [&](Path why) -> Result<std::vector<Detection>> {
    last_ = why;
    AEGIS_ASSIGN_OR_RETURN(const Tensor host, cuda::copy_to_host(output, "detection output", &stream));
    return decode_yolo(host.view(), config, transform, batch_index);
  };
  if (!kernel_takes(output, config, m.device, batch_index)) return on_host(Path::DownloadLayout);
  AEGIS_TRY(detail::check_yolo_transform(transform));

  cuda::detail::DeviceGuard guard(m.device);
  AEGIS_TRY(guard.status());
  const Shape& s = output.shape();
  const Shape& st = output.strides();
  auto* header = static_cast<detail::YoloCandidateHeader*>(m.buffer.data());
  detail::YoloDecodeKernelParams p{};
  p.output = output.data_as<float>() + batch_index * st[0];
  p.channel_stride = static_cast<long long>(st[1]);
  p.anchors = static_cast<int>(s[2]);
  p.classes = static_cast<int>(s[1] - 4);
  p.conf_threshold = config.conf_threshold;
  p.header = header;
  p.candidates = reinterpret_cast<detail::YoloCandidate*>(header + 1);
  p.capacity = m.capacity;
  AEGIS_CUDA_TRY(detail::launch_yolo_decode_kernel(p, stream.native()));
  // The one download: count + every slot, into page-locked memory (queued
  // after the kernel on the same stream), then wait for it.
  const std::span<std::byte> dst(static_cast<std::byte*>(m.host.data()), m.buffer.size());
  AEGIS_TRY(m.buffer.copy_to_host(dst, &stream));
  AEGIS_TRY(stream.synchronize());

  auto* got = static_cast<detail::YoloCandidateHeader*>(m.host.data());
  last_count_ = got->count;
  const std::span<detail::YoloCandidate> written(reinterpret_cast<detail::YoloCandidate*>(got + 1), m.capacity);
  auto decoded = detail::decode_yolo_candidates(written, got->count, config, transform);
  if (!decoded) return on_host(Path::DownloadOverflow);
  last_ = Path::Gpu;
  return std::move(*decoded);
}

}  // namespace aegisrt::vision
