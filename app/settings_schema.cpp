#include "settings_schema.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <type_traits>

#include "murmur/common/enum_names.hpp"
#include "murmur/nn/model.hpp"
#include "murmur/topology/catalogue.hpp"

namespace murmur::app {
namespace {

struct range {
  double lo = -9.0e15, hi = 9.0e15;
  bool lo_open = false, hi_open = false;
};
constexpr range unit{0, 1};                       // [0, 1]
constexpr range unit_open_hi{0, 1, false, true};  // [0, 1)
constexpr range positive{0, 1e6, true};           // (0, 1e6]

std::string fmt(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

std::string type_of(const toml::node& n) {
  std::ostringstream o;
  o << n.type();
  return o.str();
}

std::string check_range(double v, const range& r) {
  if ((r.lo_open ? v <= r.lo : v < r.lo) || (r.hi_open ? v >= r.hi : v > r.hi))
    return "must be in " + std::string(r.lo_open ? "(" : "[") + fmt(r.lo) + ", " + fmt(r.hi) + (r.hi_open ? ")" : "]") +
           ", got " + fmt(v);
  return "";
}

std::string check_choice(const std::string& v, const std::vector<std::string>& allowed) {
  if (allowed.empty() || std::ranges::find(allowed, v) != allowed.end()) return "";
  return "unknown value \"" + v + "\" (known: " + common::join(allowed) + ")";
}

template <class T>
constexpr bool is_list = false;
template <class T>
constexpr bool is_list<std::vector<T>> = true;

// TOML -> T, checked against the range or the allowed strings.
template <class T>
std::string read_value(const toml::node& n, T& out, const range& r, const std::vector<std::string>& allowed) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!n.is_boolean()) return "expected true or false, got " + type_of(n);
    out = *n.value<bool>();
  } else if constexpr (std::is_arithmetic_v<T>) {
    if (!n.is_number()) return "expected a number, got " + type_of(n);
    if (std::is_integral_v<T> && !n.is_integer()) return "expected an integer";
    const double v = *n.value<double>();
    if (auto e = check_range(v, r); !e.empty()) return e;
    if constexpr (std::is_integral_v<T>)
      out = static_cast<T>(*n.value<std::int64_t>());
    else
      out = static_cast<T>(v);
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!n.is_string()) return "expected a string, got " + type_of(n);
    const auto v = *n.value<std::string>();
    if (auto e = check_choice(v, allowed); !e.empty()) return e;
    out = v;
  } else if constexpr (std::is_enum_v<T>) {
    std::string name;
    if (auto e = read_value(n, name, r, common::names_list<T>()); !e.empty()) return e;
    out = *common::from_name<T>(name);
  } else if constexpr (is_list<T>) {
    using E = typename T::value_type;
    const auto* arr = n.as_array();
    const char* what = std::is_integral_v<E> ? "integers" : "numbers";
    if (!arr) return std::string("expected an array of ") + what + ", got " + type_of(n);
    T v;
    for (const auto& e : *arr) {
      if (!e.is_number() || (std::is_integral_v<E> && !e.is_integer()))
        return std::string("expected an array of ") + what;
      const double x = *e.value<double>();
      if (!check_range(x, r).empty()) return "entry " + fmt(x) + " is outside [" + fmt(r.lo) + ", " + fmt(r.hi) + "]";
      v.push_back(std::is_integral_v<E> ? static_cast<E>(*e.value<std::int64_t>()) : static_cast<E>(x));
    }
    out = std::move(v);
  }
  return "";
}

template <class T>
void write_value(const std::string& key, const T& v, toml::table& t) {
  if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string> || std::is_same_v<T, double>) {
    t.insert_or_assign(key, v);
  } else if constexpr (std::is_arithmetic_v<T>) {
    t.insert_or_assign(key, static_cast<std::int64_t>(v));
  } else if constexpr (std::is_enum_v<T>) {
    t.insert_or_assign(key, std::string(common::name_of(v)));
  } else if constexpr (is_list<T>) {
    toml::array a;
    for (const auto& x : v) {
      if constexpr (std::is_integral_v<typename T::value_type>)
        a.push_back(static_cast<std::int64_t>(x));
      else
        a.push_back(static_cast<double>(x));
    }
    t.insert_or_assign(key, std::move(a));
  }
}

