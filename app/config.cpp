#include "config.hpp"

#include <toml++/toml.h>
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "murmur/topology/catalogue.hpp"

namespace murmur::app {
namespace {

using common::errc;
using common::make_error;

// Reads one section, remembering the first error and the keys it used.
class section {
 public:
  section(const toml::table* t, std::string name, std::string file, std::string& error,
          const std::set<std::string>& overridden)
      : t_(t), name_(std::move(name)), file_(std::move(file)), error_(error), overridden_(overridden) {}

  template <class T>
  void number(const char* key, T& out, double lo, double hi, bool lo_open = false, bool hi_open = false) {
    const auto* n = find(key);
    if (!n) return;
    if (!n->is_number()) return fail(*n, key, "expected a number, got " + type_of(*n));
    const double v = n->value<double>().value_or(0);
    if (std::is_integral_v<T> && !n->is_integer()) return fail(*n, key, "expected an integer");
    if ((lo_open ? v <= lo : v < lo) || (hi_open ? v >= hi : v > hi))
      return fail(*n, key,
                  "must be in " + std::string(lo_open ? "(" : "[") + fmt(lo) + ", " + fmt(hi) + (hi_open ? ")" : "]") +
                      ", got " + fmt(v));
    out = static_cast<T>(v);
  }
  void boolean(const char* key, bool& out) {
    const auto* n = find(key);
    if (!n) return;
    if (!n->is_boolean()) return fail(*n, key, "expected true or false, got " + type_of(*n));
    out = n->value<bool>().value_or(out);
  }
  void text(const char* key, std::string& out) {
    const auto* n = find(key);
    if (!n) return;
    if (!n->is_string()) return fail(*n, key, "expected a string, got " + type_of(*n));
    out = n->value<std::string>().value_or(out);
  }
  // A string out of `allowed`; returns whether the key was given.
  bool choice(const char* key, std::string& out, const std::vector<std::string>& allowed) {
    const auto* n = find(key);
    if (!n) return false;
    std::string v;
    text(key, v);
    if (!error_.empty()) return false;
    if (std::ranges::find(allowed, v) == allowed.end()) {
      std::string known;
      for (const auto& a : allowed) known += (known.empty() ? "" : ", ") + a;
      fail(*n, key, "unknown value \"" + v + "\" (known: " + known + ")");
      return false;
    }
    out = v;
    return true;
  }
  template <class T>
  void numbers(const char* key, std::vector<T>& out, double lo, double hi) {
    const auto* n = find(key);
    if (!n) return;
    const auto* arr = n->as_array();
    if (!arr) return fail(*n, key, "expected an array of numbers, got " + type_of(*n));
    std::vector<T> v;
    for (const auto& e : *arr) {
      if (!e.is_number() || (std::is_integral_v<T> && !e.is_integer()))
        return fail(e, key, std::string("expected an array of ") + (std::is_integral_v<T> ? "integers" : "numbers"));
      const double x = e.value<double>().value_or(0);
      if (x < lo || x > hi) return fail(e, key, "entry " + fmt(x) + " is outside [" + fmt(lo) + ", " + fmt(hi) + "]");
      v.push_back(static_cast<T>(x));
    }
    out = std::move(v);
  }
  bool has(const char* key) const { return t_ && t_->contains(key); }

  // Unknown keys are errors.
  void finish() {
    if (!t_ || !error_.empty()) return;
    for (const auto& [k, v] : *t_) {
      if (used_.contains(std::string(k.str()))) continue;
      std::string known;
      for (const auto& u : used_) known += (known.empty() ? "" : ", ") + u;
      error_ = where(v, std::string(k.str())) + "[" + name_ + "] unknown key '" + std::string(k.str()) +
               "' (known: " + known + ")";
      return;
    }
  }

  // Registers the keys a section may have, so finish() can list them even when absent.
  void allow(std::initializer_list<const char*> keys) {
    for (auto k : keys) used_.insert(k);
  }

