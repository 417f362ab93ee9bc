// run_process(): runs a child process (the TVM build script), streaming its
// stdout lines to a callback and keeping the tail of stderr for error messages.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/core/result.h"

namespace aegisrt::tvm_detail {

struct ProcessResult {
  int exit_code = -1;     // valid when !signalled
  bool signalled = false;
  int signal = 0;
  std::string stderr_tail;  // last few KiB
};

/// Spawns argv[0] (searched in PATH if it has no '/'), calls `on_stdout_line`
/// for every stdout line. IoError if it cannot be started.
Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const std::function<void(std::string_view)>& on_stdout_line);

}  // namespace aegisrt::tvm_detail