// Arrays of tables ([[faults.partition]] and the like): each entry's keys
// are read by name, and an entry with an unknown key is refused.
class entry_reader {
 public:
  entry_reader(const toml::node& n, std::size_t index) : t_(n.as_table()), index_(index) {}
  bool is_table() const { return t_ != nullptr; }
  // Reads `key` (absent: `out` keeps its default unless `required`).
  template <class T>
  entry_reader& get(const char* key, T& out, range r = {}, bool required = false) {
    if (!error_.empty()) return *this;
    seen_.emplace_back(key);
    const auto* v = t_->get(key);
    if (!v) {
      if (required) error_ = where() + "'" + key + "' is missing";
      return *this;
    }
    if (auto e = read_value(*v, out, r, {}); !e.empty()) error_ = where() + key + ": " + e;
    return *this;
  }
  // A list of lists of integers (a partition's groups).
  entry_reader& groups(const char* key, std::vector<std::vector<std::int64_t>>& out, range r) {
    if (!error_.empty()) return *this;
    seen_.emplace_back(key);
    const auto* v = t_->get(key);
    const auto* a = v ? v->as_array() : nullptr;
    if (!a) {
      error_ = where() + key + ": expected an array of arrays of agents, [[0, 1], [2, 3]]";
      return *this;
    }
    out.clear();
    for (const auto& g : *a) {
      std::vector<std::int64_t> one;
      if (auto e = read_value(g, one, r, {}); !e.empty()) {
        error_ = where() + key + ": " + e;
        return *this;
      }
      out.push_back(std::move(one));
    }
    return *this;
  }
  // "" when every key was known and read.
  std::string finish() {
    if (!error_.empty()) return error_;
    for (const auto& [k, v] : *t_)
      if (std::ranges::find(seen_, std::string(k.str())) == seen_.end())
        return where() + "unknown key '" + std::string(k.str()) + "' (known: " + common::join(seen_) + ")";
    return "";
  }

 private:
  std::string where() const { return "entry " + std::to_string(index_ + 1) + ": "; }
  const toml::table* t_;
  std::size_t index_;
  std::vector<std::string> seen_;
  std::string error_;
};

template <class T, class F>
std::string read_entries(const toml::node& n, std::vector<T>& out, F one) {
  const auto* a = n.as_array();
  if (!a) return "expected an array of tables ([[...]] blocks), got " + type_of(n);
  std::vector<T> v;
  for (std::size_t i = 0; i < a->size(); ++i) {
    entry_reader r((*a)[i], i);
    if (!r.is_table()) return "entry " + std::to_string(i + 1) + ": expected a table";
    T e{};
    if (auto err = one(r, e); !err.empty()) return err;
    v.push_back(std::move(e));
  }
  out = std::move(v);
  return "";
}

toml::array int_array(std::initializer_list<std::int64_t> v) {
  toml::array a;
  for (auto x : v) a.push_back(x);
  return a;
}

