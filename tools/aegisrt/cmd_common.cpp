// Error reporting shared by all commands.
#include <iostream>

#include "cli_common.h"

namespace aegisrt::cli {

int report_error(const Error& e) {
  std::cerr << "error: " << e.to_string() << "\n";
  switch (e.code()) {
    case ErrorCode::InvalidArgument:
    case ErrorCode::NotFound:
    case ErrorCode::Unsupported:
    case ErrorCode::BudgetExceeded:
      return kExitInvalid;
    default:
      return kExitRuntime;
  }
}

}  // namespace aegisrt::cli
