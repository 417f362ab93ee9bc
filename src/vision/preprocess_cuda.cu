// Fused CUDA pre-processing kernel: each thread produces one output pixel
// (all three channels): bilinear sample (half-pixel centres, OpenCV
// INTER_LINEAR clamping, same as preprocess.cpp) or the pad value, colour
// mapping, (x * scale - mean) / std, and the NCHW/NHWC store.
//
// TODO(cuda layer): switch the private stream and buffers to
// aegisrt::cuda::CudaStream / DeviceBuffer and allocate outputs with
// cuda::allocate_device_tensor once those land; plain runtime calls for now.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "aegisrt/vision/preprocess_cuda.h"
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

struct KernelParams {
  const std::uint8_t* src;
  int src_w, src_h;
  long long src_stride;  // bytes per source row
  float* dst;
  int dst_w, dst_h;
  int resized_w, resized_h, pad_x, pad_y;
  float inv_x, inv_y;  // source pixels per resized pixel
  float mul[3], add[3], pad[3];
  int ch[3];
};

__device__ __forceinline__ void tap(int d, float inv, int size, int& i0, int& i1, float& w) {
  const float s = (static_cast<float>(d) + 0.5f) * inv - 0.5f;
  const float f = floorf(s);
  i0 = static_cast<int>(f);
  w = s - f;
  if (i0 < 0) {
    i0 = 0;
    w = 0.0f;
  }
  if (i0 >= size - 1) {
    i0 = size - 1;
    w = 0.0f;
  }
  i1 = w > 0.0f ? i0 + 1 : i0;
}

template <int C, bool kNchw>
__global__ void preprocess_kernel(const KernelParams p) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= p.dst_w || y >= p.dst_h) return;
  const int cx = x - p.pad_x;
  const int cy = y - p.pad_y;
  float v[3];
  if (cx < 0 || cy < 0 || cx >= p.resized_w || cy >= p.resized_h) {
    v[0] = p.pad[0];
    v[1] = p.pad[1];
    v[2] = p.pad[2];
  } else {
    int x0, x1, y0, y1;
    float fx, fy;
    tap(cx, p.inv_x, p.src_w, x0, x1, fx);
    tap(cy, p.inv_y, p.src_h, y0, y1, fy);
    const std::uint8_t* r0 = p.src + static_cast<long long>(y0) * p.src_stride;
    const std::uint8_t* r1 = p.src + static_cast<long long>(y1) * p.src_stride;
#pragma unroll
    for (int k = 0; k < 3; ++k) {
      const int c = p.ch[k];
      const float a = r0[x0 * C + c], b = r0[x1 * C + c];
      const float e = r1[x0 * C + c], f = r1[x1 * C + c];
      const float top = a + (b - a) * fx;
      const float bot = e + (f - e) * fx;
      v[k] = (top + (bot - top) * fy) * p.mul[k] + p.add[k];
    }
  }
  const long long pix = static_cast<long long>(y) * p.dst_w + x;
  if constexpr (kNchw) {
    const long long plane = static_cast<long long>(p.dst_w) * p.dst_h;
    p.dst[pix] = v[0];
    p.dst[plane + pix] = v[1];
    p.dst[2 * plane + pix] = v[2];
  } else {
    p.dst[3 * pix] = v[0];
    p.dst[3 * pix + 1] = v[1];
    p.dst[3 * pix + 2] = v[2];
  }
}

template <int C>
void launch_for_channels(const KernelParams& p, bool nchw, cudaStream_t stream) {
  const dim3 block(32, 8);
  const dim3 grid((p.dst_w + block.x - 1) / block.x, (p.dst_h + block.y - 1) / block.y);
  if (nchw) preprocess_kernel<C, true><<<grid, block, 0, stream>>>(p);
  else preprocess_kernel<C, false><<<grid, block, 0, stream>>>(p);
}

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
  KernelParams p{};
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
  p.inv_x = static_cast<float>(static_cast<double>(w) / t.resized_width);
  p.inv_y = static_cast<float>(static_cast<double>(h) / t.resized_height);
  for (int k = 0; k < 3; ++k) {
    p.mul[k] = plan.mul[static_cast<std::size_t>(k)];
    p.add[k] = plan.add[static_cast<std::size_t>(k)];
    p.pad[k] = plan.pad[static_cast<std::size_t>(k)];
    p.ch[k] = plan.src_channel[static_cast<std::size_t>(k)];
  }
  const bool nchw = config.layout == Layout::NCHW;
  switch (c) {
    case 1: launch_for_channels<1>(p, nchw, impl_->stream); break;
    case 3: launch_for_channels<3>(p, nchw, impl_->stream); break;
    default: launch_for_channels<4>(p, nchw, impl_->stream); break;
  }
  AEGIS_CUDA_CHECK(cudaGetLastError());
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
