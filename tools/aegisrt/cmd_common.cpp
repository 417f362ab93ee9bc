// Error reporting shared by all commands.
#include <cstdlib>
#include <iostream>
#include <string>

#include "cli_common.h"

namespace aegisrt::cli {

void add_lock_timeout_option(CLI::App* cmd) {
  cmd->add_option_function<double>(
         "--lock-timeout",
         [](const double& seconds) {
           ::setenv("AEGISRT_LOCK_TIMEOUT", std::to_string(seconds).c_str(), 1);
         },
         "Seconds to wait for another process building the same cache entry (default: "
         "$AEGISRT_LOCK_TIMEOUT, else 1800)")
      ->check(CLI::PositiveNumber);
}

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
