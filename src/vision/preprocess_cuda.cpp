// CudaPreprocessor: validation, staging of host images, and the launch of
// the fused kernel (preprocess_kernel.cu) on a private stream.
//
// TODO(cuda layer): switch the private stream and buffers to
// aegisrt::cuda::CudaStream / DeviceBuffer and allocate outputs with
// cuda::allocate_device_tensor once those land; plain runtime calls for now.
#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

#include "aegisrt/vision/preprocess_cuda.h"
#include "vision/preprocess_kernel.h"
#include "vision/preprocess_plan.h"

namespace aegisrt::vision {
namespace {

Error cuda_error(cudaError_t e, const char* what) {
  return Error(ErrorCode::CudaError, std::string(what) + " failed: " + cudaGetErrorName(e) + " (" +
                                         cudaGetErrorString(e) + ")");
}

#define AEGIS_CUDA_CHECK(call)                                   \
  do {                                                           \
    const cudaError_t aegis_cuda_e_ = (call);                    \
    if (aegis_cuda_e_ != cudaSuccess) return cuda_error(aegis_cuda_e_, #call); \
  } while (0)

/// Makes `device` current for a scope and restores the previous device.
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = -1;
    status_ = cudaSetDevice(device);
  }
  ~DeviceScope() {
    if (previous_ >= 0) (void)cudaSetDevice(previous_);
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;
  [[nodiscard]] cudaError_t status() const { return status_; }

 private:
  int previous_ = -1;
  cudaError_t status_ = cudaSuccess;
};

}  // namespace

struct CudaPreprocessor::Impl {
  int device = 0;
  cudaStream_t stream = nullptr;
  void* staging = nullptr;  // device copy of host sources
  std::size_t staging_bytes = 0;

  ~Impl() {
    DeviceScope scope(device);
    if (stream != nullptr) {
      (void)cudaStreamSynchronize(stream);
      (void)cudaStreamDestroy(stream);
    }
    if (staging != nullptr) (void)cudaFree(staging);
  }
};

bool cuda_preprocess_compiled() noexcept { return true; }

CudaPreprocessor::CudaPreprocessor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CudaPreprocessor::CudaPreprocessor(CudaPreprocessor&&) noexcept = default;
CudaPreprocessor& CudaPreprocessor::operator=(CudaPreprocessor&&) noexcept = default;
CudaPreprocessor::~CudaPreprocessor() = default;

int CudaPreprocessor::device() const noexcept { return impl_ ? impl_->device : -1; }

Result<CudaPreprocessor> CudaPreprocessor::create(int device) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) return cuda_error(e, "cudaGetDeviceCount");
  if (device < 0 || device >= count) {
    return Error(ErrorCode::CudaError, "CUDA device " + std::to_string(device) +
                                           " does not exist (" + std::to_string(count) +
                                           " device(s) found)");
  }
  auto impl = std::make_unique<Impl>();
  impl->device = device;
  DeviceScope scope(device);
  AEGIS_CUDA_CHECK(scope.status());
  AEGIS_CUDA_CHECK(cudaStreamCreateWithFlags(&impl->stream, cudaStreamNonBlocking));
  return CudaPreprocessor(std::move(impl));
}

Result<void> CudaPreprocessor::synchronize() {
  if (!impl_) return Error(ErrorCode::InvalidArgument, "CudaPreprocessor was moved from");
  DeviceScope scope(impl_->device);
  AEGIS_CUDA_CHECK(scope.status());
  AEGIS_CUDA_CHECK(cudaStreamSynchronize(impl_->stream));
  return {};
}

