// Error formatting.
#include "aegisrt/core/error.h"

namespace aegisrt {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::InvalidArgument: return "invalid_argument";
    case ErrorCode::FailedPrecondition: return "failed_precondition";
    case ErrorCode::NotFound: return "not_found";
    case ErrorCode::BackendError: return "backend_error";
    case ErrorCode::BudgetExceeded: return "budget_exceeded";
    case ErrorCode::Timeout: return "timeout";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::Corrupt: return "corrupt";
    case ErrorCode::Stale: return "stale";
    case ErrorCode::IoError: return "io_error";
    case ErrorCode::CudaError: return "cuda_error";
    case ErrorCode::Internal: return "internal";
  }
  return "unknown";
}

Error Error::with_context(std::string_view outer) const {
  std::string ctx(outer);
  if (!context_.empty()) {
    ctx += ": ";
    ctx += context_;
  }
  return Error(code_, message_, std::move(ctx));
}

std::string Error::to_string() const {
  std::string s(aegisrt::to_string(code_));
  s += ": ";
  s += message_;
  if (!context_.empty()) {
    s += " [while ";
    s += context_;
    s += "]";
  }
  return s;
}

std::ostream& operator<<(std::ostream& os, const Error& e) { return os << e.to_string(); }
std::ostream& operator<<(std::ostream& os, ErrorCode c) { return os << to_string(c); }

}  // namespace aegisrt
