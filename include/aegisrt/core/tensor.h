// Tensor descriptions, non-owning views (with strides) and owning tensors.
// Strides are counted in elements, not bytes. Nothing here touches CUDA: device
// memory is allocated by the cuda layer, which hands back a Tensor whose
// deleter frees it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "aegisrt/core/dtype.h"
#include "aegisrt/core/result.h"

namespace aegisrt {

using Shape = std::vector<std::int64_t>;

/// Marks a dynamic dimension in a TensorDesc shape.
inline constexpr std::int64_t kDynamicDim = -1;

/// "1x3x224x224", with "?" for dynamic dims.
std::string shape_to_string(std::span<const std::int64_t> shape);

/// Product of the dims; 0 if any dim is 0. Dynamic dims (-1) must not be present.
std::int64_t shape_element_count(std::span<const std::int64_t> shape) noexcept;

/// Row-major (C order) strides, in elements.
Shape contiguous_strides(std::span<const std::int64_t> shape);

/// What a backend declares for one input or output.
struct TensorDesc {
  std::string name;
  Shape shape;  // kDynamicDim for dims fixed only at execute time
  DType dtype = DType::Float32;

  [[nodiscard]] bool is_dynamic() const noexcept;
  /// Does a concrete shape fit this description (same rank, equal static dims)?
  [[nodiscard]] bool accepts_shape(std::span<const std::int64_t> concrete) const noexcept;
  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const TensorDesc&, const TensorDesc&) = default;
};

enum class MemoryKind : std::uint8_t { Host, Device };

struct Location {
  MemoryKind kind = MemoryKind::Host;
  int device_id = 0;  // meaningful for Device only

  static constexpr Location host() noexcept { return {MemoryKind::Host, 0}; }
  static constexpr Location device(int id) noexcept { return {MemoryKind::Device, id}; }
  [[nodiscard]] bool is_host() const noexcept { return kind == MemoryKind::Host; }
  [[nodiscard]] bool is_device() const noexcept { return kind == MemoryKind::Device; }
  friend bool operator==(const Location&, const Location&) = default;
};

std::string to_string(const Location& loc);

class Tensor;

/// Non-owning, possibly strided view of tensor data. Cheap to copy.
class TensorView {
 public:
  TensorView() = default;
  /// Contiguous (row-major) view.
  TensorView(const void* data, Shape shape, DType dtype, Location location = Location::host());
  /// Strided view; strides in elements.
  TensorView(const void* data, Shape shape, Shape strides, DType dtype,
             Location location = Location::host());

  [[nodiscard]] const void* data() const noexcept { return data_; }
  [[nodiscard]] const Shape& shape() const noexcept { return shape_; }
  [[nodiscard]] const Shape& strides() const noexcept { return strides_; }
  [[nodiscard]] DType dtype() const noexcept { return dtype_; }
  [[nodiscard]] Location location() const noexcept { return location_; }
  [[nodiscard]] std::size_t rank() const noexcept { return shape_.size(); }
  [[nodiscard]] std::int64_t element_count() const noexcept;
  /// Bytes the elements occupy once contiguous.
  [[nodiscard]] std::size_t byte_size() const noexcept;

  /// True if strides are the row-major strides of shape (size-1 dims ignored).
  [[nodiscard]] bool is_contiguous() const noexcept;

  /// Checks the view is self-consistent: strides rank equals shape rank, no
  /// negative extent or stride, data non-null when there are elements.
  /// Returns InvalidArgument naming `what` otherwise.
  [[nodiscard]] Result<void> validate(std::string_view what = "tensor") const;

  /// Typed element pointer (no checks beyond an assert on dtype size).
  template <typename T>
  [[nodiscard]] const T* data_as() const noexcept {
    return static_cast<const T*>(data_);
  }

 private:
  const void* data_ = nullptr;
  Shape shape_;
  Shape strides_;
  DType dtype_ = DType::Float32;
  Location location_{};
};

/// Owning tensor. Host memory is 64-byte aligned; device memory comes from
/// the cuda layer (cuda::allocate_device_tensor). Move-only: copy with clone().
class Tensor {
 public:
  using Deleter = std::function<void(void*)>;

  Tensor() = default;
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;
  ~Tensor() = default;

  /// Zero-initialised host tensor. Fails with InvalidArgument on negative or
  /// dynamic dims, and on sizes that overflow. DType::String tensors hold
  /// empty std::string objects, destroyed with the tensor.
  static Result<Tensor> allocate_host(Shape shape, DType dtype, std::string name = {});
  /// Host tensor holding a copy of `bytes` (must be exactly the tensor's size).
  /// InvalidArgument for DType::String (strings are not raw bytes).
  static Result<Tensor> from_bytes(Shape shape, DType dtype, std::span<const std::byte> bytes,
                                   std::string name = {});
  /// Host string tensor (DType::String) holding `values` in C order; their
  /// count must be the shape's element count.
  static Result<Tensor> from_strings(Shape shape, std::vector<std::string> values,
                                     std::string name = {});
  /// Takes ownership of memory from another allocator (used by the cuda layer).
  static Tensor adopt(void* data, Shape shape, DType dtype, Location location, Deleter deleter,
                      std::string name = {});

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  [[nodiscard]] const Shape& shape() const noexcept { return shape_; }
  [[nodiscard]] DType dtype() const noexcept { return dtype_; }
  [[nodiscard]] Location location() const noexcept { return location_; }
  [[nodiscard]] std::int64_t element_count() const noexcept;
  [[nodiscard]] std::size_t byte_size() const noexcept;
  [[nodiscard]] bool empty() const noexcept { return data_ == nullptr; }

  [[nodiscard]] void* data() noexcept { return data_.get(); }
  [[nodiscard]] const void* data() const noexcept { return data_.get(); }
  template <typename T>
  [[nodiscard]] T* data_as() noexcept {
    return static_cast<T*>(data_.get());
  }
  template <typename T>
  [[nodiscard]] const T* data_as() const noexcept {
    return static_cast<const T*>(data_.get());
  }
  /// Host-only typed span over all elements.
  template <typename T>
  [[nodiscard]] std::span<T> span() noexcept {
    return {data_as<T>(), static_cast<std::size_t>(element_count())};
  }
  template <typename T>
  [[nodiscard]] std::span<const T> span() const noexcept {
    return {data_as<T>(), static_cast<std::size_t>(element_count())};
  }

  [[nodiscard]] TensorView view() const noexcept;
  /// Deep host copy (host tensors only; device tensors: cuda layer).
  [[nodiscard]] Result<Tensor> clone() const;
  /// Same bytes, new shape with the same element count.
  [[nodiscard]] Result<void> reshape(Shape shape);

 private:
  std::unique_ptr<void, Deleter> data_{nullptr, [](void*) {}};
  Shape shape_;
  DType dtype_ = DType::Float32;
  Location location_{};
  std::string name_;
};

/// Copies a host view (any valid strides) into a new contiguous host tensor
/// (string views element by element).
/// Device views return Unsupported here; the cuda layer handles those.
Result<Tensor> copy_to_contiguous(const TensorView& view, std::string name = {});

/// Copies a host view into caller memory of exactly view.byte_size() bytes.
/// Unsupported for string views (not raw bytes).
Result<void> copy_to_contiguous(const TensorView& view, std::span<std::byte> dst);

}  // namespace aegisrt