 private:
  const toml::node* find(const char* key) {
    used_.insert(key);
    if (!t_ || !error_.empty()) return nullptr;
    return t_->get(key);
  }
  std::string where(const toml::node& n, const std::string& key) const {
    if (overridden_.contains(name_ + "." + key)) return "--set " + name_ + "." + key + ": ";
    const auto& b = n.source().begin;
    return file_ + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) + ": ";
  }
  void fail(const toml::node& n, const char* key, const std::string& what) {
    if (error_.empty()) error_ = where(n, key) + "[" + name_ + "] " + key + ": " + what;
  }
  static std::string type_of(const toml::node& n) {
    std::ostringstream o;
    o << n.type();
    return o.str();
  }
  static std::string fmt(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
  }

  const toml::table* t_;
  std::string name_, file_;
  std::string& error_;
  const std::set<std::string>& overridden_;
  std::set<std::string> used_;
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

std::vector<std::string> model_names() { return nn::model_names(); }

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

  static const std::vector<std::string> sections{"run",      "data",    "model",  "optimizer", "protocol",
                                                 "topology", "network", "faults", "output"};
  for (const auto& [k, v] : root) {
    if (std::ranges::find(sections, std::string(k.str())) != sections.end() && v.is_table()) continue;
    const auto& b = v.source().begin;
    return make_error(errc::invalid_argument, path + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) +
                                                  ": unknown section '" + std::string(k.str()) +
                                                  "' (known: run, data, model, optimizer, protocol, topology, "
                                                  "network, faults, output)");
  }
  actors::settings s;
  std::string error;
  const auto open = [&](const char* name) {
    return section(root.get_as<toml::table>(name), name, path, error, overridden);
  };

