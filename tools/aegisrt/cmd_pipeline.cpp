// Placeholder until this command group lands (owned by its issue).
#include "cli_common.h"

namespace aegisrt::cli {
void add_pipeline_commands(CLI::App& /*app*/, CliContext& /*ctx*/) {}
}  // namespace aegisrt::cli
