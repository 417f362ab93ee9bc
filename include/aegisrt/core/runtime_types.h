// Vocabulary shared by every layer that names where and how a model runs:
// Precision, Device and NamedTensorView. They live in core/ so that models/
// (manifests), io/ (input files) and the CLI need not include backend/;
// aegisrt/backend/runtime_backend.h includes this header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aegisrt/core/tensor.h"

namespace aegisrt {

enum class Precision : std::uint8_t { FP32, FP16, INT8 };
/// "fp32", "fp16", "int8".
std::string_view to_string(Precision p) noexcept;
std::optional<Precision> parse_precision(std::string_view s) noexcept;

enum class DeviceKind : std::uint8_t { CPU, CUDA };

struct Device {
  DeviceKind kind = DeviceKind::CPU;
  int index = 0;
  static constexpr Device cpu() noexcept { return {DeviceKind::CPU, 0}; }
  static constexpr Device cuda(int i = 0) noexcept { return {DeviceKind::CUDA, i}; }
  friend bool operator==(const Device&, const Device&) = default;
};
std::string to_string(const Device& d);
/// "cpu", "cuda", "cuda:1".
std::optional<Device> parse_device(std::string_view s) noexcept;

/// One input: a view plus the name it binds to (empty = positional, in
/// input_specs() order).
struct NamedTensorView {
  std::string name;
  TensorView view;
};

}  // namespace aegisrt
