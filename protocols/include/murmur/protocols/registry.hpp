#pragma once

// The algorithm registry: every algorithm a run can name, declared once with
// its options (and their per-algorithm defaults), what it needs of the graph
// and of the runtime, and its factory. The run configuration, the resolved
// configuration, configs/reference.toml, `murmur list algorithms` and the
// runtime's checks all read these entries.
//
// Adding an algorithm: its source (with its `*_entry()` function), its test,
// its config, and its line in registry.cpp (or register_algorithm() from
// outside the library).

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "murmur/common/enum_names.hpp"
#include "murmur/common/result.hpp"
#include "murmur/protocols/algorithm.hpp"
#include "murmur/protocols/compressor.hpp"

namespace murmur::protocols {

using option_value = std::variant<bool, std::int64_t, double, std::string>;

// One [protocol] key as an algorithm uses it.
struct option_spec {
  std::string name;
  option_value default_value;
  std::string help;
  double lo = 0, hi = 0;  // numbers: allowed range [lo, hi] (both 0: any)
  bool lo_open = false, hi_open = false;
  std::vector<std::string> choices;  // strings: the allowed values (empty: any)
};

// The [protocol] values of a run: whatever the configuration gave; the
// entry's defaults fill in the rest (get<T> of an undeclared key is a
// programmer error and aborts).
class option_values {
 public:
  void set(const std::string& name, option_value v) { values_[name] = std::move(v); }
  const std::map<std::string, option_value>& given() const { return values_; }
  bool operator==(const option_values&) const = default;

 private:
  std::map<std::string, option_value> values_;
};

// What the graph must be.
struct graph_needs {
  bool undirected = false;
  bool spanning_tree = false;
  bool exact_rounds = false;  // takes rounds on the complete graph (topology.exact_average_every)
  std::string trees_kind;  // a topology kind accepted instead of a spanning tree: a union of trees the algorithm knows
  std::string schedule;    // a required schedule kind ("" = any)
};

// What the runtime must provide besides gradients.
struct compute_needs {
  bool scratch_model = false;  // a second model for neighbours' models (cross-gradients, features)
  bool features = false;       // penultimate features and their loss term (f32 only)
};

// What a factory is given.
struct algorithm_inputs {
  agent_context context;
  sgd_options optimizer;  // the run's [optimizer]
  bool asynchronous = false;
  std::string graph_kind;                  // the run's [topology] kind
  std::int64_t classes = 0, features = 0;  // compute_needs::features: the model's shape
};

// The optimizer settings an algorithm runs with unless [optimizer] gives
// them: its authors' (each key given in [optimizer] or --set wins).
struct optimizer_defaults {
  std::optional<double> momentum;
  std::optional<bool> nesterov;
  std::optional<double> weight_decay;
  std::string source;  // where the authors set them (repository and file)
  bool empty() const { return !momentum && !nesterov && !weight_decay; }
};
// "momentum = 0, nesterov = false, weight_decay = 0 (source)"; "" when empty.
std::string to_string(const optimizer_defaults& d);

class algorithm_entry;

// Typed access to an entry's options for one run.
class option_reader {
 public:
  option_reader(const algorithm_entry& entry, const option_values& values) : entry_(entry), values_(values) {}
  bool boolean(const std::string& name) const { return std::get<bool>(value(name)); }
  std::int64_t integer(const std::string& name) const { return std::get<std::int64_t>(value(name)); }
  double number(const std::string& name) const;  // integers widen
  const std::string& text(const std::string& name) const { return std::get<std::string>(value(name)); }
  template <class E>
  E choice(const std::string& name) const;

 private:
  const option_value& value(const std::string& name) const;
  const algorithm_entry& entry_;
  const option_values& values_;
};

// A factory may refuse its inputs (an optimizer setting the algorithm has no use for).
using algorithm_factory =
    std::function<common::result<std::unique_ptr<algorithm>>(algorithm_inputs, const option_reader&)>;

class algorithm_entry {
 public:
  std::string name;
  std::string summary;  // one line: the paper's name and what it does
  std::string rejoin;   // what an agent that returns (restart, churn, pause) recovers, and what it cannot
  std::vector<option_spec> options;
  optimizer_defaults optimizer;  // what replaces the global [optimizer] defaults for this algorithm
  graph_needs graph;
  compute_needs compute;
  algorithm_factory make;

  const option_spec* option(std::string_view key) const;
  // The value of `key` for a run: given, or this entry's default. Aborts
  // when the entry does not declare `key` (a programmer error).
  const option_value& value_of(const option_values& values, const std::string& key) const;
  common::result<std::unique_ptr<algorithm>> create(algorithm_inputs inputs, const option_values& values) const;
};

// The built-in algorithms, then those registered.
const std::deque<algorithm_entry>& algorithms();
// Adds an algorithm defined outside protocols/ (a plugin, a test's toy).
// REQUIRES: called before any run reads the registry (entries are never
// moved, but the list is not guarded against concurrent readers).
common::status register_algorithm(algorithm_entry entry);
// nullptr when no algorithm has that name.
const algorithm_entry* find_algorithm(std::string_view name);
std::vector<std::string> algorithm_names();

// Options several algorithms share, declared once (with the caller's default).
option_spec gamma_option(double initial, std::string help = "consensus step γ");
option_spec momentum_option(std::string help = "local momentum or quasi-global momentum (QGM)");
std::vector<option_spec> qgm_option_specs();
std::vector<option_spec> compressor_options_of(std::string default_kind);
compressor_options read_compressor(const option_reader& o);

// The factory of an algorithm without [protocol] options: its options
// struct holding the run's optimizer.
template <class Options>
algorithm_factory optimizer_only(std::unique_ptr<algorithm> (*make)(agent_context, Options)) {
  return [make](algorithm_inputs in, const option_reader&) {
    return make(std::move(in.context), Options{.sgd = in.optimizer});
  };
}

template <class E>
E option_reader::choice(const std::string& name) const {
  return *common::from_name<E>(text(name));  // values were checked against the choices when set
}

}  // namespace murmur::protocols
