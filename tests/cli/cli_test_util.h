// Running the built `aegisrt` binary from a test: the one copy of the helper
// every CLI test uses (tests/cli, tests/models, tests/pipeline, tests/backends).
// The per-test temporary folder is aegisrt::testing::TempDir (io/io_test_util.h).
// Header-only: AEGISRT_CLI_PATH is a compile definition of each CLI test target.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>

#include "aegisrt/core/file_util.h"
#include "io/io_test_util.h"

namespace aegisrt::testing {

struct CliRun {
  int exit_code = -1;  // -1: could not start, or ended by a signal
  std::string out;     // stdout (stdout and stderr with CliOptions::merge_stderr)
  std::string err;     // stderr (empty with merge_stderr)
};

struct CliOptions {
  /// Shell words before the binary: "env -u AEGISRT_MODELS_DIR ", "timeout -s KILL 30 ", ...
  std::string env_prefix;
  /// Appended after the redirections, e.g. " </dev/null".
  std::string suffix;
  /// Capture stderr together with stdout (2>&1) instead of in a file.
  bool merge_stderr = false;
};

/// `s` as one single-quoted shell word.
inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// Runs `<env_prefix><cli> <args>` through the shell (`args` are shell words,
/// quoted by the caller) and returns its exit code, stdout and stderr. Stderr
/// goes through `scratch`/stderr.txt, so `scratch` must be a folder the test owns.
inline CliRun run_cli_binary(const std::filesystem::path& cli, const std::string& args,
                             const std::filesystem::path& scratch, const CliOptions& options = {}) {
  const auto err_file = scratch / "stderr.txt";
  const std::string redirect = options.merge_stderr ? " 2>&1" : " 2>" + shell_quote(err_file.string());
  const std::string cmd = options.env_prefix + shell_quote(cli.string()) + " " + args + redirect + options.suffix;
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (!options.merge_stderr) {
    auto err = aegisrt::read_file(err_file, "CLI stderr");
    if (err.ok()) r.err = std::move(*err);
  }
  return r;
}

#if defined(AEGISRT_CLI_PATH)
/// run_cli_binary on the `aegisrt` binary of this build.
inline CliRun run_cli(const std::string& args, const std::filesystem::path& scratch,
                      const CliOptions& options = {}) {
  return run_cli_binary(AEGISRT_CLI_PATH, args, scratch, options);
}
inline CliRun run_cli(const std::string& args, const TempDir& scratch, const CliOptions& options = {}) {
  return run_cli(args, scratch.path(), options);
}
#endif

}  // namespace aegisrt::testing
