// CudaPreprocessor: validation, staging of host images, and the launch of
// the fused kernel (preprocess_kernel.cu) on the preprocessor's stream. Every
// CUDA resource and error goes through the cuda layer (CudaStream,
// DeviceBuffer, allocate_device_tensor, DeviceGuard, AEGIS_CUDA_TRY); this file
// calls no CUDA runtime function itself.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "aegisrt/cuda/cuda_stream.h"
#include "aegisrt/cuda/device_buffer.h"
#include "aegisrt/cuda/tensor_ops.h"
#include "aegisrt/vision/preprocess_cuda.h"
#include "cuda/cuda_check.h"
#include "vision/preprocess_kernel.h"
#include "vision/preprocess_plan.h"

namespace aegisrt::vision {

struct CudaPreprocessor::Impl {
  Impl(int d, cuda::CudaStream s) : device(d), stream(std::move(s)) {}
  // Members are destroyed in reverse order: the stream (whose destructor lets
  // queued work finish) outlives the staging buffer that work may read.
  int device = 0;
  cuda::CudaStream stream;
  cuda::DeviceBuffer staging;  // device copy of host sources, grown on demand
  // Sampling-tap tables of the last geometry (detail::make_tap on the host,
  // uploaded once and reused while source and resized sizes repeat): x then
  // y, each as i0[], i1[], w[] (w as float bits). host_taps backs the queued
  // upload, so it is only rewritten after a stream synchronize.
  cuda::DeviceBuffer taps;
  std::vector<std::int32_t> host_taps;
  struct TapKey {
    int src_w = -1, src_h = -1, resized_w = -1, resized_h = -1;
    bool operator==(const TapKey&) const = default;
  } taps_key;
  bool taps_identity = false;  // every tap of taps_key is i0 = index, weight 0
  bool last_identity = false;  // the last run_into used the identity kernel

