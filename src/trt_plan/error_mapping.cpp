// TensorRT / CUDA failure -> ErrorCode tables and the TensorRT log collector.
#include "aegisrt/trt_plan/error_mapping.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace aegisrt::trt {

std::string_view to_string(TrtSeverity s) noexcept {
  switch (s) {
    case TrtSeverity::InternalError: return "internal_error";
    case TrtSeverity::Error: return "error";
    case TrtSeverity::Warning: return "warning";
    case TrtSeverity::Info: return "info";
    case TrtSeverity::Verbose: return "verbose";
  }
  return "unknown";
}

std::string_view to_string(TrtStage s) noexcept {
  switch (s) {
    case TrtStage::CreateRuntime: return "creating the TensorRT runtime";
    case TrtStage::Deserialize: return "deserialising the engine";
    case TrtStage::CreateContext: return "creating the execution context";
    case TrtStage::Parse: return "parsing the ONNX model";
    case TrtStage::Build: return "building the engine";
    case TrtStage::SetShape: return "setting input shapes";
    case TrtStage::Enqueue: return "enqueueing inference";
    case TrtStage::Calibrate: return "int8 calibration";
  }
  return "unknown stage";
}

namespace {

// Patterns come from messages TensorRT 8.6-11 log for these situations
// (e.g. "Serialization assertion magicTagRead == kMAGIC_TAG failed.Magic tag
// does not match", "The engine plan file is not compatible with this version
// of TensorRT, expecting library version ... got ...", "The engine plan file is
// generated on an incompatible device, expecting compute 8.6 got compute 7.5").
constexpr std::array kRules{
    TrtMessageRule{"magic tag", ErrorCode::Corrupt, "not a TensorRT engine (foreign or damaged file)"},
    TrtMessageRule{"magictag", ErrorCode::Corrupt, "not a TensorRT engine (foreign or damaged file)"},
    TrtMessageRule{"not compatible with this version of tensorrt", ErrorCode::Stale,
                   "engine built by another TensorRT version; rebuild it"},
    TrtMessageRule{"version tag does not match", ErrorCode::Stale,
                   "engine built by another TensorRT version; rebuild it"},
    TrtMessageRule{"serialization version", ErrorCode::Stale,
                   "engine built by another TensorRT version; rebuild it"},
    TrtMessageRule{"incompatible device", ErrorCode::Stale,
                   "engine built for another GPU; rebuild it on this device"},
    TrtMessageRule{"expecting compute", ErrorCode::Stale,
                   "engine built for another GPU; rebuild it on this device"},
    TrtMessageRule{"truncated", ErrorCode::Corrupt, "engine file is truncated"},
    TrtMessageRule{"size mismatch", ErrorCode::Corrupt, "engine file is truncated or damaged"},
    TrtMessageRule{"unexpected end", ErrorCode::Corrupt, "engine file is truncated"},
    TrtMessageRule{"could not find plugin", ErrorCode::Unsupported,
                   "the engine needs a TensorRT plugin library that is not loaded"},
    TrtMessageRule{"no importer registered for op", ErrorCode::Unsupported,
                   "the model uses an operator this TensorRT cannot import"},
    TrtMessageRule{"unsupported onnx", ErrorCode::Unsupported,
                   "the model uses an ONNX feature this TensorRT cannot import"},
    TrtMessageRule{"does not satisfy any optimization profile", ErrorCode::InvalidArgument,
                   "input shape is outside the engine's optimisation profile; rebuild with a wider "
                   "batch range / input sizes"},
    TrtMessageRule{"static dimension mismatch", ErrorCode::InvalidArgument,
                   "input shape differs from the engine's fixed dims"},
    TrtMessageRule{"out of memory", ErrorCode::CudaError, "out of device memory"},
    TrtMessageRule{"could not be allocated", ErrorCode::CudaError, "out of device memory"},
    TrtMessageRule{"cudaerrormemoryallocation", ErrorCode::CudaError, "out of device memory"},
    TrtMessageRule{"no cuda-capable device", ErrorCode::Unsupported, "no usable CUDA device"},
    TrtMessageRule{"cuda initialization failure", ErrorCode::Unsupported,
                   "CUDA driver/device not usable"},
    TrtMessageRule{"illegal memory access", ErrorCode::CudaError,
                   "CUDA context is lost; the process must be restarted"},
    TrtMessageRule{"cuda runtime", ErrorCode::CudaError, "a CUDA call inside TensorRT failed"},
};

bool contains_icase(std::string_view hay, std::string_view needle) {
  if (needle.empty() || needle.size() > hay.size()) return needle.empty();
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

}  // namespace

std::span<const TrtMessageRule> trt_message_rules() noexcept { return kRules; }

ErrorCode default_code_for(TrtStage stage) noexcept {
  switch (stage) {
    case TrtStage::CreateRuntime: return ErrorCode::Unsupported;
    case TrtStage::Deserialize: return ErrorCode::Corrupt;
    case TrtStage::SetShape: return ErrorCode::InvalidArgument;
    case TrtStage::CreateContext:
    case TrtStage::Parse:
    case TrtStage::Build:
    case TrtStage::Enqueue:
    case TrtStage::Calibrate: return ErrorCode::BackendError;
  }
  return ErrorCode::BackendError;
}

TrtClassification classify_trt_messages(TrtStage stage, std::span<const std::string> messages) {
  for (const auto& rule : kRules) {
    for (const auto& m : messages) {
      if (contains_icase(m, rule.needle)) return {rule.code, rule.hint};
    }
  }
  return {default_code_for(stage), {}};
}

Error make_trt_error(TrtStage stage, std::string_view what, std::span<const std::string> logged,
                     std::string_view context) {
  const auto c = classify_trt_messages(stage, logged);
  std::string msg(what);
  if (!logged.empty()) {
    // The last few errors carry the cause; earlier ones are usually repeats.
    const std::size_t first = logged.size() > 3 ? logged.size() - 3 : 0;
    msg += ": ";
    for (std::size_t i = first; i < logged.size(); ++i) {
      if (i > first) msg += " | ";
      msg += logged[i];
    }
  } else {
    msg += " (TensorRT logged no error)";
  }
  if (!c.hint.empty()) msg += " (" + std::string(c.hint) + ")";
  std::string ctx(to_string(stage));
  if (!context.empty()) ctx += " " + std::string(context);
  return Error(c.code, std::move(msg), std::move(ctx));
}

void TrtLogSink::record(TrtSeverity severity, std::string_view message) {
  if (severity <= forward_level_) {
    switch (severity) {
      case TrtSeverity::InternalError:
      case TrtSeverity::Error: spdlog::error("TensorRT: {}", message); break;
      case TrtSeverity::Warning: spdlog::warn("TensorRT: {}", message); break;
      case TrtSeverity::Info: spdlog::info("TensorRT: {}", message); break;
      case TrtSeverity::Verbose: spdlog::debug("TensorRT: {}", message); break;
    }
  }
  if (severity > TrtSeverity::Error) return;
  std::lock_guard lock(mutex_);
  if (errors_.size() >= kMaxKept) errors_.erase(errors_.begin());
  errors_.emplace_back(message);
}

std::vector<std::string> TrtLogSink::take_errors() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.swap(errors_);
  return out;
}

void TrtLogSink::clear() {
  std::lock_guard lock(mutex_);
  errors_.clear();
}

std::size_t TrtLogSink::error_count() const {
  std::lock_guard lock(mutex_);
  return errors_.size();
}

}  // namespace aegisrt::trt
