// resnet — the one command-line tool of resnet.cpp.
#include <cstdio>

#include "commands.h"
#include "resnet/core/check.h"
#include "resnet/core/suggest.h"
#include "resnet/version.h"

namespace {

// CLI11 reports unknown arguments without alternatives; name the closest valid flag or subcommand.
std::string suggestions(CLI::App& app) {
  CLI::App* where = &app;
  for (;;) {
    auto chosen = where->get_subcommands();
    if (chosen.empty()) break;
    where = chosen.front();
  }
  std::vector<std::string> names;
  if (where == &app) {
    for (const auto* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  } else {
    for (const auto* opt : where->get_options())
      for (const auto& n : opt->get_lnames()) names.push_back("--" + n);
  }
  std::string out;
  for (const auto& arg : where->remaining()) {
    if (where != &app && arg.rfind("-", 0) != 0) continue;
    out +=
        "\n  '" + arg + "': did you mean " + resnet::closest_names(arg.substr(0, arg.find('=')), names) + "?";
  }
  if (!out.empty())
    out += "\n  (`resnet " + (where == &app ? std::string() : where->get_name() + " ") +
           "--help` lists them all)";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"resnet.cpp: define, train, evaluate and run deep residual networks on the CPU"};
  app.require_subcommand(1);
  // `resnet --version` prints "resnet.cpp 0.1.0" and exits 0 (CLI11 throws CallForVersion, handled below).
  app.set_version_flag("--version", std::string("resnet.cpp ") + resnet::version());
  resnet::cli::add_train_command(app);
  resnet::cli::add_eval_commands(app);
  resnet::cli::add_images_command(app);
  resnet::cli::add_info_command(app);
  resnet::cli::add_model_commands(app);
  resnet::cli::add_study_commands(app);
  resnet::cli::add_convert_command(app);
  resnet::cli::add_interchange_commands(app);
  resnet::cli::add_quantize_command(app);
  resnet::cli::add_explain_command(app);
  resnet::cli::add_attack_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ExtrasError& e) {
    std::fprintf(stderr, "error: %s%s\n", e.what(), suggestions(app).c_str());
    return 2;
  } catch (const CLI::ParseError& e) {
    if (app.get_subcommands().empty() && argc > 1 && argv[1][0] != '-') {
      std::vector<std::string> commands;
      for (const auto* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
      std::fprintf(stderr, "error: unknown command '%s': did you mean %s? (`resnet --help` lists them all)\n",
                   argv[1], resnet::closest_names(argv[1], commands).c_str());
      return 2;
    }
    // --help and --version are "errors" to CLI11 that exit 0; every real parse error is bad usage: 2.
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
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
  return resnet::cli::exit_status();
}
