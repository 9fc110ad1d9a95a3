// Training configuration: one JSON tree whose defaults are the schema.
//
// Sources, later ones winning: the defaults below → a TOML file (`--config configs/x.toml`, sections
// [model] [data] [optim] [schedule] [run]) → command-line flags (`--epochs 5`, `--set optim.lr=0.05`).
// Every key a file or flag names must exist in the defaults (else UserError with the closest keys), and
// its value must have the default's type (an integer may stand for a float). The resolved tree is written
// to the run directory as config.json and is what a resumed run reads back.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace resnet::train {

using Config = nlohmann::json;

Config default_config();

// Merges `overrides` into `config`, checking keys and types; `origin` names the source in errors
// ("configs/x.toml", "--set").
void merge_config(Config& config, const Config& overrides, const std::string& origin);

// Reads a TOML file into a JSON tree (no schema check; merge_config does that).
Config read_toml_config(const std::string& path);

// Applies one "section.key=value" assignment. The value is read as JSON when it parses (numbers, true,
// [1, 2], "text"), else as a bare string.
void set_config_value(Config& config, const std::string& assignment);

// Checks every value against its allowed range and form (positive batch size, momentum in [0, 1), known
// schedule kinds, numeric ascending milestones, a bounded number of loader threads …). Throws UserError
// naming the setting, the value and what is allowed. train() and resume() call it on the resolved tree,
// so no setting is read anywhere before it has passed here.
void validate_config(const Config& config);

// A value by dotted path ("optim.lr"); throws CheckError when absent (the schema guarantees presence).
const nlohmann::json& config_at(const Config& config, const std::string& dotted);

}  // namespace resnet::train
