// Names of Precision and Device, and their parsers.
#include "aegisrt/core/runtime_types.h"

namespace aegisrt {

std::string_view to_string(Precision p) noexcept {
  switch (p) {
    case Precision::FP32: return "fp32";
    case Precision::FP16: return "fp16";
    case Precision::INT8: return "int8";
  }
  return "unknown";
}

std::optional<Precision> parse_precision(std::string_view s) noexcept {
  if (s == "fp32" || s == "float32") return Precision::FP32;
  if (s == "fp16" || s == "float16") return Precision::FP16;
  if (s == "int8") return Precision::INT8;
  return std::nullopt;
}

std::string to_string(const Device& d) {
  if (d.kind == DeviceKind::CPU) return "cpu";
  return "cuda:" + std::to_string(d.index);
}

std::optional<Device> parse_device(std::string_view s) noexcept {
  if (s == "cpu") return Device::cpu();
  if (s == "cuda" || s == "gpu") return Device::cuda(0);
  if (s.starts_with("cuda:")) {
    int idx = 0;
    const auto digits = s.substr(5);
    if (digits.empty()) return std::nullopt;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      idx = idx * 10 + (c - '0');
      if (idx > 1024) return std::nullopt;
    }
    return Device::cuda(idx);
  }
  return std::nullopt;
}

}  // namespace aegisrt
