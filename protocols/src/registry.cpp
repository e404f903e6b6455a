#include "murmur/protocols/registry.hpp"

#include <sstream>

#include <cstdio>
#include <cstdlib>
#include <deque>

#include "murmur/protocols/algorithms.hpp"

namespace murmur::protocols {

// Each entry is defined beside its algorithm; one line here registers it.
algorithm_entry dsgd_entry();
algorithm_entry all_reduce_entry();
algorithm_entry push_sum_entry();
algorithm_entry choco_entry();
algorithm_entry gut_entry();
algorithm_entry gradient_tracking_entry();
algorithm_entry relaysum_entry();
algorithm_entry ad_psgd_entry();
algorithm_entry ngm_entry();
algorithm_entry ccl_entry();
algorithm_entry d2_entry();
algorithm_entry momentum_tracking_entry();

namespace {

std::deque<algorithm_entry>& registry() {
  static std::deque<algorithm_entry> all{
      dsgd_entry(),     all_reduce_entry(), push_sum_entry(), choco_entry(), gut_entry(), gradient_tracking_entry(),
      relaysum_entry(), ad_psgd_entry(),    ngm_entry(),      ccl_entry(),   d2_entry(),  momentum_tracking_entry(),
  };
  return all;
}

}  // namespace

const std::deque<algorithm_entry>& algorithms() { return registry(); }

common::status register_algorithm(algorithm_entry entry) {
  if (entry.name.empty() || !entry.make)
    return common::make_error(common::errc::invalid_argument, "an algorithm needs a name and a factory");
  if (find_algorithm(entry.name))
    return common::make_error(common::errc::invalid_argument, "algorithm \"" + entry.name + "\" exists already");
  registry().push_back(std::move(entry));
  return {};
}

const algorithm_entry* find_algorithm(std::string_view name) {
  for (const auto& e : algorithms())
    if (e.name == name) return &e;
  return nullptr;
}

std::vector<std::string> algorithm_names() {
  std::vector<std::string> out;
  for (const auto& e : algorithms()) out.push_back(e.name);
  return out;
}

const option_spec* algorithm_entry::option(std::string_view key) const {
  for (const auto& o : options)
    if (o.name == key) return &o;
  return nullptr;
}

const option_value& algorithm_entry::value_of(const option_values& values, const std::string& key) const {
  if (auto it = values.given().find(key); it != values.given().end()) return it->second;
  const auto* spec = option(key);
  if (!spec) {
    std::fprintf(stderr, "murmur: algorithm %s has no option %s\n", name.c_str(), key.c_str());
    std::abort();
  }
  return spec->default_value;
}

common::result<std::unique_ptr<algorithm>> algorithm_entry::create(algorithm_inputs inputs,
                                                                   const option_values& values) const {
  for (const auto& [key, v] : values.given())
    if (!option(key))
      return common::make_error(common::errc::invalid_argument,
                                "[protocol] " + key + " is not an option of algorithm \"" + name + "\"");
  return make(std::move(inputs), option_reader(*this, values));
}

const option_value& option_reader::value(const std::string& name) const { return entry_.value_of(values_, name); }

double option_reader::number(const std::string& name) const {
  const auto& v = value(name);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  return std::get<double>(v);
}

std::string to_string(const optimizer_defaults& d) {
  if (d.empty()) return "";
  std::vector<std::string> parts;
  const auto number = [](double v) {
    std::ostringstream o;
    o << v;
    return o.str();
  };
  if (d.momentum) parts.push_back("momentum = " + number(*d.momentum));
  if (d.nesterov) parts.push_back(std::string("nesterov = ") + (*d.nesterov ? "true" : "false"));
  if (d.weight_decay) parts.push_back("weight_decay = " + number(*d.weight_decay));
  return common::join(parts) + (d.source.empty() ? "" : " (" + d.source + ")");
}

option_spec gamma_option(double initial, std::string help) {
  return {.name = "gamma", .default_value = initial, .help = std::move(help), .lo = 0, .hi = 1, .lo_open = true};
}

option_spec momentum_option(std::string help) {
  return {.name = "momentum",
          .default_value = std::string("local"),
          .help = std::move(help),
          .choices = common::names_list<momentum_kind>()};
}

std::vector<option_spec> qgm_option_specs() {
  return {{.name = "qgm_mu",
           .default_value = 0.9,
           .help = "QGM: EMA factor of the total update",
           .lo = 0,
           .hi = 1,
           .hi_open = true},
          {.name = "qgm_period",
           .default_value = std::int64_t{1},
           .help = "QGM: rounds per buffer update",
           .lo = 1,
           .hi = 1e6}};
}

std::vector<option_spec> compressor_options_of(std::string default_kind) {
  return {{.name = "compressor",
           .default_value = std::move(default_kind),
           .help = "per-tensor compressor",
           .choices = common::names_list<compressor_kind>()},
          {.name = "keep",
           .default_value = 0.01,
           .help = "top-k / random-k: fraction kept per tensor",
           .lo = 0,
           .hi = 1,
           .lo_open = true},
          {.name = "bits", .default_value = std::int64_t{4}, .help = "qsgd: bits per level", .lo = 1, .hi = 7}};
}

compressor_options read_compressor(const option_reader& o) {
  return {.kind = o.choice<compressor_kind>("compressor"),
          .keep = o.number("keep"),
          .bits = static_cast<std::uint32_t>(o.integer("bits"))};
}

}  // namespace murmur::protocols