Result<LetterboxTransform> CudaPreprocessor::run_into(const TensorView& src,
                                                      const PreprocessConfig& config, Tensor& dst,
                                                      std::int64_t batch_index, bool synchronize) {
  if (!impl_) return Error(ErrorCode::InvalidArgument, "CudaPreprocessor was moved from");
  if (config.interpolation != Interpolation::Bilinear) {
    return Error(ErrorCode::Unsupported,
                 "the CUDA pre-processing kernel resizes bilinearly only; bicubic (Pillow) runs on the CPU "
                 "(vision::preprocess)");
  }
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
  if (src.location().is_device() && src.location().device_id != impl_->device) {
    return Error(ErrorCode::InvalidArgument,
                 "pre-processing source is on " + to_string(src.location()) +
                     " but this preprocessor runs on cuda:" + std::to_string(impl_->device));
  }
  const Shape want = config.tensor_shape(dst.shape().empty() ? 1 : dst.shape()[0]);
  if (dst.empty() || !dst.location().is_device() || dst.location().device_id != impl_->device ||
      dst.dtype() != DType::Float32 || dst.shape() != want) {
    return Error(ErrorCode::InvalidArgument,
                 "pre-processing destination must be a float32 tensor of shape [N, " +
                     shape_to_string(std::span<const std::int64_t>(want).subspan(1)) + "] on cuda:" +
                     std::to_string(impl_->device) + ", got " + std::string(dtype_name(dst.dtype())) +
                     " " + shape_to_string(dst.shape()) + " on " + to_string(dst.location()));
  }
  if (batch_index < 0 || batch_index >= want[0]) {
    return Error(ErrorCode::InvalidArgument, "batch index " + std::to_string(batch_index) +
                                                 " out of range for destination " +
                                                 shape_to_string(dst.shape()));
  }
  const int h = static_cast<int>(src.shape()[0]);
  const int w = static_cast<int>(src.shape()[1]);
  const int c = static_cast<int>(src.shape()[2]);
  AEGIS_ASSIGN_OR_RETURN(const LetterboxTransform t, compute_transform(w, h, config));

  DeviceScope scope(impl_->device);
  AEGIS_CUDA_CHECK(scope.status());
  const std::uint8_t* src_dev = src.data_as<std::uint8_t>();
  if (src.location().is_host()) {
    const std::size_t bytes = src.byte_size();
    if (bytes > impl_->staging_bytes) {
      // Work queued earlier may still read the old buffer.
      AEGIS_CUDA_CHECK(cudaStreamSynchronize(impl_->stream));
      if (impl_->staging != nullptr) AEGIS_CUDA_CHECK(cudaFree(impl_->staging));
      impl_->staging = nullptr;
      impl_->staging_bytes = 0;
      AEGIS_CUDA_CHECK(cudaMalloc(&impl_->staging, bytes));
      impl_->staging_bytes = bytes;
    }
    // Pageable source: the call returns once the host bytes have been taken.
    AEGIS_CUDA_CHECK(cudaMemcpyAsync(impl_->staging, src.data(), bytes, cudaMemcpyHostToDevice,
                                     impl_->stream));
    src_dev = static_cast<const std::uint8_t*>(impl_->staging);
  }

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
  p.inv_x = static_cast<double>(w) / t.resized_width;
  p.inv_y = static_cast<double>(h) / t.resized_height;
  for (int k = 0; k < 3; ++k) {
    p.mul[k] = plan.mul[static_cast<std::size_t>(k)];
    p.add[k] = plan.add[static_cast<std::size_t>(k)];
    p.pad[k] = plan.pad[static_cast<std::size_t>(k)];
    p.ch[k] = plan.src_channel[static_cast<std::size_t>(k)];
  }
  const bool nchw = config.layout == Layout::NCHW;
  AEGIS_CUDA_CHECK(detail::launch_preprocess_kernel(p, c, nchw, impl_->stream));
  if (synchronize) AEGIS_CUDA_CHECK(cudaStreamSynchronize(impl_->stream));
  return t;
}

Result<PreprocessResult> CudaPreprocessor::run(const Image& image, const PreprocessConfig& config) {
  if (!impl_) return Error(ErrorCode::InvalidArgument, "CudaPreprocessor was moved from");
  if (image.empty()) return Error(ErrorCode::InvalidArgument, "cannot pre-process an empty image");
  AEGIS_TRY(config.validate());
  DeviceScope scope(impl_->device);
  AEGIS_CUDA_CHECK(scope.status());
  const std::size_t bytes = config.elements_per_image() * sizeof(float);
  void* out = nullptr;
  AEGIS_CUDA_CHECK(cudaMalloc(&out, bytes));
  const int dev = impl_->device;
  Tensor tensor = Tensor::adopt(
      out, config.tensor_shape(1), DType::Float32, Location::device(dev),
      [dev](void* ptr) {
        DeviceScope s(dev);
        (void)cudaFree(ptr);
      },
      "input");
  AEGIS_ASSIGN_OR_RETURN(const LetterboxTransform t,
                         run_into(image.view(), config, tensor, 0, /*synchronize=*/true));
  PreprocessResult result;
  result.tensor = std::move(tensor);
  result.transforms.push_back(t);
  return result;
}

}  // namespace aegisrt::vision
