// Device tensors: allocation, host<->device copies and the strided gather
// that makes a non-contiguous device view contiguous.
#include "aegisrt/cuda/tensor_ops.h"

#include <spdlog/spdlog.h>

#include <limits>
#include <utility>
#include <vector>

#include "aegisrt/cuda/cuda_stream.h"
#include "cuda_check.h"
#include "strided_gather.h"

namespace aegisrt::cuda {

namespace {

cudaStream_t native(const CudaStream* s) noexcept { return s ? s->native() : nullptr; }

std::string label(const std::string& name) { return name.empty() ? "tensor" : "tensor '" + name + "'"; }

Result<std::size_t> checked_bytes(const Shape& shape, DType dtype, const std::string& name) {
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) {
      return Error(ErrorCode::InvalidArgument, "cannot allocate " + label(name) +
                                                   " with dynamic or negative shape " +
                                                   shape_to_string(shape));
    }
    if (d != 0 && n > std::numeric_limits<std::int64_t>::max() / 16 / d) {
      return Error(ErrorCode::InvalidArgument, label(name) + " is too large: " + shape_to_string(shape));
    }
    n *= d;
  }
  return static_cast<std::size_t>(n) * dtype_size(dtype);
}

/// Device memory, not initialised, owned by the returned Tensor.
Result<Tensor> allocate_uninit(Shape shape, DType dtype, int device, std::string name) {
  AEGIS_ASSIGN_OR_RETURN(const std::size_t bytes, checked_bytes(shape, dtype, name));
  AEGIS_TRY(detail::check_device(device, "allocating device " + label(name)));
  detail::DeviceGuard guard(device);
  AEGIS_TRY(guard.status());
  void* p = nullptr;
  const detail::RelaxedCaptureMode relaxed;  // another thread may be capturing a graph
  // A zero-element tensor still gets a (tiny) allocation so that it is not empty().
  if (const auto err = cudaMalloc(&p, bytes == 0 ? 1 : bytes); err != cudaSuccess) {
    return detail::cuda_error(err, "cudaMalloc(" + std::to_string(bytes) + " bytes) for " +
                                       label(name) + " on cuda:" + std::to_string(device));
  }
  auto deleter = [device, bytes](void* ptr) {
    detail::DeviceGuard g(device);
    const detail::RelaxedCaptureMode relaxed_free;
    if (const auto err = cudaFree(ptr); err != cudaSuccess) {
      spdlog::error("aegisrt cuda: cudaFree({} bytes) of a device tensor on cuda:{} failed: {} ({})",
                    bytes, device, cudaGetErrorName(err), cudaGetErrorString(err));
      (void)cudaGetLastError();
    }
  };
  return Tensor::adopt(p, std::move(shape), dtype, Location::device(device), std::move(deleter),
                       std::move(name));
}

/// A view that says "device N" must really point at device memory of device N.
Result<void> check_device_pointer(const TensorView& v, const std::string& what) {
  if (v.element_count() == 0) return {};
  AEGIS_TRY(detail::check_device(v.location().device_id, what));
  cudaPointerAttributes a{};
  AEGIS_TRY(detail::check(cudaPointerGetAttributes(&a, v.data()),
                          "cudaPointerGetAttributes(" + what + ")"));
  const int dev = v.location().device_id;
  if (a.type != cudaMemoryTypeDevice && a.type != cudaMemoryTypeManaged) {
    return Error(ErrorCode::InvalidArgument,
                 what + " says it is on cuda:" + std::to_string(dev) +
                     " but its data pointer is not device memory");
  }
  if (a.type == cudaMemoryTypeDevice && a.device != dev) {
    return Error(ErrorCode::InvalidArgument, what + " says it is on cuda:" + std::to_string(dev) +
                                                 " but its memory belongs to cuda:" +
                                                 std::to_string(a.device));
  }
  return {};
}

