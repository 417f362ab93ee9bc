// Shared state and helpers for the aegisrt CLI's commands. Each command group
// lives in its own cmd_*.cpp and is added to the app in main.cpp.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>

#include "aegisrt/core/error.h"

namespace aegisrt::cli {

/// Documented exit codes (README "Exit codes").
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,       // the command ran and found a problem (e.g. compare mismatch)
  kExitUsage = 2,         // bad flags (CLI11)
  kExitInvalid = 3,       // invalid selection / input (InvalidArgument, NotFound, Unsupported)
  kExitRuntime = 4,       // backend / IO / corrupt file error
};

struct CliContext {
  int exit_code = kExitOk;
  int verbosity = 0;               // -v, -vv
  std::string models_dir;          // --models-dir / AEGISRT_MODELS_DIR
};

/// Adds `--lock-timeout SECONDS` (how long to wait for another process's
/// build lock on a cache entry); it sets $AEGISRT_LOCK_TIMEOUT, which every
/// ArtifactCache reads (default 30 minutes).
void add_lock_timeout_option(CLI::App* cmd);

/// Maps an Error to an exit code and prints "error: ..." to stderr.
int report_error(const Error& e);

// One function per command group; each adds its subcommands to `app`.
void add_info_command(CLI::App& app, CliContext& ctx);
void add_models_commands(CLI::App& app, CliContext& ctx);    // models, validate
void add_cache_commands(CLI::App& app, CliContext& ctx);     // cache, build
void add_pipeline_commands(CLI::App& app, CliContext& ctx);  // run, bench
void add_exec_commands(CLI::App& app, CliContext& ctx);      // exec, compare
void add_serve_command(CLI::App& app, CliContext& ctx);      // serve (cmd_serve.cpp, Triton)

}  // namespace aegisrt::cli
