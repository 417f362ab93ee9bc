// Error type shared by every AegisRT layer: a code, a human message and the
// context (what was being done, with which file/tensor) it happened in.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace aegisrt {

enum class ErrorCode : std::uint8_t {
  InvalidArgument,  // caller error: wrong shape, dtype, bad view, bad option
  FailedPrecondition,  // a call in the wrong state: execute() or memory estimate
                       // before load(), load() on a context not in state created, reset() of a
                       // context that is not faulted, execute() on a faulted one,
                       // unload()/reset() with calls in flight. The object is fine;
                       // the caller must change its state first (load, reset, wait).
  NotFound,         // missing file, model, tensor name, backend
  BackendError,     // the underlying runtime (ORT, TVM, TensorRT) failed
  BudgetExceeded,   // an ExecutionContext budget would be exceeded
  Timeout,          // waited too long for a lock / device / build
  Unsupported,      // feature/backend/provider not compiled in or not available
  Corrupt,          // a file exists but its content is wrong (truncated, foreign)
  Stale,            // a cached artefact no longer matches its inputs
  IoError,          // the OS refused a read/write
  CudaError,        // a CUDA runtime call failed
  Internal,         // a bug in AegisRT
};

/// Stable lower-case name, used in logs, JSON and CLI messages.
std::string_view to_string(ErrorCode code) noexcept;

class Error {
 public:
  Error(ErrorCode code, std::string message, std::string context = {})
      : code_(code), message_(std::move(message)), context_(std::move(context)) {}

  [[nodiscard]] ErrorCode code() const noexcept { return code_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  [[nodiscard]] const std::string& context() const noexcept { return context_; }

  /// Prepends an outer context ("loading yolo: " + inner context).
  [[nodiscard]] Error with_context(std::string_view outer) const;

  /// "invalid_argument: input 'images' has dtype int8, expected float32 [while: ...]"
  [[nodiscard]] std::string to_string() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::string context_;
};

std::ostream& operator<<(std::ostream& os, const Error& e);
std::ostream& operator<<(std::ostream& os, ErrorCode c);

}  // namespace aegisrt
