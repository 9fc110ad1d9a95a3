// Subcommands of the `resnet` tool. Each registers its options on the CLI11 app and runs when chosen.
#pragma once

#include <CLI/CLI.hpp>

namespace resnet::cli {

void add_demo_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_model_commands(CLI::App& app);  // models, forward

}  // namespace resnet::cli
