// resnet — the one command-line tool of resnet.cpp.
#include <cstdio>

#include "commands.h"
#include "resnet/core/check.h"

int main(int argc, char** argv) {
  CLI::App app{"resnet.cpp: define, train, evaluate and run deep residual networks on the CPU"};
  app.require_subcommand(1);
  resnet::cli::add_demo_command(app);
  resnet::cli::add_info_command(app);
  resnet::cli::add_model_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const resnet::UserError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const resnet::CheckError& e) {
    std::fprintf(stderr, "internal error (please report): %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