  {
    auto r = open("run");
    r.number("seed", s.run.seed, 0, 9.0e15);
    r.number("epochs", s.run.epochs, 0, 1e6, true);
    r.number("rounds", s.run.rounds, 0, 1e12);
    std::string mode = "sync";
    r.choice("mode", mode, {"sync", "async"});
    s.run.mode = mode == "async" ? actors::run_mode::async : actors::run_mode::sync;
    r.number("threads", s.run.threads, 0, 1024);
    r.number("max_staleness", s.run.max_staleness, -1, 1e6);
    r.finish();
  }
  {
    auto d = open("data");
    d.choice("dataset", s.data.dataset, {"fashion-mnist", "mnist", "cifar10"});
    d.text("path", s.data.path);
    std::string scheme = "dirichlet";
    d.choice("partition", scheme, {"iid", "dirichlet", "shards", "skew"});
    s.data.partition.scheme = *nn::parse_partition_scheme(scheme);
    d.number("alpha", s.data.partition.alpha, 0, 1e6, true);
    d.number("skew", s.data.partition.skew, 0, 1);
    d.number("batch", s.data.batch, 1, 1e6);
    d.boolean("augment", s.data.augment);
    d.number("train_limit", s.data.train_limit, 0, 1e12);
    d.finish();
  }
  {
    auto m = open("model");
    m.choice("name", s.model.name, model_names());
    std::string norm = "batchnorm", precision = "f32";
    m.choice("norm", norm, {"batchnorm", "groupnorm", "evonorm", "range-evonorm"});
    s.model.norm = *nn::parse_norm(norm);
    m.number("groups", s.model.groups, 0, 4096);
    m.number("chunks", s.model.chunks, 1, 4096);
    m.choice("precision", precision, {"f32", "bf16"});
    s.model.precision = *nn::parse_precision(precision);
    m.finish();
  }
  {
    auto o = open("optimizer");
    o.number("lr", s.schedule.base_lr, 0, 1e3, true);
    o.number("momentum", s.optimizer.momentum, 0, 1, false, true);
    o.boolean("nesterov", s.optimizer.nesterov);
    o.number("weight_decay", s.optimizer.weight_decay, 0, 1);
    o.number("warmup_epochs", s.schedule.warmup_epochs, 0, 1e6);
    o.numbers("milestones", s.schedule.milestones, 0, 1e6);
    o.number("lr_decay", s.schedule.gamma, 0, 1, true);
    o.finish();
  }
  auto& p = s.protocol;
  {
    auto r = open("protocol");
    static const std::map<std::string, actors::algorithm_kind> algorithms{
        {"dsgd", actors::algorithm_kind::dsgd},
        {"all-reduce", actors::algorithm_kind::all_reduce},
        {"push-sum", actors::algorithm_kind::push_sum},
        {"choco", actors::algorithm_kind::choco},
        {"gut", actors::algorithm_kind::gut},
        {"gradient-tracking", actors::algorithm_kind::gradient_tracking},
        {"relaysum", actors::algorithm_kind::relaysum},
        {"ad-psgd", actors::algorithm_kind::ad_psgd},
        {"ngm", actors::algorithm_kind::ngm},
        {"ccl", actors::algorithm_kind::ccl}};
    std::vector<std::string> names;
    for (const auto& [k, v] : algorithms) names.push_back(k);
    std::string algorithm = "dsgd";
    r.choice("algorithm", algorithm, names);
    p.algorithm = algorithms.at(algorithm);
    std::string order = "adapt-then-combine";
    r.choice("order", order, {"parallel", "adapt-then-combine", "combine-then-adapt"});
    p.dsgd.order = order == "parallel"             ? protocols::step_order::parallel
                   : order == "combine-then-adapt" ? protocols::step_order::combine_then_adapt
                                                   : protocols::step_order::adapt_then_combine;
    std::string momentum = "local";
    r.choice("momentum", momentum, {"local", "quasi-global"});
    const auto mk =
        momentum == "quasi-global" ? protocols::momentum_kind::quasi_global : protocols::momentum_kind::local;
    p.dsgd.momentum = p.push_sum.momentum = p.ngm.momentum = mk;
    double qgm_mu = 0.9;
    std::int64_t qgm_period = 1;
    r.number("qgm_mu", qgm_mu, 0, 1, false, true);
    r.number("qgm_period", qgm_period, 1, 1e6);
    p.dsgd.qgm = p.ngm.qgm = p.ccl.qgm = {.mu = qgm_mu, .period = qgm_period};
    // γ: each algorithm's own default unless given.
    double gamma = 1.0;
    if (r.has("gamma")) {
      r.number("gamma", gamma, 0, 1, true);
      p.dsgd.gamma.initial = p.push_sum.gamma = p.choco.gamma = p.gut.gamma = p.ngm.gamma = p.ccl.gamma = gamma;
    } else {
      r.allow({"gamma"});
    }
    r.number("gamma_growth", p.dsgd.gamma.growth, 1, 10);
    std::string wire = "f32";
    r.choice("wire", wire, {"f32", "bf16", "f16"});
    p.dsgd.wire = wire == "bf16"  ? protocols::payload_encoding::dense_bf16
                  : wire == "f16" ? protocols::payload_encoding::dense_f16
                                  : protocols::payload_encoding::dense_f32;
    r.boolean("running_sums", p.push_sum.running_sums);
    r.boolean("overlap", p.push_sum.overlap);
    r.number("max_staleness", p.push_sum.max_staleness, 0, 1e6);
    static const std::map<std::string, protocols::compressor_kind> compressors{
        {"none", protocols::compressor_kind::none},         {"bf16", protocols::compressor_kind::bf16},
        {"f16", protocols::compressor_kind::f16},           {"top-k", protocols::compressor_kind::top_k},
        {"random-k", protocols::compressor_kind::random_k}, {"sign", protocols::compressor_kind::sign},
        {"qsgd", protocols::compressor_kind::qsgd}};
    std::vector<std::string> cnames;
    for (const auto& [k, v] : compressors) cnames.push_back(k);
    std::string compressor;
    protocols::compressor_options c;
    if (r.choice("compressor", compressor, cnames)) {
      c.kind = compressors.at(compressor);
      p.push_sum.compression = p.choco.compression = p.ngm.compression = c;
    }
    double keep = 0.01;
    std::uint32_t bits = 4;
    r.number("keep", keep, 0, 1, true);
    r.number("bits", bits, 1, 7);
    for (auto* o : {&p.push_sum.compression, &p.choco.compression, &p.ngm.compression}) {
      o->keep = keep;
      o->bits = bits;
    }
    r.boolean("error_feedback", p.push_sum.error_feedback);
    p.ngm.error_feedback = p.push_sum.error_feedback;
    r.number("switch_epoch", p.push_sum.switch_epoch, -1, 1e6);
    r.boolean("consensus_first", p.choco.consensus_first);
    r.number("mu", p.gut.mu, 0, 1);
    r.number("alpha", p.ngm.alpha, 0, 1);
    r.boolean("relay_gradients", p.relaysum.relay_gradients);
    r.boolean("update_reference", p.relaysum.update_reference);
    r.number("lambda_model", p.ccl_lambda_model, 0, 1e3);
    r.number("lambda_data", p.ccl_lambda_data, 0, 1e3);
    r.finish();
  }
  p.dsgd.accept_stale = s.run.mode == actors::run_mode::async;
  {
    auto t = open("topology");
    t.choice("kind", s.topology.kind, topology::graph_kinds());
    t.number("agents", s.topology.agents, 1, 100000);
    std::string weights = "auto";
    t.choice("weights", weights, {"auto", "mh", "uniform", "push", "choco"});
    t.number("degree", s.topology.degree, 1, 100000);
    t.number("p", s.topology.p, 0, 1, true);
    t.text("file", s.topology.file);
    t.finish();
    const bool directed = s.topology.kind == "directed-ring" || s.topology.kind == "exponential" ||
                          topology::time_varying(s.topology.kind);
    s.topology.weights = weights == "mh"        ? protocols::weight_rule::metropolis_hastings
                         : weights == "uniform" ? protocols::weight_rule::uniform
                         : weights == "push"    ? protocols::weight_rule::push
                         : weights == "choco"   ? protocols::weight_rule::choco
                         : directed             ? protocols::weight_rule::push
                                                : protocols::weight_rule::metropolis_hastings;
  }
  {
    auto n = open("network");
    std::string transport = "inproc";
    n.choice("transport", transport, {"inproc", "ipc", "tcp"});
    s.network.transport = transport == "tcp"   ? actors::transport_kind::tcp
                          : transport == "ipc" ? actors::transport_kind::ipc
                                               : actors::transport_kind::inproc;
    n.text("host", s.network.host);
    n.number("base_port", s.network.base_port, 1, 65535);
    n.number("queue", s.network.queue, 1, 1e6);
    n.number("timeout_ms", s.network.timeout_ms, 0, 1e9, true);
    n.number("processes", s.network.processes, 1, 1024);
    n.finish();
  }
  {
    auto f = open("faults");
    f.number("drop", s.faults.drop, 0, 1, false, true);
    f.number("delay_ms", s.faults.delay_ms, 0, 1e6);
    f.number("jitter_ms", s.faults.jitter_ms, 0, 1e6);
    f.number("duplicate", s.faults.duplicate, 0, 1);
    f.number("reorder", s.faults.reorder, 0, 1);
    f.number("bandwidth_mbps", s.faults.bandwidth_mbps, 0, 1e9);
    f.numbers("stragglers", s.faults.stragglers, 0, 1e6);
    f.number("slowdown", s.faults.slowdown, 1, 1e6);
    f.number("seed", s.faults.seed, 0, 9.0e15);
    f.finish();
  }
  {
    auto o = open("output");
    o.text("directory", s.output.directory);
    o.number("eval_every_epochs", s.output.eval_every_epochs, 0, 1e6, true);
    o.number("eval_samples", s.output.eval_samples, 0, 1e9);
    o.boolean("progress", s.output.progress);
    o.finish();
  }
  if (!error.empty()) return make_error(errc::invalid_argument, error);
  for (auto a : s.faults.stragglers)
    if (a >= s.topology.agents)
      return make_error(errc::invalid_argument, path + ": [faults] stragglers: agent " + std::to_string(a) +
                                                    " does not exist (agents = " + std::to_string(s.topology.agents) +
                                                    ")");
  if (auto ok = s.schedule.validate(); !ok)
    return make_error(errc::invalid_argument, path + ": [optimizer] " + ok.err().message);
  return s;
}

}  // namespace murmur::app