/// Drops size-1 dims and merges dims that are contiguous with each other, so
/// most views need far fewer than kMaxGatherRank dims.
Result<detail::GatherParams> gather_params(const TensorView& v, const std::string& what) {
  std::vector<std::pair<std::int64_t, std::int64_t>> dims;  // (extent, stride), outer first
  for (std::size_t i = 0; i < v.rank(); ++i) {
    if (v.shape()[i] == 1) continue;
    const std::pair<std::int64_t, std::int64_t> d{v.shape()[i], v.strides()[i]};
    if (!dims.empty() && dims.back().second == d.second * d.first) {
      dims.back() = {dims.back().first * d.first, d.second};
    } else {
      dims.push_back(d);
    }
  }
  if (dims.size() > static_cast<std::size_t>(detail::kMaxGatherRank)) {
    return Error(ErrorCode::Unsupported,
                 what + " has " + std::to_string(dims.size()) +
                     " non-mergeable strided dims; the device gather handles at most " +
                     std::to_string(detail::kMaxGatherRank));
  }
  detail::GatherParams p;
  p.rank = static_cast<int>(dims.size());
  for (std::size_t i = 0; i < dims.size(); ++i) {
    p.shape[i] = dims[i].first;
    p.strides[i] = dims[i].second;
  }
  return p;
}

Result<void> sync(cudaStream_t s, const std::string& what) {
  const detail::RelaxedCaptureMode relaxed;
  return detail::check(cudaStreamSynchronize(s), "cudaStreamSynchronize (" + what + ")");
}

/// Contiguous device copy of a validated, pointer-checked device view.
Result<Tensor> device_contiguous(const TensorView& view, std::string name, cudaStream_t stream) {
  const int dev = view.location().device_id;
  const std::string what = label(name);
  AEGIS_ASSIGN_OR_RETURN(Tensor dst, allocate_uninit(view.shape(), view.dtype(), dev, std::move(name)));
  if (view.element_count() == 0) return dst;
  detail::DeviceGuard guard(dev);
  const detail::RelaxedCaptureMode relaxed;  // copies from pageable memory / on the legacy stream
  AEGIS_TRY(guard.status());
  if (view.is_contiguous()) {
    AEGIS_TRY(detail::check(cudaMemcpyAsync(dst.data(), view.data(), view.byte_size(),
                                            cudaMemcpyDeviceToDevice, stream),
                            "cudaMemcpyAsync device to device (" + what + ")"));
  } else {
    AEGIS_ASSIGN_OR_RETURN(const auto params, gather_params(view, what));
    AEGIS_TRY(detail::check(detail::launch_strided_gather(view.data(), dst.data(),
                                                          dtype_size(view.dtype()),
                                                          view.element_count(), params, stream),
                            "strided gather kernel launch (" + what + ")"));
  }
  AEGIS_TRY(sync(stream, what));
  return dst;
}

}  // namespace

Result<Tensor> allocate_device_tensor(Shape shape, DType dtype, int device, std::string name) {
  const std::string what = label(name);
  AEGIS_ASSIGN_OR_RETURN(Tensor t, allocate_uninit(std::move(shape), dtype, device, std::move(name)));
  detail::DeviceGuard guard(device);
  const detail::RelaxedCaptureMode relaxed;  // copies from pageable memory / on the legacy stream
  AEGIS_TRY(guard.status());
  if (t.byte_size() > 0) {
    AEGIS_TRY(detail::check(cudaMemsetAsync(t.data(), 0, t.byte_size(), nullptr),
                            "cudaMemsetAsync (" + what + ")"));
    // Synchronise: later work may go to a non-blocking stream that does not
    // wait for the default stream.
    AEGIS_TRY(sync(nullptr, what));
  }
  return t;
}

Result<Tensor> make_contiguous(const TensorView& view, std::string name, CudaStream* stream) {
  const std::string what = label(name);
  AEGIS_TRY(view.validate(what));
  if (view.location().is_host()) return aegisrt::copy_to_contiguous(view, std::move(name));
  AEGIS_TRY(check_device_pointer(view, what));
  return device_contiguous(view, std::move(name), native(stream));
}