  ~Impl() { (void)stream.synchronize(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
};

bool cuda_preprocess_compiled() noexcept { return true; }

CudaPreprocessor::CudaPreprocessor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CudaPreprocessor::CudaPreprocessor(CudaPreprocessor&&) noexcept = default;
CudaPreprocessor& CudaPreprocessor::operator=(CudaPreprocessor&&) noexcept = default;
CudaPreprocessor::~CudaPreprocessor() = default;

int CudaPreprocessor::device() const noexcept { return impl_ ? impl_->device : -1; }
cuda::CudaStream* CudaPreprocessor::stream() const noexcept { return impl_ ? &impl_->stream : nullptr; }

Result<CudaPreprocessor> CudaPreprocessor::create(int device) {
  // CudaError when there is no usable device; InvalidArgument for an index
  // outside [0, device_count()).
  AEGIS_ASSIGN_OR_RETURN(cuda::CudaStream stream, cuda::CudaStream::create(device));
  return CudaPreprocessor(std::make_unique<Impl>(device, std::move(stream)));
}

bool CudaPreprocessor::last_run_was_identity() const noexcept { return impl_ && impl_->last_identity; }

Result<void> CudaPreprocessor::synchronize() {
  if (!impl_) return Error(ErrorCode::InvalidArgument, "CudaPreprocessor was moved from");
  return impl_->stream.synchronize();
}

namespace {

/// run_into()'s arguments: a uint8 [H, W, C] contiguous source on the host or
/// this device, a float32 destination of the config's shape on this device,
/// a batch index inside it.
Result<void> check_run_into(const TensorView& src, const PreprocessConfig& config, const Tensor& dst,
                            std::int64_t batch_index, int device) {
  AEGIS_TRY(src.validate("pre-processing source image"));
  if (src.dtype() != DType::UInt8 || src.rank() != 3 ||
      (src.shape()[2] != 1 && src.shape()[2] != 3 && src.shape()[2] != 4)) {
    return Error(ErrorCode::InvalidArgument,
                 "pre-processing source must be uint8 [H, W, C] with C = 1, 3 or 4, got " +
                     std::string(dtype_name(src.dtype())) + " " + shape_to_string(src.shape()));
  }
  if (!src.is_contiguous()) {
    return Error(ErrorCode::InvalidArgument, "pre-processing source image must be contiguous");
  }
  if (src.location().is_device() && src.location().device_id != device) {
    return Error(ErrorCode::InvalidArgument,
                 "pre-processing source is on " + to_string(src.location()) +
                     " but this preprocessor runs on cuda:" + std::to_string(device));
  }
  const Shape want = config.tensor_shape(dst.shape().empty() ? 1 : dst.shape()[0]);
  if (dst.empty() || !dst.location().is_device() || dst.location().device_id != device ||
      dst.dtype() != DType::Float32 || dst.shape() != want) {
    return Error(ErrorCode::InvalidArgument,
                 "pre-processing destination must be a float32 tensor of shape [N, " +
                     shape_to_string(std::span<const std::int64_t>(want).subspan(1)) + "] on cuda:" +
                     std::to_string(device) + ", got " + std::string(dtype_name(dst.dtype())) +
                     " " + shape_to_string(dst.shape()) + " on " + to_string(dst.location()));
  }
  if (batch_index < 0 || batch_index >= want[0]) {
    return Error(ErrorCode::InvalidArgument, "batch index " + std::to_string(batch_index) +
                                                 " out of range for destination " +
                                                 shape_to_string(dst.shape()));
  }
  return {};
}

/// Appends the taps of `out` resized pixels from `in` source pixels to
/// `words` as i0[], i1[], w[]: the CPU path's detail::make_tap() with the
/// CPU path's scale (preprocess.cpp run_image), so both sample alike.
/// Returns whether every tap is the identity (i0 = index, weight +0.0f).
bool append_taps(std::vector<std::int32_t>& words, int in, int out) {
  const double inv = static_cast<double>(in) / out;
  const std::size_t base = words.size();
  const auto n = static_cast<std::size_t>(out);
  words.resize(base + 3 * n);
  bool identity = in == out;
  for (std::size_t d = 0; d < n; ++d) {
    const detail::Tap t = detail::make_tap(static_cast<int>(d), inv, in);
    words[base + d] = t.i0;
    words[base + n + d] = t.i1;
    words[base + 2 * n + d] = std::bit_cast<std::int32_t>(t.w);
    identity = identity && t.i0 == static_cast<int>(d) && std::bit_cast<std::uint32_t>(t.w) == 0u;
  }
  return identity;
}

}  // namespace

Result<LetterboxTransform> CudaPreprocessor::run_into(const TensorView& src,
                                                      const PreprocessConfig& config, Tensor& dst,
                                                      std::int64_t batch_index, bool synchronize) {
  if (!impl_) return Error(ErrorCode::InvalidArgument, "CudaPreprocessor was moved from");
  if (config.interpolation != Interpolation::Bilinear) {
    return Error(ErrorCode::Unsupported,
                 "the CUDA pre-processing kernel resizes bilinearly only; bicubic (Pillow) runs on the CPU "
                 "(vision::preprocess)");
  }
  if (config.border != BorderMode::None || config.align_corners) {
    return Error(ErrorCode::Unsupported,
                 "the CUDA pre-processing kernel has no source border (ZoeDepth's reflect padding) and no "
                 "align_corners resize; those run on the CPU (vision::preprocess)",
                 "preprocess.border/align_corners");
  }
  AEGIS_TRY(check_run_into(src, config, dst, batch_index, impl_->device));
  const int h = static_cast<int>(src.shape()[0]);
  const int w = static_cast<int>(src.shape()[1]);
  const int c = static_cast<int>(src.shape()[2]);
  AEGIS_ASSIGN_OR_RETURN(const LetterboxTransform t, compute_transform(w, h, config));

  cuda::detail::DeviceGuard guard(impl_->device);
  AEGIS_TRY(guard.status());
  const std::uint8_t* src_dev = src.data_as<std::uint8_t>();
  if (src.location().is_host()) {
    const std::size_t bytes = src.byte_size();
    if (bytes > impl_->staging.size()) {
      // Work queued earlier may still read the old buffer.
      AEGIS_TRY(impl_->stream.synchronize());
      impl_->staging = cuda::DeviceBuffer();
      AEGIS_ASSIGN_OR_RETURN(impl_->staging, cuda::DeviceBuffer::create(bytes, impl_->device));
    }
    // Pageable source: the copy is queued on the stream and has taken the
    // host bytes when the call returns.
    AEGIS_TRY(impl_->staging.copy_from_host(
        std::span<const std::byte>(static_cast<const std::byte*>(src.data()), bytes), &impl_->stream));
    src_dev = static_cast<const std::uint8_t*>(impl_->staging.data());
  }

  const Impl::TapKey key{w, h, t.resized_width, t.resized_height};
  if (!(key == impl_->taps_key)) {
    impl_->taps_key = {};
    impl_->host_taps.clear();
    const bool x_identity = append_taps(impl_->host_taps, w, t.resized_width);
    const bool y_identity = append_taps(impl_->host_taps, h, t.resized_height);
    impl_->taps_identity = x_identity && y_identity;
    // The identity kernel reads no table: nothing to upload, nothing to wait for.
    if (!impl_->taps_identity) {
      // Work queued earlier may still read the device table (kernels); the
      // host table's previous upload took its bytes when it returned.
      AEGIS_TRY(impl_->stream.synchronize());
      const std::size_t bytes = impl_->host_taps.size() * sizeof(std::int32_t);
      if (bytes > impl_->taps.size()) {
        impl_->taps = cuda::DeviceBuffer();
        AEGIS_ASSIGN_OR_RETURN(impl_->taps, cuda::DeviceBuffer::create(bytes, impl_->device));
      }
      AEGIS_TRY(impl_->taps.copy_from_host(
          std::span<const std::byte>(reinterpret_cast<const std::byte*>(impl_->host_taps.data()), bytes),
          &impl_->stream));
    }
    impl_->taps_key = key;
  }
  const std::size_t rw = static_cast<std::size_t>(t.resized_width);
  const std::size_t rh = static_cast<std::size_t>(t.resized_height);

  const detail::NormPlan plan = detail::make_norm_plan(config, c);
  detail::PreprocessKernelParams p{};
  p.src = src_dev;
  p.src_w = w;
  p.src_h = h;
  p.src_stride = static_cast<long long>(w) * c;
  p.dst = static_cast<float*>(dst.data()) +
          static_cast<std::size_t>(batch_index) * config.elements_per_image();
  p.dst_w = config.width;
  p.dst_h = config.height;
  p.resized_w = t.resized_width;
  p.resized_h = t.resized_height;
  p.pad_x = t.pad_x;
  p.pad_y = t.pad_y;
  if (!impl_->taps_identity) {
    // Float weights read as float: the table was written from float bits.
    const auto* words = static_cast<const std::int32_t*>(impl_->taps.data());
    const auto* fwords = reinterpret_cast<const float*>(words);
    p.x_taps = {words, words + rw, fwords + 2 * rw};
    p.y_taps = {words + 3 * rw, words + 3 * rw + rh, fwords + 3 * rw + 2 * rh};
  }
  for (int k = 0; k < 3; ++k) {
    p.mul[k] = plan.mul[static_cast<std::size_t>(k)];
    p.add[k] = plan.add[static_cast<std::size_t>(k)];
    p.pad[k] = plan.pad[static_cast<std::size_t>(k)];
    p.ch[k] = plan.src_channel[static_cast<std::size_t>(k)];
  }
  p.identity = impl_->taps_identity;
  impl_->last_identity = p.identity;
  const bool nchw = config.layout == Layout::NCHW;
  AEGIS_CUDA_TRY(detail::launch_preprocess_kernel(p, c, nchw, impl_->stream.native()));
  if (synchronize) AEGIS_TRY(impl_->stream.synchronize());
  return t;
}

Result<PreprocessResult> CudaPreprocessor::run(const Image& image, const PreprocessConfig& config) {
  if (!impl_) return Error(ErrorCode::InvalidArgument, "CudaPreprocessor was moved from");
  if (image.empty()) return Error(ErrorCode::InvalidArgument, "cannot pre-process an empty image");
  AEGIS_TRY(config.validate());
  AEGIS_ASSIGN_OR_RETURN(Tensor tensor,
                         cuda::allocate_device_tensor(config.tensor_shape(1), DType::Float32, impl_->device, "input"));
  AEGIS_ASSIGN_OR_RETURN(const LetterboxTransform t,
                         run_into(image.view(), config, tensor, 0, /*synchronize=*/true));
  PreprocessResult result;
  result.tensor = std::move(tensor);
  result.transforms.push_back(t);
  return result;
}

}  // namespace aegisrt::vision
