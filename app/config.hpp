#pragma once

// The run configuration: one TOML file (configs/reference.toml lists every
// key with its default) plus `--set section.key=value` overrides, read into
// actors::settings. Unknown sections and keys, wrong types and impossible
// values are errors that name the file, line and column (or the --set).

#include <string>
#include <vector>

#include "murmur/actors/settings.hpp"
#include "murmur/common/result.hpp"

namespace murmur::app {

common::result<actors::settings> load_settings(const std::string& path, const std::vector<std::string>& overrides);

// Every setting as TOML (the resolved configuration a run writes next to its
// metrics): [protocol] holds the algorithm and each of its options.
std::string to_toml(const actors::settings& s);

// configs/reference.toml: every key with its default and meaning, from the
// declarations (`murmur run --help-config` prints it).
std::string reference_toml();

}  // namespace murmur::app