Result<Tensor> copy_to_device(const TensorView& view, int device, std::string name,
                              CudaStream* stream) {
  const std::string what = label(name);
  AEGIS_TRY(view.validate(what));
  AEGIS_TRY(detail::check_device(device, "copying " + what + " to the device"));
  const cudaStream_t s = native(stream);

  if (view.location().is_device()) {
    AEGIS_TRY(check_device_pointer(view, what));
    const int src_dev = view.location().device_id;
    if (src_dev == device) return device_contiguous(view, std::move(name), s);
    // Across devices: make it contiguous where it lives, then copy peer to peer.
    AEGIS_ASSIGN_OR_RETURN(Tensor src, device_contiguous(view, name, nullptr));
    AEGIS_ASSIGN_OR_RETURN(Tensor dst, allocate_uninit(view.shape(), view.dtype(), device, std::move(name)));
    if (src.byte_size() == 0) return dst;
    detail::DeviceGuard guard(device);
    const detail::RelaxedCaptureMode relaxed;  // copies from pageable memory / on the legacy stream
    AEGIS_TRY(guard.status());
    AEGIS_TRY(detail::check(cudaMemcpyPeerAsync(dst.data(), device, src.data(), src_dev,
                                                src.byte_size(), s),
                            "cudaMemcpyPeerAsync (" + what + ")"));
    AEGIS_TRY(sync(s, what));
    return dst;
  }

  // Host source: gather on the host first if strided (one DMA beats many).
  Tensor staged;
  const void* src = view.data();
  if (!view.is_contiguous()) {
    AEGIS_ASSIGN_OR_RETURN(staged, aegisrt::copy_to_contiguous(view, name));
    src = staged.data();
  }
  AEGIS_ASSIGN_OR_RETURN(Tensor dst, allocate_uninit(view.shape(), view.dtype(), device, std::move(name)));
  if (view.byte_size() == 0) return dst;
  detail::DeviceGuard guard(device);
  const detail::RelaxedCaptureMode relaxed;  // copies from pageable memory / on the legacy stream
  AEGIS_TRY(guard.status());
  AEGIS_TRY(detail::check(
      cudaMemcpyAsync(dst.data(), src, view.byte_size(), cudaMemcpyHostToDevice, s),
      "cudaMemcpyAsync host to device (" + what + ")"));
  AEGIS_TRY(sync(s, what));
  return dst;
}

Result<Tensor> copy_to_host(const TensorView& view, std::string name, CudaStream* stream) {
  const std::string what = label(name);
  AEGIS_TRY(view.validate(what));
  if (view.location().is_host()) return aegisrt::copy_to_contiguous(view, std::move(name));
  AEGIS_TRY(check_device_pointer(view, what));
  const cudaStream_t s = native(stream);

  Tensor gathered;
  const void* src = view.data();
  if (!view.is_contiguous()) {
    AEGIS_ASSIGN_OR_RETURN(gathered, device_contiguous(view, name, s));
    src = gathered.data();
  }
  AEGIS_ASSIGN_OR_RETURN(Tensor dst, Tensor::allocate_host(view.shape(), view.dtype(), std::move(name)));
  if (view.byte_size() == 0) return dst;
  detail::DeviceGuard guard(view.location().device_id);
  const detail::RelaxedCaptureMode relaxed;  // copies from pageable memory / on the legacy stream
  AEGIS_TRY(guard.status());
  AEGIS_TRY(detail::check(
      cudaMemcpyAsync(dst.data(), src, view.byte_size(), cudaMemcpyDeviceToHost, s),
      "cudaMemcpyAsync device to host (" + what + ")"));
  AEGIS_TRY(sync(s, what));
  return dst;
}

}  // namespace aegisrt::cuda