namespace murmur::app {
namespace {

const char* compressor_name(protocols::compressor_kind k) {
  switch (k) {
    case protocols::compressor_kind::none:
      return "none";
    case protocols::compressor_kind::bf16:
      return "bf16";
    case protocols::compressor_kind::f16:
      return "f16";
    case protocols::compressor_kind::top_k:
      return "top-k";
    case protocols::compressor_kind::random_k:
      return "random-k";
    case protocols::compressor_kind::sign:
      return "sign";
    case protocols::compressor_kind::qsgd:
      return "qsgd";
  }
  return "?";
}

const char* weights_name(protocols::weight_rule w) {
  switch (w) {
    case protocols::weight_rule::metropolis_hastings:
      return "mh";
    case protocols::weight_rule::uniform:
      return "uniform";
    case protocols::weight_rule::push:
      return "push";
    case protocols::weight_rule::choco:
      return "choco";
  }
  return "?";
}

// The γ, compressor and momentum that apply to the run's algorithm.
struct effective {
  double gamma;
  protocols::compressor_options compression;
};

effective effective_of(const actors::settings& s) {
  const auto& p = s.protocol;
  switch (p.algorithm) {
    case actors::algorithm_kind::push_sum:
      return {p.push_sum.gamma, p.push_sum.compression};
    case actors::algorithm_kind::choco:
      return {p.choco.gamma, p.choco.compression};
    case actors::algorithm_kind::gut:
      return {p.gut.gamma, {}};
    case actors::algorithm_kind::ngm:
      return {p.ngm.gamma, p.ngm.compression};
    case actors::algorithm_kind::ccl:
      return {p.ccl.gamma, {}};
    default:
      return {p.dsgd.gamma.initial, {}};
  }
}

}  // namespace

std::string to_toml(const actors::settings& s) {
  toml::table t;
  const auto& p = s.protocol;
  const auto e = effective_of(s);
  toml::array milestones, stragglers;
  for (double m : s.schedule.milestones) milestones.push_back(m);
  for (auto a : s.faults.stragglers) stragglers.push_back(a);
  const char* order = p.dsgd.order == protocols::step_order::parallel             ? "parallel"
                      : p.dsgd.order == protocols::step_order::combine_then_adapt ? "combine-then-adapt"
                                                                                  : "adapt-then-combine";
  const char* wire = p.dsgd.wire == protocols::payload_encoding::dense_bf16  ? "bf16"
                     : p.dsgd.wire == protocols::payload_encoding::dense_f16 ? "f16"
                                                                             : "f32";
  const char* transport = s.network.transport == actors::transport_kind::tcp   ? "tcp"
                          : s.network.transport == actors::transport_kind::ipc ? "ipc"
                                                                               : "inproc";
  t.insert("run", toml::table{{"seed", static_cast<std::int64_t>(s.run.seed)},
                              {"epochs", s.run.epochs},
                              {"rounds", s.run.rounds},
                              {"mode", s.run.mode == actors::run_mode::async ? "async" : "sync"},
                              {"max_staleness", s.run.max_staleness},
                              {"threads", s.run.threads}});
  t.insert("data", toml::table{{"dataset", s.data.dataset},
                               {"path", s.data.path},
                               {"partition", nn::to_string(s.data.partition.scheme)},
                               {"alpha", s.data.partition.alpha},
                               {"skew", s.data.partition.skew},
                               {"batch", s.data.batch},
                               {"augment", s.data.augment},
                               {"train_limit", s.data.train_limit}});
  t.insert("model", toml::table{{"name", s.model.name},
                                {"norm", nn::to_string(s.model.norm)},
                                {"groups", s.model.groups},
                                {"chunks", s.model.chunks},
                                {"precision", nn::to_string(s.model.precision)}});
  t.insert("optimizer", toml::table{{"lr", s.schedule.base_lr},
                                    {"momentum", s.optimizer.momentum},
                                    {"nesterov", s.optimizer.nesterov},
                                    {"weight_decay", s.optimizer.weight_decay},
                                    {"warmup_epochs", s.schedule.warmup_epochs},
                                    {"milestones", milestones},
                                    {"lr_decay", s.schedule.gamma}});
  t.insert(
      "protocol",
      toml::table{{"algorithm", actors::to_string(p.algorithm)},
                  {"order", order},
                  {"momentum", p.dsgd.momentum == protocols::momentum_kind::quasi_global ? "quasi-global" : "local"},
                  {"qgm_mu", p.dsgd.qgm.mu},
                  {"qgm_period", p.dsgd.qgm.period},
                  {"gamma", e.gamma},
                  {"gamma_growth", p.dsgd.gamma.growth},
                  {"wire", wire},
                  {"running_sums", p.push_sum.running_sums},
                  {"overlap", p.push_sum.overlap},
                  {"max_staleness", p.push_sum.max_staleness},
                  {"compressor", compressor_name(e.compression.kind)},
                  {"keep", e.compression.keep},
                  {"bits", static_cast<std::int64_t>(e.compression.bits)},
                  {"error_feedback", p.push_sum.error_feedback},
                  {"switch_epoch", p.push_sum.switch_epoch},
                  {"consensus_first", p.choco.consensus_first},
                  {"mu", p.gut.mu},
                  {"alpha", p.ngm.alpha},
                  {"relay_gradients", p.relaysum.relay_gradients},
                  {"update_reference", p.relaysum.update_reference},
                  {"lambda_model", p.ccl_lambda_model},
                  {"lambda_data", p.ccl_lambda_data}});
  t.insert("topology", toml::table{{"kind", s.topology.kind},
                                   {"agents", s.topology.agents},
                                   {"weights", weights_name(s.topology.weights)},
                                   {"degree", s.topology.degree},
                                   {"p", s.topology.p},
                                   {"file", s.topology.file}});
  t.insert("network", toml::table{{"transport", transport},
                                  {"host", s.network.host},
                                  {"base_port", s.network.base_port},
                                  {"queue", s.network.queue},
                                  {"timeout_ms", s.network.timeout_ms},
                                  {"processes", s.network.processes}});
  t.insert("faults", toml::table{{"drop", s.faults.drop},
                                 {"delay_ms", s.faults.delay_ms},
                                 {"jitter_ms", s.faults.jitter_ms},
                                 {"duplicate", s.faults.duplicate},
                                 {"reorder", s.faults.reorder},
                                 {"bandwidth_mbps", s.faults.bandwidth_mbps},
                                 {"stragglers", stragglers},
                                 {"slowdown", s.faults.slowdown},
                                 {"seed", static_cast<std::int64_t>(s.faults.seed)}});
  t.insert("output", toml::table{{"directory", s.output.directory},
                                 {"eval_every_epochs", s.output.eval_every_epochs},
                                 {"eval_samples", s.output.eval_samples},
                                 {"progress", s.output.progress}});
  std::ostringstream o;
  o << "# The resolved configuration of this run: every key, defaults included.\n" << t << "\n";
  return o.str();
}

}  // namespace murmur::app
