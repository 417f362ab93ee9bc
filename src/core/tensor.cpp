// TensorDesc / TensorView / Tensor implementation and host contiguity helpers.
#include "aegisrt/core/tensor.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <sstream>

namespace aegisrt {

std::string shape_to_string(std::span<const std::int64_t> shape) {
  if (shape.empty()) return "scalar";
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += 'x';
    s += shape[i] < 0 ? std::string("?") : std::to_string(shape[i]);
  }
  return s;
}

std::int64_t shape_element_count(std::span<const std::int64_t> shape) noexcept {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

Shape contiguous_strides(std::span<const std::int64_t> shape) {
  Shape strides(shape.size(), 1);
  std::int64_t acc = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = acc;
    acc *= (shape[i] > 0 ? shape[i] : 1);
  }
  return strides;
}

bool TensorDesc::is_dynamic() const noexcept {
  for (auto d : shape)
    if (d < 0) return true;
  return false;
}

bool TensorDesc::accepts_shape(std::span<const std::int64_t> concrete) const noexcept {
  if (concrete.size() != shape.size()) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (concrete[i] < 0) return false;
    if (shape[i] >= 0 && shape[i] != concrete[i]) return false;
  }
  return true;
}

std::string TensorDesc::to_string() const {
  return name + ": " + std::string(dtype_name(dtype)) + "[" + shape_to_string(shape) + "]";
}

std::string to_string(const Location& loc) {
  return loc.is_host() ? std::string("host") : "cuda:" + std::to_string(loc.device_id);
}

TensorView::TensorView(const void* data, Shape shape, DType dtype, Location location)
    : data_(data), shape_(std::move(shape)), dtype_(dtype), location_(location) {
  strides_ = contiguous_strides(shape_);
}

TensorView::TensorView(const void* data, Shape shape, Shape strides, DType dtype,
                       Location location)
    : data_(data),
      shape_(std::move(shape)),
      strides_(std::move(strides)),
      dtype_(dtype),
      location_(location) {}

std::int64_t TensorView::element_count() const noexcept { return shape_element_count(shape_); }

std::size_t TensorView::byte_size() const noexcept {
  const auto n = element_count();
  return n <= 0 ? 0 : static_cast<std::size_t>(n) * dtype_size(dtype_);
}

