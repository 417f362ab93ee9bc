// aegisrt: the command-line face of AegisRT.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "cli_common.h"

int main(int argc, char** argv) {
  using namespace aegisrt::cli;
  CLI::App app{"aegisrt: run vision models through TensorRT, ONNX Runtime and TVM"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("aegisrt ") + "0.1.0");
  CliContext ctx;
  if (const char* env = std::getenv("AEGISRT_MODELS_DIR")) ctx.models_dir = env;
  app.add_flag("-v,--verbose", ctx.verbosity, "More logging (-vv for debug)");
  app.add_option("--models-dir", ctx.models_dir,
                 "Folder of models/<name>/manifest.yaml (default: $AEGISRT_MODELS_DIR, "
                 "then the installed or source models/)");
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
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  return ctx.exit_code;
}
