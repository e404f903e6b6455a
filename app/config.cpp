#include "config.hpp"

#include <toml++/toml.h>
#include <algorithm>
#include <set>
#include <sstream>

#include "murmur/actors/faults.hpp"
#include "murmur/common/enum_names.hpp"
#include "settings_schema.hpp"

namespace murmur::app {
namespace {

using common::errc;
using common::make_error;

// Where a value came from: file:line:column, or the --set that gave it.
class locator {
 public:
  locator(std::string file, const std::set<std::string>& overridden)
      : file_(std::move(file)), overridden_(overridden) {}
  std::string operator()(const toml::node& n, const std::string& section, const std::string& key) const {
    if (overridden_.contains(section + "." + key)) return "--set " + section + "." + key + ": ";
    const auto& b = n.source().begin;
    return file_ + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) + ": ";
  }

 private:
  std::string file_;
  const std::set<std::string>& overridden_;
};

// --set section.key=value: the value is read as TOML, or as a string if it is not TOML.
common::status apply_override(toml::table& root, const std::string& o, std::set<std::string>& overridden) {
  const auto eq = o.find('='), dot = o.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot > eq || dot == 0 || dot + 1 == eq)
    return make_error(errc::invalid_argument, "--set " + o + ": expected section.key=value");
  const auto sec = o.substr(0, dot), key = o.substr(dot + 1, eq - dot - 1), value = o.substr(eq + 1);
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
    parsed = toml::table{{"v", value}};
  }
  if (!root.contains(sec)) root.insert(sec, toml::table{});
  auto* t = root.get(sec)->as_table();
  if (!t) return make_error(errc::invalid_argument, "--set " + o + ": '" + sec + "' is not a section");
  t->insert_or_assign(key, *parsed.get("v"));
  overridden.insert(sec + "." + key);  // errors name the --set, not a line
  return {};
}

std::string unknown_key(const std::string& where, const std::string& section, const std::string& key,
                        std::vector<std::string> known) {
  std::ranges::sort(known);
  return where + "[" + section + "] unknown key '" + key + "' (known: " + common::join(known) + ")";
}

// The declared sections other than [protocol].
std::string read_sections(const toml::table& root, const locator& where, actors::settings& s) {
  for (const auto& section : section_names()) {
    if (section == "protocol") continue;
    const auto* t = root.get_as<toml::table>(section);
    if (!t) continue;
    std::vector<std::string> known;
    for (const auto& d : settings_schema())
      if (d.section == section) known.push_back(d.key);
    for (const auto& [k, v] : *t) {
      const std::string key(k.str());
      const auto d = std::ranges::find_if(settings_schema(),
                                          [&](const setting& x) { return x.section == section && x.key == key; });
      if (d == settings_schema().end()) return unknown_key(where(v, section, key), section, key, known);
      if (auto e = d->read(s, v); !e.empty()) return where(v, section, key) + "[" + section + "] " + key + ": " + e;
    }
  }
  return "";
}

// [protocol]: the algorithm, then the options its registry entry declares.
std::string read_protocol(const toml::table& root, const locator& where, actors::settings& s) {
  const auto* t = root.get_as<toml::table>("protocol");
  if (!t) return "";
  if (const auto* a = t->get("algorithm")) {
    protocols::option_value v;
    const protocols::option_spec spec{
        .name = "algorithm", .default_value = std::string("dsgd"), .choices = protocols::algorithm_names()};
    if (auto e = read_option(spec, *a, v); !e.empty())
      return where(*a, "protocol", "algorithm") + "[protocol] algorithm: " + e;
    s.protocol.algorithm = std::get<std::string>(v);
  }
  const auto& entry = *protocols::find_algorithm(s.protocol.algorithm);
  std::vector<std::string> known{"algorithm"};
  for (const auto& o : entry.options) known.push_back(o.name);
  for (const auto& [k, v] : *t) {
    const std::string key(k.str());
    if (key == "algorithm") continue;
    const auto at = where(v, "protocol", key);
    if (const auto* spec = entry.option(key)) {
      protocols::option_value value;
      if (auto e = read_option(*spec, v, value); !e.empty()) return at + "[protocol] " + key + ": " + e;
      s.protocol.options.set(key, std::move(value));
      continue;
    }
    std::vector<std::string> users;
    for (const auto& other : protocols::algorithms())
      if (other.option(key)) users.push_back(other.name);
    if (users.empty()) return unknown_key(at, "protocol", key, known);
    return at + "[protocol] " + key + " is not used by algorithm = \"" + entry.name +
           "\" (used by: " + common::join(users) + ")";
  }
  return "";
}

// The algorithm's own optimizer defaults, for the [optimizer] keys the
// configuration (file or --set) does not give.
void apply_optimizer_defaults(const toml::table& root, actors::settings& s) {
  const auto& d = protocols::find_algorithm(s.protocol.algorithm)->optimizer;
  const auto* given = root.get_as<toml::table>("optimizer");
  const auto free = [&](const char* key) { return !given || !given->contains(key); };
  if (d.momentum && free("momentum")) s.optimizer.momentum = *d.momentum;
  if (d.nesterov && free("nesterov")) s.optimizer.nesterov = *d.nesterov;
  if (d.weight_decay && free("weight_decay")) s.optimizer.weight_decay = *d.weight_decay;
}

