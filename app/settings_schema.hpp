#pragma once

// Every setting of a run, declared once (in the manner of CAF's option
// groups): section, key, type, default, allowed values and meaning. The
// configuration reader, the resolved configuration written next to the
// metrics, configs/reference.toml and `murmur run --help-config` all come
// from these declarations; [protocol] keys come from the algorithm registry
// (protocols/registry.hpp), each algorithm declaring the options it uses.

#include <functional>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "murmur/actors/settings.hpp"
#include "murmur/protocols/registry.hpp"

namespace murmur::app {

struct setting {
  std::string section, key, help;
  // Reads a TOML value into the settings; returns "" or what is wrong
  // ("expected a number, got string"), without the location.
  std::function<std::string(actors::settings&, const toml::node&)> read;
  // Inserts the current value under `key`.
  std::function<void(const actors::settings&, toml::table&)> write;
};

// In the order of configs/reference.toml. [protocol] is not among them.
const std::vector<setting>& settings_schema();
// The section names, in order ([protocol] included, after [optimizer]).
const std::vector<std::string>& section_names();

// A [protocol] value checked against its declaration.
std::string read_option(const protocols::option_spec& spec, const toml::node& n, protocols::option_value& out);
void write_option(const std::string& key, const protocols::option_value& v, toml::table& t);

// A value as a person writes it in TOML: shortest round-trip numbers, "strings".
std::string value_text(const toml::node& n);
std::string value_text(const protocols::option_value& v);

}  // namespace murmur::app