bool TensorView::is_contiguous() const noexcept {
  if (strides_.size() != shape_.size()) return false;
  std::int64_t expected = 1;
  for (std::size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] == 1) continue;  // stride of a size-1 dim never matters
    if (strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

Result<void> TensorView::validate(std::string_view what) const {
  // Messages are built only on failure: this runs on every execute().
  const auto fail = [what](std::string msg) {
    return Error(ErrorCode::InvalidArgument, std::string(what) + ": " + msg);
  };
  if (strides_.size() != shape_.size()) {
    return fail("strides rank " + std::to_string(strides_.size()) +
                " does not match shape rank " + std::to_string(shape_.size()));
  }
  // Overflow-safe extent check: the element count must fit in int64.
  std::int64_t count = 1;
  for (std::size_t i = 0; i < shape_.size(); ++i) {
    if (shape_[i] < 0) {
      return fail("dimension " + std::to_string(i) + " has negative extent " +
                  std::to_string(shape_[i]));
    }
    if (strides_[i] < 0) {
      return fail("dimension " + std::to_string(i) + " has negative stride " +
                  std::to_string(strides_[i]) + " (not supported)");
    }
    if (shape_[i] != 0 && count > std::numeric_limits<std::int64_t>::max() / shape_[i]) {
      return fail("element count overflows");
    }
    count *= shape_[i];
  }
  if (count > 0 && data_ == nullptr) {
    return fail("null data pointer for " + std::to_string(count) + " elements");
  }
  return {};
}

namespace {

void host_free(void* p) { std::free(p); }

// Recursive strided gather for any element size.
void gather(const std::byte* src, std::byte*& dst, const Shape& shape, const Shape& strides,
            std::size_t dim, std::size_t elem) {
  const auto n = shape[dim];
  const auto step = static_cast<std::ptrdiff_t>(strides[dim]) * static_cast<std::ptrdiff_t>(elem);
  if (dim + 1 == shape.size()) {
    if (strides[dim] == 1) {
      std::memcpy(dst, src, static_cast<std::size_t>(n) * elem);
      dst += static_cast<std::ptrdiff_t>(n) * static_cast<std::ptrdiff_t>(elem);
      return;
    }
    for (std::int64_t i = 0; i < n; ++i) {
      std::memcpy(dst, src + i * step, elem);
      dst += elem;
    }
    return;
  }
  for (std::int64_t i = 0; i < n; ++i) gather(src + i * step, dst, shape, strides, dim + 1, elem);
}

}  // namespace

Result<Tensor> Tensor::allocate_host(Shape shape, DType dtype, std::string name) {
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) {
      return Error(ErrorCode::InvalidArgument,
                   "cannot allocate tensor '" + name + "' with dynamic or negative shape " +
                       shape_to_string(shape));
    }
    if (d != 0 && n > std::numeric_limits<std::int64_t>::max() / 64 / d) {  // 64 >= any dtype_size
      return Error(ErrorCode::InvalidArgument, "tensor '" + name + "' is too large");
    }
    n *= d;
  }
  const std::size_t bytes = static_cast<std::size_t>(n) * dtype_size(dtype);
  const std::size_t rounded = ((bytes + 63) / 64) * 64;
  void* p = rounded == 0 ? std::aligned_alloc(64, 64) : std::aligned_alloc(64, rounded);
  if (p == nullptr) {
    return Error(ErrorCode::Internal, "out of host memory allocating " + std::to_string(bytes) +
                                          " bytes for tensor '" + name + "'");
  }
  std::memset(p, 0, rounded == 0 ? 64 : rounded);
  if (dtype_is_string(dtype)) {
    // One empty std::string per element; the deleter destroys them.
    auto* strings = static_cast<std::string*>(p);
    const auto count = static_cast<std::size_t>(n);
    for (std::size_t i = 0; i < count; ++i) new (strings + i) std::string();
    return adopt(
        p, std::move(shape), dtype, Location::host(),
        [count](void* q) {
          auto* s = static_cast<std::string*>(q);
          for (std::size_t i = 0; i < count; ++i) s[i].~basic_string();
          std::free(q);
        },
        std::move(name));
  }
  return adopt(p, std::move(shape), dtype, Location::host(), host_free, std::move(name));
}

Result<Tensor> Tensor::from_bytes(Shape shape, DType dtype, std::span<const std::byte> bytes,
                                  std::string name) {
  if (!dtype_is_pod(dtype)) {
    return Error(ErrorCode::InvalidArgument, "tensor '" + name + "' of dtype " +
                                                 std::string(dtype_name(dtype)) +
                                                 " cannot be built from raw bytes (use from_strings)");
  }
  AEGIS_ASSIGN_OR_RETURN(Tensor t, allocate_host(std::move(shape), dtype, std::move(name)));
  if (bytes.size() != t.byte_size()) {
    return Error(ErrorCode::InvalidArgument,
                 "tensor '" + t.name() + "' needs " + std::to_string(t.byte_size()) +
                     " bytes, got " + std::to_string(bytes.size()));
  }
  if (!bytes.empty()) std::memcpy(t.data(), bytes.data(), bytes.size());
  return t;
}

Result<Tensor> Tensor::from_strings(Shape shape, std::vector<std::string> values, std::string name) {
  AEGIS_ASSIGN_OR_RETURN(Tensor t, allocate_host(std::move(shape), DType::String, std::move(name)));
  if (values.size() != static_cast<std::size_t>(t.element_count())) {
    return Error(ErrorCode::InvalidArgument,
                 "string tensor '" + t.name() + "' of shape " + shape_to_string(t.shape()) + " needs " +
                     std::to_string(t.element_count()) + " strings, got " + std::to_string(values.size()));
  }
  auto out = t.span<std::string>();
  for (std::size_t i = 0; i < values.size(); ++i) out[i] = std::move(values[i]);
  return t;
}

