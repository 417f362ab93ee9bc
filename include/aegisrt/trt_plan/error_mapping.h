// How TensorRT and CUDA failures become AegisRT Errors: a table from
// TensorRT log-message patterns to ErrorCode (a foreign engine is Corrupt, an
// engine from another TensorRT or GPU is Stale, ...), a per-stage default, a
// table of CUDA runtime error codes, and TrtLogSink, the collector our
// nvinfer1::ILogger forwards to so errors come back inside the Result.
// Needs no TensorRT headers; always compiled and unit-tested.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/core/error.h"

namespace aegisrt::trt {

/// Mirrors nvinfer1::ILogger::Severity (same order and values).
enum class TrtSeverity : std::int32_t { InternalError = 0, Error = 1, Warning = 2, Info = 3, Verbose = 4 };
std::string_view to_string(TrtSeverity s) noexcept;

/// What AegisRT was doing when TensorRT failed.
enum class TrtStage : std::uint8_t {
  CreateRuntime,
  Deserialize,
  CreateContext,
  Parse,
  Build,
  SetShape,
  Enqueue,
  Calibrate,
};
std::string_view to_string(TrtStage s) noexcept;

struct TrtMessageRule {
  std::string_view needle;  // matched case-insensitively as a substring
  ErrorCode code;
  std::string_view hint;    // appended to the message for the user
};

/// The rules, most specific first.
std::span<const TrtMessageRule> trt_message_rules() noexcept;

/// The code used when no rule matches (e.g. Deserialize -> Corrupt, Build ->
/// BackendError, CreateRuntime -> Unsupported).
ErrorCode default_code_for(TrtStage stage) noexcept;

struct TrtClassification {
  ErrorCode code;
  std::string_view hint;  // empty when only the stage default applied
};
/// The first rule (in table order) that matches any of `messages`, else the
/// stage default.
TrtClassification classify_trt_messages(TrtStage stage, std::span<const std::string> messages);

/// "<what>: <last logged error> (<hint>)", code from classify_trt_messages,
/// context "<stage> <context>".
Error make_trt_error(TrtStage stage, std::string_view what, std::span<const std::string> logged,
                     std::string_view context);

/// Thread-safe collector of TensorRT log messages. Errors (Error and
/// InternalError) are kept until taken; everything at or above the forward
/// level is also sent to spdlog.
class TrtLogSink {
 public:
  explicit TrtLogSink(TrtSeverity forward_level = TrtSeverity::Warning) noexcept
      : forward_level_(forward_level) {}

  void record(TrtSeverity severity, std::string_view message);
  /// Returns and clears the kept errors.
  [[nodiscard]] std::vector<std::string> take_errors();
  void clear();
  [[nodiscard]] std::size_t error_count() const;
  /// Kept errors are capped (oldest dropped) so a noisy build cannot grow unbounded.
  static constexpr std::size_t kMaxKept = 64;

 private:
  TrtSeverity forward_level_;
  mutable std::mutex mutex_;
  std::vector<std::string> errors_;
};

}  // namespace aegisrt::trt