void add_fault_lists(std::vector<setting>& all) {
  constexpr range agent{0, 1e6}, round{0, 1e12};
  all.push_back(
      {.section = "faults",
       .key = "partition",
       .help = "[[faults.partition]] rounds = [from, to), groups = [[agents], ...]: groups cut off from each other "
               "(agents in no group form one more)",
       .read =
           [=](actors::settings& s, const toml::node& n) {
             return read_entries(n, s.faults.partitions, [&](entry_reader& r, actors::partition_window& p) {
               std::vector<std::int64_t> rounds;
               auto e = r.get("rounds", rounds, round, true).groups("groups", p.groups, agent).finish();
               if (!e.empty()) return e;
               if (rounds.size() != 2) return std::string("rounds: expected [from, to]");
               p.from = rounds[0];
               p.to = rounds[1];
               return std::string();
             });
           },
       .write =
           [](const actors::settings& s, toml::table& t) {
             toml::array a;
             for (const auto& p : s.faults.partitions) {
               toml::array groups;
               for (const auto& g : p.groups) {
                 toml::array one;
                 for (auto x : g) one.push_back(x);
                 groups.push_back(std::move(one));
               }
               a.push_back(toml::table{{"rounds", int_array({p.from, p.to})}, {"groups", std::move(groups)}});
             }
             t.insert_or_assign("partition", std::move(a));
           }});
  all.push_back(
      {.section = "faults",
       .key = "crash",
       .help = "[[faults.crash]] agent, round, restart_after (rounds; -1: never): the agent stops and loses its "
               "state; it comes back from its checkpoint, or from x^0 without one",
       .read =
           [=](actors::settings& s, const toml::node& n) {
             return read_entries(n, s.faults.crashes, [&](entry_reader& r, actors::crash_fault& c) {
               return r.get("agent", c.agent, agent, true)
                   .get("round", c.round, round, true)
                   .get("restart_after", c.restart_after, {-1, 1e12})
                   .finish();
             });
           },
       .write =
           [](const actors::settings& s, toml::table& t) {
             toml::array a;
             for (const auto& c : s.faults.crashes)
               a.push_back(toml::table{{"agent", c.agent}, {"round", c.round}, {"restart_after", c.restart_after}});
             t.insert_or_assign("crash", std::move(a));
           }});
  all.push_back(
      {.section = "faults",
       .key = "flap",
       .help = "[[faults.flap]] link = [a, b], period, down, rounds = [from, to) (to -1: the end): the link is down "
               "`down` rounds of every `period`",
       .read =
           [=](actors::settings& s, const toml::node& n) {
             return read_entries(n, s.faults.flaps, [&](entry_reader& r, actors::flap_fault& f) {
               std::vector<std::int64_t> link, rounds{0, -1};
               auto e = r.get("link", link, agent, true)
                            .get("period", f.period, {1, 1e12})
                            .get("down", f.down, {1, 1e12})
                            .get("rounds", rounds, {-1, 1e12})
                            .finish();
               if (!e.empty()) return e;
               if (link.size() != 2) return std::string("link: expected [a, b]");
               if (rounds.size() != 2) return std::string("rounds: expected [from, to]");
               f.a = link[0];
               f.b = link[1];
               f.from = rounds[0];
               f.to = rounds[1];
               return std::string();
             });
           },
       .write =
           [](const actors::settings& s, toml::table& t) {
             toml::array a;
             for (const auto& f : s.faults.flaps)
               a.push_back(toml::table{{"link", int_array({f.a, f.b})},
                                       {"period", f.period},
                                       {"down", f.down},
                                       {"rounds", int_array({f.from, f.to})}});
             t.insert_or_assign("flap", std::move(a));
           }});
}

// Declares the settings of one section.
class group {
 public:
  group(std::vector<setting>& out, std::string section) : out_(out), section_(std::move(section)) {}

  // `field` maps settings to the field: [](auto& s) -> auto& { return s.run.seed; }.
  template <class F>
  group& add(const char* key, F field, std::string help, range r = {}, std::vector<std::string> allowed = {}) {
    using T = std::remove_cvref_t<decltype(field(std::declval<actors::settings&>()))>;
    if constexpr (std::is_enum_v<T>) allowed = common::names_list<T>();
    if (!allowed.empty()) help += (help.empty() ? "" : ": ") + common::join(allowed, " | ");
    out_.push_back({.section = section_,
                    .key = key,
                    .help = std::move(help),
                    .read = [field, r, allowed](actors::settings& s,
                                                const toml::node& n) { return read_value(n, field(s), r, allowed); },
                    .write = [field, key = std::string(key)](const actors::settings& s,
                                                             toml::table& t) { write_value(key, field(s), t); }});
    return *this;
  }

 private:
  std::vector<setting>& out_;
  std::string section_;
};