common::status check(const std::string& path, const actors::settings& s) {
  for (auto a : s.faults.stragglers)
    if (a >= s.topology.agents)
      return make_error(errc::invalid_argument, path + ": [faults] stragglers: agent " + std::to_string(a) +
                                                    " does not exist (agents = " + std::to_string(s.topology.agents) +
                                                    ")");
  if (auto ok = actors::check_faults(s.faults, s.topology.agents); !ok)
    return make_error(errc::invalid_argument, path + ": " + ok.err().message);
  if (auto ok = s.schedule.validate(); !ok)
    return make_error(errc::invalid_argument, path + ": [optimizer] " + ok.err().message);
  if (auto ok = s.topology.consensus.validate(); !ok)
    return make_error(errc::invalid_argument, path + ": [topology] " + ok.err().message);
  return {};
}

// `key = value` padded to a column, then `# help`.
std::string line(const toml::table& one, const std::string& help, const std::string& prefix = "") {
  auto it = one.begin();
  auto text = prefix + std::string(it->first.str()) + " = " + value_text(it->second);
  if (help.empty()) return text + "\n";
  text.resize(std::max<std::size_t>(text.size() + 2, 28), ' ');
  return text + "# " + help + "\n";
}

}  // namespace

common::result<actors::settings> load_settings(const std::string& path, const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    if (b.line == 0) return make_error(errc::not_found, path + ": " + std::string(e.description()));
    return make_error(errc::invalid_argument, path + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) +
                                                  ": " + std::string(e.description()));
  }
  std::set<std::string> overridden;
  for (const auto& o : overrides)
    if (auto ok = apply_override(root, o, overridden); !ok) return ok.err();
  for (const auto& [k, v] : root) {
    if (std::ranges::find(section_names(), std::string(k.str())) != section_names().end() && v.is_table()) continue;
    const auto& b = v.source().begin;
    return make_error(errc::invalid_argument, path + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) +
                                                  ": unknown section '" + std::string(k.str()) +
                                                  "' (known: " + common::join(section_names()) + ")");
  }
  actors::settings s;
  const locator where(path, overridden);
  if (auto e = read_sections(root, where, s); !e.empty()) return make_error(errc::invalid_argument, e);
  if (auto e = read_protocol(root, where, s); !e.empty()) return make_error(errc::invalid_argument, e);
  apply_optimizer_defaults(root, s);
  // Consensus control's phases default to the lr schedule's (the paper's phases).
  if (auto& c = s.topology.consensus; c.milestones.empty() && c.targets.size() > 1)
    c.milestones = s.schedule.milestones;
  if (auto ok = check(path, s); !ok) return ok.err();
  return s;
}

std::string to_toml(const actors::settings& s) {
  toml::table t;
  for (const auto& section : section_names()) t.insert(section, toml::table{});
  for (const auto& d : settings_schema()) d.write(s, *t.get_as<toml::table>(d.section));
  auto& p = *t.get_as<toml::table>("protocol");
  p.insert("algorithm", s.protocol.algorithm);
  const auto& entry = *protocols::find_algorithm(s.protocol.algorithm);
  for (const auto& o : entry.options) write_option(o.name, entry.value_of(s.protocol.options, o.name), p);
  std::ostringstream out;
  out << "# The resolved configuration of this run: every key, defaults included.\n" << t << "\n";
  return out.str();
}

std::string reference_toml() {
  const actors::settings defaults;
  std::string out =
      "# Every key of a murmur run configuration, with its default and meaning\n"
      "# (written by `murmur run --help-config` from the declarations in\n"
      "# app/settings_schema.cpp and protocols/registry.hpp).\n"
      "# `murmur run FILE` reads a file like this one; any key may be left out (it\n"
      "# then takes the value shown) and any key may be overridden from the command\n"
      "# line with --set section.key=value. Unknown sections or keys, wrong types\n"
      "# and impossible values are errors naming the file, line and column.\n";
  for (const auto& section : section_names()) {
    out += "\n[" + section + "]\n";
    if (section == "protocol") {
      const auto& chosen = *protocols::find_algorithm(defaults.protocol.algorithm);
      toml::table one{{"algorithm", chosen.name}};
      out += line(one, common::join(protocols::algorithm_names(), " | "));
      const auto options_of = [&](const protocols::algorithm_entry& e, const std::string& prefix) {
        for (const auto& o : e.options) {
          toml::table kv;
          write_option(o.name, o.default_value, kv);
          out += line(kv, o.help + (o.choices.empty() ? "" : ": " + common::join(o.choices, " | ")), prefix);
        }
      };
      options_of(chosen, "");
      // The other algorithms' keys, to copy with their algorithm; a key the
      // chosen algorithm does not use is an error.
      for (const auto& e : protocols::algorithms()) {
        if (e.name == chosen.name) continue;
        out += "# algorithm = \"" + e.name + "\": " + e.summary + "\n";
        if (!e.optimizer.empty()) out += "#   (its [optimizer] defaults: " + to_string(e.optimizer) + ")\n";
        options_of(e, "#   ");
      }
      continue;
    }
    for (const auto& d : settings_schema()) {
      if (d.section != section) continue;
      toml::table kv;
      d.write(defaults, kv);
      out += line(kv, d.help);
    }
  }
  return out;
}

}  // namespace murmur::app