Tensor Tensor::adopt(void* data, Shape shape, DType dtype, Location location, Deleter deleter,
                     std::string name) {
  Tensor t;
  t.data_ = std::unique_ptr<void, Deleter>(data, std::move(deleter));
  t.shape_ = std::move(shape);
  t.dtype_ = dtype;
  t.location_ = location;
  t.name_ = std::move(name);
  return t;
}

std::int64_t Tensor::element_count() const noexcept { return shape_element_count(shape_); }

std::size_t Tensor::byte_size() const noexcept {
  const auto n = element_count();
  return n <= 0 ? 0 : static_cast<std::size_t>(n) * dtype_size(dtype_);
}

TensorView Tensor::view() const noexcept { return TensorView(data_.get(), shape_, dtype_, location_); }

Result<Tensor> Tensor::clone() const {
  if (!location_.is_host()) {
    return Error(ErrorCode::Unsupported, "clone() of device tensor '" + name_ +
                                             "' needs the cuda layer (cuda::copy_tensor)");
  }
  if (dtype_is_string(dtype_)) return copy_to_contiguous(view(), name_);
  return from_bytes(shape_, dtype_,
                    std::span<const std::byte>(static_cast<const std::byte*>(data()), byte_size()),
                    name_);
}

Result<void> Tensor::reshape(Shape shape) {
  for (auto d : shape) {
    if (d < 0) return Error(ErrorCode::InvalidArgument, "reshape to a negative dimension");
  }
  if (shape_element_count(shape) != element_count()) {
    return Error(ErrorCode::InvalidArgument, "cannot reshape tensor '" + name_ + "' from " +
                                                 shape_to_string(shape_) + " to " +
                                                 shape_to_string(shape));
  }
  shape_ = std::move(shape);
  return {};
}

Result<void> copy_to_contiguous(const TensorView& view, std::span<std::byte> dst) {
  AEGIS_TRY(view.validate());
  if (!view.location().is_host()) {
    return Error(ErrorCode::Unsupported,
                 "copy_to_contiguous on a device view needs the cuda layer");
  }
  if (!dtype_is_pod(view.dtype())) {
    return Error(ErrorCode::Unsupported, "a " + std::string(dtype_name(view.dtype())) +
                                             " view cannot be copied as raw bytes");
  }
  if (dst.size() != view.byte_size()) {
    return Error(ErrorCode::InvalidArgument, "destination has " + std::to_string(dst.size()) +
                                                 " bytes, view needs " +
                                                 std::to_string(view.byte_size()));
  }
  if (view.element_count() == 0) return {};
  const auto* src = static_cast<const std::byte*>(view.data());
  if (view.is_contiguous()) {
    std::memcpy(dst.data(), src, dst.size());
    return {};
  }
  std::byte* out = dst.data();
  if (view.rank() == 0) {
    std::memcpy(out, src, dtype_size(view.dtype()));
    return {};
  }
  gather(src, out, view.shape(), view.strides(), 0, dtype_size(view.dtype()));
  return {};
}

Result<Tensor> copy_to_contiguous(const TensorView& view, std::string name) {
  AEGIS_TRY(view.validate(name.empty() ? "tensor" : name));
  AEGIS_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate_host(view.shape(), view.dtype(), name));
  if (dtype_is_string(view.dtype())) {
    if (!view.location().is_host()) {
      return Error(ErrorCode::Unsupported, "string tensor '" + name + "' is not on the host");
    }
    // Element-wise copy-assignment, C order, following the view's strides.
    auto out = t.span<std::string>();
    const auto* base = view.data_as<std::string>();
    const auto& shape = view.shape();
    const auto& strides = view.strides();
    Shape idx(shape.size(), 0);
    for (std::size_t k = 0; k < out.size(); ++k) {
      std::int64_t off = 0;
      for (std::size_t d = 0; d < shape.size(); ++d) off += idx[d] * strides[d];
      out[k] = base[off];
      for (std::size_t d = shape.size(); d-- > 0;) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
    return t;
  }
  AEGIS_TRY(copy_to_contiguous(
      view, std::span<std::byte>(static_cast<std::byte*>(t.data()), t.byte_size())));
  return t;
}

}  // namespace aegisrt