std::vector<setting> declare() {
  std::vector<setting> all;
  group(all, "run")
      .add("seed", [](auto& s) -> auto& { return s.run.seed; },
           "initial model (the same on every agent), partition, batch order, random graphs", {0, 9.0e15})
      .add(
          "epochs", [](auto& s) -> auto& { return s.run.epochs; },
          "epochs of each agent's shard (rounds per epoch = ceil(smallest shard / batch))", positive)
      .add("rounds", [](auto& s) -> auto& { return s.run.rounds; }, "total rounds instead of epochs (0: use epochs)",
           {0, 1e12})
      .add("gossip_tail", [](auto& s) -> auto& { return s.run.gossip_tail; },
           "rounds of gossip only after training, before the final evaluation (the GUT code's runs: 51)", {0, 1e9})
      .add(
          "mode", [](auto& s) -> auto& { return s.run.mode; },
          "sync waits for in-neighbours up to network.timeout_ms; async mixes what arrived")
      .add("max_staleness", [](auto& s) -> auto& { return s.run.max_staleness; },
           "async: wait (up to network.timeout_ms) once an in-neighbour is this many rounds behind (-1: never)",
           {-1, 1e6})
      .add("threads", [](auto& s) -> auto& { return s.run.threads; },
           "actor scheduler threads (0: the machine's cores); models then share the cores", {0, 1024});
  group(all, "data")
      .add("dataset", [](auto& s) -> auto& { return s.data.dataset; }, "", {}, {"fashion-mnist", "mnist", "cifar10"})
      .add(
          "path", [](auto& s) -> auto& { return s.data.path; },
          "directory of the files (\"\" = Debian's /usr/share/datasets/fashion-mnist)")
      .add(
          "partition", [](auto& s) -> auto& { return s.data.partition.scheme; }, "ALGORITHMS.md §10")
      .add(
          "partition_file", [](auto& s) -> auto& { return s.data.partition_file; },
          "the agents' sample indices from a file, instead of data.partition: JSON [[i, ...], ...] or .npy "
          "(2-D [agents, k], or 1-D agent per sample); `murmur partition --write` makes one")
      .add(
          "alpha", [](auto& s) -> auto& { return s.data.partition.alpha; }, "dirichlet concentration", positive)
      .add(
          "skew", [](auto& s) -> auto& { return s.data.partition.skew; },
          "skew mix: fraction of each class dealt label-sorted", unit)
      .add("batch", [](auto& s) -> auto& { return s.data.batch; }, "per agent", {1, 1e6})
      .add(
          "augment", [](auto& s) -> auto& { return s.data.augment; }, "random crop (padding 4) and horizontal flip")
      .add("train_limit", [](auto& s) -> auto& { return s.data.train_limit; },
           "use only the first N training samples (0: all); for quick runs", {0, 1e12});
  group(all, "model")
      .add(
          "name", [](auto& s) -> auto& { return s.model.name; }, "", {}, nn::model_names())
      .add(
          "norm", [](auto& s) -> auto& { return s.model.norm; },
          "norm of resnet20 / vgg11 (non-IID data wants one without running statistics)")
      .add("groups", [](auto& s) -> auto& { return s.model.groups; }, "groups of groupnorm / evonorm (0: 2 / 8)",
           {0, 4096})
      .add("chunks", [](auto& s) -> auto& { return s.model.chunks; }, "chunks of range-evonorm", {1, 4096})
      .add(
          "precision", [](auto& s) -> auto& { return s.model.precision; }, "training precision");
  group(all, "optimizer")
      .add("lr", [](auto& s) -> auto& { return s.schedule.base_lr; }, "base learning rate", {0, 1e3, true})
      .add(
          "momentum", [](auto& s) -> auto& { return s.optimizer.momentum; },
          "heavy-ball factor (gut, ngm: their authors' default, see murmur list algorithms)", unit_open_hi)
      .add(
          "nesterov", [](auto& s) -> auto& { return s.optimizer.nesterov; }, "Nesterov momentum")
      .add(
          "weight_decay", [](auto& s) -> auto& { return s.optimizer.weight_decay; }, "coupled L2, PyTorch semantics",
          unit)
      .add("warmup_epochs", [](auto& s) -> auto& { return s.schedule.warmup_epochs; }, "linear warm-up from 0.1 lr",
           {0, 1e6})
      .add("milestones", [](auto& s) -> auto& { return s.schedule.milestones; },
           "epochs at which lr is multiplied by lr_decay", {0, 1e6})
      .add("lr_decay", [](auto& s) -> auto& { return s.schedule.gamma; }, "factor at each milestone", {0, 1, true});
  group(all, "topology")
      .add(
          "kind", [](auto& s) -> auto& { return s.topology.kind; }, "", {}, topology::graph_kinds())
      .add("agents", [](auto& s) -> auto& { return s.topology.agents; }, "number of agents", {1, 100000})
      .add(
          "weights", [](auto& s) -> auto& { return s.topology.weights; },
          "mixing weights (auto: push on directed graphs, mh otherwise)")
      .add("degree", [](auto& s) -> auto& { return s.topology.degree; },
           "random-peers: out-peers per round; regular: degree", {1, 100000})
      .add("p", [](auto& s) -> auto& { return s.topology.p; }, "erdos-renyi edge probability", {0, 1, true})
      .add(
          "file", [](auto& s) -> auto& { return s.topology.file; }, "edges: an edge-list file (\"i j\" per line)")
      .add("exact_average_every", [](auto& s) -> auto& { return s.topology.exact_average_every; },
           "periodic exact averaging (the QGM code's SlowMo, slowmo_tau): rounds 0, τ, 2τ, ... on the complete "
           "graph, whose uniform weights average exactly (0: never; dsgd and push-sum)",
           {0, 1e9})
      .add("mixes_per_step", [](auto& s) -> auto& { return s.topology.mixes_per_step; },
           "gossip rounds per training step: the step's round and mixes_per_step - 1 gossip-only rounds after it, "
           "each on the schedule's next graph (the SGP code's AD-PSGD gossip process mixes repeatedly between "
           "steps; any algorithm; not with consensus_max_steps)",
           {1, 1000})
      .add("consensus_max_steps", [](auto& s) -> auto& { return s.topology.consensus.max_steps; },
           "consensus control (Kong et al. 2021): after each training step, up to this many gossip steps without "
           "a gradient until the consensus distance is at most the phase's target (0: off; dsgd and push-sum, "
           "one process, no faults)",
           {0, 1000})
      .add("consensus_targets", [](auto& s) -> auto& { return s.topology.consensus.targets; },
           "consensus control: the target distance sqrt(1/n sum_i |x_i - mean|^2) of each phase", {0, 1e12})
      .add("consensus_milestones", [](auto& s) -> auto& { return s.topology.consensus.milestones; },
           "consensus control: epochs at which the next target applies ([]: the lr schedule's milestones)", {0, 1e6});
  group(all, "network")
      .add(
          "transport", [](auto& s) -> auto& { return s.network.transport; }, "inproc stays in one process")
      .add(
          "host", [](auto& s) -> auto& { return s.network.host; }, "tcp: the address processes bind")
      .add("base_port", [](auto& s) -> auto& { return s.network.base_port; }, "tcp: process k binds base_port + k",
           {1, 65535})
      .add("queue", [](auto& s) -> auto& { return s.network.queue; },
           "frames queued per link (at the sender, and as many at the receiver) before drops", {1, 1e6})
      .add("timeout_ms", [](auto& s) -> auto& { return s.network.timeout_ms; },
           "sync mode: wait for in-neighbours at most this long, then go on with what arrived", {0, 1e9, true})
      .add("processes", [](auto& s) -> auto& { return s.network.processes; },
           "local processes the agents are spread over (tcp or ipc); a launcher's size replaces it", {1, 1024})
      .add(
          "placement", [](auto& s) -> auto& { return s.network.placement; },
          "agents on processes: block (contiguous ranges) or round-robin (agent mod processes)")
      .add(
          "curve", [](auto& s) -> auto& { return s.network.curve; },
          "authenticate and encrypt tcp and ipc links with ZeroMQ CURVE (false: plain, anyone may send)")
      .add(
          "keys", [](auto& s) -> auto& { return s.network.keys; },
          "directory of the processes' CURVE keys from murmur keygen (\"\": new keys per run; needed when "
          "launched without PMIx)")
      .add(
          "interface", [](auto& s) -> auto& { return s.network.interface; },
          "launched runs: advertise this interface's IPv4 address (\"\": the first non-loopback one)")
      .add(
          "rendezvous", [](auto& s) -> auto& { return s.network.rendezvous; },
          "launched without PMIx: host:port where rank 0 collects and hands out the endpoints")
      .add("rendezvous_timeout_s", [](auto& s) -> auto& { return s.network.rendezvous_timeout_s; },
           "how long the rendezvous waits for every process", {1, 86400})
      .add("window", [](auto& s) -> auto& { return s.network.window; },
           "frames for rounds more than this far ahead of the receiving agent's round are dropped and counted",
           {1, 1024})
      .add("down_after", [](auto& s) -> auto& { return s.network.down_after; },
           "sync mode: an in-neighbour missing this many rounds in a row is marked down and not waited for until "
           "it is heard again (0: always wait)",
           {0, 1e6});
  group(all, "faults")
      .add(
          "drop", [](auto& s) -> auto& { return s.faults.drop; }, "probability a frame is lost", unit_open_hi)
      .add("delay_ms", [](auto& s) -> auto& { return s.faults.delay_ms; }, "fixed delay per frame", {0, 1e6})
      .add("jitter_ms", [](auto& s) -> auto& { return s.faults.jitter_ms; }, "+ uniform [0, jitter)", {0, 1e6})
      .add(
          "duplicate", [](auto& s) -> auto& { return s.faults.duplicate; }, "probability a frame is sent twice", unit)
      .add(
          "reorder", [](auto& s) -> auto& { return s.faults.reorder; },
          "probability a frame is held back longer (reordering)", unit)
      .add("bandwidth_mbps", [](auto& s) -> auto& { return s.faults.bandwidth_mbps; }, "per-link cap (0: none)",
           {0, 1e9})
      .add("stragglers", [](auto& s) -> auto& { return s.faults.stragglers; }, "agents that compute slower", {0, 1e6})
      .add("slowdown", [](auto& s) -> auto& { return s.faults.slowdown; }, "their compute-time factor", {1, 1e6})
      .add(
          "churn", [](auto& s) -> auto& { return s.faults.churn; },
          "probability an agent sits a round out (drawn per agent and round from the seed)", unit_open_hi)
      .add("seed", [](auto& s) -> auto& { return s.faults.seed; }, "the fault schedule's seed", {0, 9.0e15});
  add_fault_lists(all);
  group(all, "checkpoint")
      .add("every", [](auto& s) -> auto& { return s.checkpoint.every; },
           "each agent saves its state every this many rounds (0: never); murmur run --resume continues from it",
           {0, 1e12})
      .add(
          "directory", [](auto& s) -> auto& { return s.checkpoint.directory; },
          "where agent-K.safetensors go (\"\": <output.directory>/checkpoints)");
  group(all, "output")
      .add(
          "directory", [](auto& s) -> auto& { return s.output.directory; },
          "metrics.jsonl and config.toml (the resolved configuration) go here")
      .add(
          "eval_every_epochs", [](auto& s) -> auto& { return s.output.eval_every_epochs; }, "evaluation interval",
          positive)
      .add("eval_samples", [](auto& s) -> auto& { return s.output.eval_samples; },
           "test samples for each agent's own model (0: all); the averaged model always uses all", {0, 1e9})
      .add(
          "progress", [](auto& s) -> auto& { return s.output.progress; }, "progress bar and evaluation lines");
  return all;
}

}  // namespace

