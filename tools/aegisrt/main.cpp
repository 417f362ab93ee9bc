// aegisrt: the command-line face of AegisRT.
#include <spdlog/sinks/stdout_color_sinks.h>  // declares stderr_color_mt too
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "cli_common.h"

int main(int argc, char** argv) {
  using namespace aegisrt::cli;
  // Every log line (the library's warnings, cache progress, "waiting for pid N"
  // lock messages) goes to stderr: stdout holds only the command's result,
  // e.g. the JSON object of --json. spdlog's default logger writes to stdout.
  spdlog::set_default_logger(spdlog::stderr_color_mt("aegisrt"));
  CLI::App app{"aegisrt: run vision models through TensorRT, ONNX Runtime and TVM"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("aegisrt ") + "0.1.0");
  CliContext ctx;
  if (const char* env = std::getenv("AEGISRT_MODELS_DIR")) ctx.models_dir = env;
  app.add_flag("-v,--verbose", ctx.verbosity, "More logging (-vv for debug)");
  app.add_option("--models-dir", ctx.models_dir,
                 "Folder of models/<name>/manifest.yaml (default: $AEGISRT_MODELS_DIR, "
                 "then the installed or source models/)")
      ->check([](const std::string& value) {
        // An explicitly empty value must not fall back to the default catalog.
        return value.empty() ? std::string("--models-dir is empty: give a folder, or leave the option out "
                                           "to use the default")
                             : std::string();
      });
  app.parse_complete_callback([&ctx] {
    spdlog::set_level(ctx.verbosity >= 2   ? spdlog::level::debug
                      : ctx.verbosity == 1 ? spdlog::level::info
                                           : spdlog::level::warn);
  });

  add_info_command(app, ctx);
  add_models_commands(app, ctx);
  add_cache_commands(app, ctx);
  add_pipeline_commands(app, ctx);
  add_exec_commands(app, ctx);
  add_serve_command(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 checks required options before unexpected arguments, so a
    // misspelt option ("--modle-file x") would be reported as the required
    // one missing. Name the unknown option instead.
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
      for (const auto& arg : app.remaining(true)) {
        if (arg.size() > 1 && arg[0] == '-') {
          std::cerr << "error: unknown option '" << arg << "' (see --help)\n";
          return kExitUsage;
        }
      }
    }
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  return ctx.exit_code;
}
