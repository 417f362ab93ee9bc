// Placeholder until this command group lands (owned by its issue).
#include "cli_common.h"

namespace aegisrt::cli {
void add_exec_commands(CLI::App& /*app*/, CliContext& /*ctx*/) {}
}  // namespace aegisrt::cli