const std::vector<setting>& settings_schema() {
  static const std::vector<setting> all = declare();
  return all;
}

const std::vector<std::string>& section_names() {
  static const std::vector<std::string> names{"run",      "data",    "model",  "optimizer",  "protocol",
                                              "topology", "network", "faults", "checkpoint", "output"};
  return names;
}

std::string read_option(const protocols::option_spec& spec, const toml::node& n, protocols::option_value& out) {
  const range r = spec.lo == 0 && spec.hi == 0 ? range{} : range{spec.lo, spec.hi, spec.lo_open, spec.hi_open};
  return std::visit(
      [&](const auto& def) {
        using T = std::remove_cvref_t<decltype(def)>;
        T v{};
        auto e = read_value(n, v, r, spec.choices);
        if (e.empty()) out = v;
        return e;
      },
      spec.default_value);
}

void write_option(const std::string& key, const protocols::option_value& v, toml::table& t) {
  std::visit([&](const auto& x) { write_value(key, x, t); }, v);
}

// A value as a person writes it: shortest round-trip numbers, "strings".
std::string value_text(const toml::node& n) {
  if (const auto* d = n.as_floating_point()) {
    char buf[32];
    const auto end = std::to_chars(buf, buf + sizeof buf, d->get()).ptr;
    std::string t(buf, end);
    if (t.find_first_of(".e") == std::string::npos) t += ".0";
    return t;
  }
  if (const auto* str = n.as_string()) return "\"" + str->get() + "\"";
  if (const auto* a = n.as_array()) {
    std::string t;
    for (const auto& e : *a) t += (t.empty() ? "" : ", ") + value_text(e);
    return "[" + t + "]";
  }
  if (const auto* t = n.as_table()) {
    std::string text;
    for (const auto& [k, v] : *t) text += (text.empty() ? "" : ", ") + std::string(k.str()) + " = " + value_text(v);
    return "{ " + text + " }";
  }
  if (const auto* i = n.as_integer()) return std::to_string(i->get());
  if (const auto* b = n.as_boolean()) return b->get() ? "true" : "false";
  return "?";
}

std::string value_text(const protocols::option_value& v) {
  toml::table t;
  write_option("v", v, t);
  return value_text(*t.get("v"));
}

}  // namespace murmur::app
