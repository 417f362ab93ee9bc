#include "backends/openvino/ov_common.h"

#include <openvino/frontend/manager.hpp>

#include <cctype>
#include <memory>
#include <mutex>

namespace aegisrt::ov_detail {

Result<ov::Core*> core() {
  static std::once_flag once;
  static std::unique_ptr<ov::Core> instance;
  static std::string failure;
  std::call_once(once, [] {
    try {
      instance = std::make_unique<ov::Core>();
    } catch (const std::exception& e) {
      failure = condense(e.what());
    } catch (...) {
      failure = "unknown exception";
    }
  });
  if (!instance) {
    return Error(ErrorCode::BackendError, "OpenVINO could not start (ov::Core): " + failure);
  }
  return instance.get();
}

Result<std::shared_ptr<ov::Model>> read_onnx(const std::filesystem::path& path) {
  static std::mutex mutex;  // one frontend instance, used one model at a time
  static ov::frontend::FrontEndManager* manager = nullptr;
  static ov::frontend::FrontEnd::Ptr onnx;
  std::lock_guard lock(mutex);
  try {
    if (!onnx) {
      if (manager == nullptr) manager = new ov::frontend::FrontEndManager();  // lives for the process
      onnx = manager->load_by_framework("onnx");
    }
  } catch (const std::exception& e) {
    return to_error(ErrorCode::BackendError, e, "OpenVINO's ONNX frontend does not load");
  }
  if (!onnx) return Error(ErrorCode::BackendError, "OpenVINO's ONNX frontend does not load");
  try {
    const auto input = onnx->load(path.string());
    if (!input) return Error(ErrorCode::Corrupt, "OpenVINO cannot read the ONNX model '" + path.string() + "'");
    auto model = onnx->convert(input);
    if (!model) return Error(ErrorCode::Corrupt, "OpenVINO cannot convert the ONNX model '" + path.string() + "'");
    return model;
  } catch (const std::exception& e) {
    return to_error(ErrorCode::Corrupt, e, "OpenVINO cannot read the ONNX model '" + path.string() + "'");
  }
}

std::optional<DType> as_aegis_dtype(const ov::element::Type& t) noexcept {
  switch (ov::element::Type_t(t)) {
    case ov::element::Type_t::f32: return DType::Float32;
    case ov::element::Type_t::f16: return DType::Float16;
    case ov::element::Type_t::bf16: return DType::BFloat16;
    case ov::element::Type_t::f64: return DType::Float64;
    case ov::element::Type_t::i8: return DType::Int8;
    case ov::element::Type_t::i16: return DType::Int16;
    case ov::element::Type_t::i32: return DType::Int32;
    case ov::element::Type_t::i64: return DType::Int64;
    case ov::element::Type_t::u8: return DType::UInt8;
    case ov::element::Type_t::u16: return DType::UInt16;
    case ov::element::Type_t::u32: return DType::UInt32;
    case ov::element::Type_t::u64: return DType::UInt64;
    case ov::element::Type_t::boolean: return DType::Bool;
    case ov::element::Type_t::string: return DType::String;
    case ov::element::Type_t::f8e4m3: return DType::Float8E4M3FN;
    case ov::element::Type_t::f8e5m2: return DType::Float8E5M2;
    case ov::element::Type_t::i4: return DType::Int4;
    case ov::element::Type_t::u4: return DType::UInt4;
    default: return std::nullopt;
  }
}

bool binds(DType t) noexcept {
  switch (t) {
    case DType::Float32:
    case DType::Float16:
    case DType::BFloat16:
    case DType::Int8:
    case DType::UInt8:
    case DType::Int32:
    case DType::Int64:
    case DType::Bool: return true;
    default: return false;  // see capabilities(): the CPU plugin computes wider types narrowed
  }
}

std::optional<DType> from_ov(const ov::element::Type& t) noexcept {
  const auto d = as_aegis_dtype(t);
  if (d && binds(*d)) return d;
  return std::nullopt;
}

ov::element::Type to_ov(DType t) noexcept {
  switch (t) {
    case DType::Float32: return ov::element::f32;
    case DType::Float16: return ov::element::f16;
    case DType::BFloat16: return ov::element::bf16;
    case DType::Int8: return ov::element::i8;
    case DType::UInt8: return ov::element::u8;
    case DType::Int32: return ov::element::i32;
    case DType::Int64: return ov::element::i64;
    case DType::Bool: return ov::element::boolean;
    default: return ov::element::dynamic;  // not bound (binds() is false)
  }
}

std::string condense(std::string_view what) {
  constexpr std::size_t kMax = 600;
  std::string out;
  std::size_t start = 0;
  while (start <= what.size()) {
    auto end = what.find('\n', start);
    if (end == std::string_view::npos) end = what.size();
    std::string_view line = what.substr(start, end - start);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
    // "Exception from src/...cpp:123:" only says where in OpenVINO's sources.
    if (!line.empty() && !line.starts_with("Exception from ")) {
      if (!out.empty()) out += " | ";
      out += line;
    }
    start = end + 1;
  }
  if (out.empty()) out = "(no message)";
  if (out.size() > kMax) out = out.substr(0, kMax) + "...";
  return out;
}

Error to_error(ErrorCode code, const std::exception& e, const std::string& context) {
  return Error(code, context + ": " + condense(e.what()));
}

std::string device_file_component(std::string_view device) {
  std::string out;
  for (char c : device) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '_');
  }
  return out.empty() ? std::string("device") : out;
}

}  // namespace aegisrt::ov_detail
