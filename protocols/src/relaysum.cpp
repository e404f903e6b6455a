// RelaySum/Model and RelaySum/Grad (ALGORITHMS.md §7.1) on one spanning tree
// or on the double binary trees of the paper's headline runs: each agent
// relays to each tree neighbour its own value plus what the other neighbours
// of that tree relayed to it last round, with a count of the agents summed,
// so after a tree's diameter of rounds every agent holds an exact uniform
// average of (delayed) values. Missing parts are filled with the reference
// state.
//
// Double binary trees (epfml/relaysgd, topologies.py BinaryTreeTopology and
// utils/communication.py MultiTopologyRelayMechanism): entry k of the flat
// model travels over tree k mod 2; tree 0 is i - i/2 (i >= 1), tree 1 its
// mirror (node i is n - 1 - i), so no agent is an inner node of both and the
// load is balanced. A message to a neighbour holds, for each tree that has
// the edge, that tree's relayed entries, then the counts (as floats).

#include <algorithm>
#include <map>
#include <string>

#include "gossip.hpp"
#include "murmur/protocols/algorithms.hpp"
#include "murmur/protocols/registry.hpp"
#include "murmur/topology/graph.hpp"

namespace murmur::protocols {
namespace {

class relaysum final : public detail::with_sgd<relaysum_options> {
 public:
  relaysum(agent_context context, relaysum_options options)
      : with_sgd(std::move(context), options),
        own_(params().size(), 0.f),
        reference_(params().begin(), params().end()),
        d_(params().size(), 0.f) {
    if (options_.relay_gradients) std::fill(reference_.begin(), reference_.end(), 0.f);
    trees_.resize(options_.double_binary_trees ? 2 : 1);
  }

  std::string name() const override { return "relaysum"; }

 protected:
  std::vector<request> plan_steps() override {
    request exchange{.kind = step_kind::exchange, .messages = message_kind::model};
    exchange.from = in_peers();
    if (options_.double_binary_trees)
      for (std::size_t t = 0; t < 2; ++t)
        trees_[t].neighbours = topology::binary_tree_neighbours(self(), plan().agents, t == 1);
    else
      trees_[0].neighbours = in_peers();
    const auto x = params();
    if (options_.relay_gradients)
      std::fill(own_.begin(), own_.end(), 0.f);
    else
      own_.assign(x.begin(), x.end());
    if (plan().gossip_only) return {exchange};
    return {{.kind = step_kind::gradient}, exchange};
  }

  void on_start(const request& r) override {
    if (r.kind != step_kind::exchange) return;
    // M_{i->j} = own + Σ_{k≠j} M_{k->i} and c_{i->j} = 1 + Σ_{k≠j} c_{k->i}, per
    // tree, from last round's messages.
    for (const auto& pw : plan().out) {
      std::vector<float> m, counts;
      for (std::size_t t = 0; t < trees_.size(); ++t) {
        if (!trees_[t].has(pw.peer)) continue;
        const auto start = m.size();
        for (std::size_t k = t; k < own_.size(); k += trees_.size()) m.push_back(own_[k]);
        double count = 1;
        for (const auto& [peer, relay] : trees_[t].relayed) {
          if (peer == pw.peer) continue;
          for (std::size_t k = 0; k < relay.values.size(); ++k) m[start + k] += relay.values[k];
          count += relay.count;
        }
        counts.push_back(static_cast<float>(count));
      }
      m.insert(m.end(), counts.begin(), counts.end());
      send(pw.peer, message_kind::model, dense_payload(m));
    }
  }

  void on_finish(const request& r) override {
    auto x = params();
    if (r.kind == step_kind::gradient) {
      sgd_.direction(x, grads(), d_);
      const double lr = plan().learning_rate;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const auto step = static_cast<float>(lr * d_[i]);
        if (options_.relay_gradients)
          own_[i] = -step;
        else
          own_[i] = x[i] - step;
      }
      return;
    }
    for (auto& tree : trees_) tree.relayed.clear();
    for (const auto& pw : plan().in) {
      auto f = inbox_.take(pw.peer, plan().round, false, stats());
      if (!f) {
        ++stats().messages_missing;  // counts as zero values and count 0
        continue;
      }
      const auto v = f->body.dense();
      auto count = v.end() - static_cast<std::ptrdiff_t>(trees_of(pw.peer));
      auto value = v.begin();
      for (std::size_t t = 0; t < trees_.size(); ++t) {
        if (!trees_[t].has(pw.peer)) continue;
        const auto size = entries(t);
        trees_[t].relayed[pw.peer] = {std::vector<float>(value, value + static_cast<std::ptrdiff_t>(size)), *count++};
        value += static_cast<std::ptrdiff_t>(size);
      }
    }
    const double n = static_cast<double>(plan().agents);
    for (std::size_t t = 0; t < trees_.size(); ++t) {
      double count = 1;
      for (const auto& [peer, relay] : trees_[t].relayed) count += relay.count;
      for (std::size_t k = t, e = 0; k < x.size(); k += trees_.size(), ++e) {
        double sum = own_[k];
        for (const auto& [peer, relay] : trees_[t].relayed) sum += relay.values[e];
        if (options_.relay_gradients)
          x[k] = static_cast<float>(x[k] + sum / n);
        else
          x[k] = static_cast<float>((sum + (n - count) * reference_[k]) / n);
      }
    }
    if (options_.update_reference && !options_.relay_gradients) reference_.assign(x.begin(), x.end());
  }

  void on_message(frame message) override {
    const auto from = message.header.sender;
    const auto trees = trees_of(from);
    std::size_t size = trees;
    for (std::size_t t = 0; t < trees_.size(); ++t)
      if (trees_[t].has(from)) size += entries(t);
    bool counts_ok = trees > 0 && message.header.kind == message_kind::model && message.body.dimension == size;
    if (counts_ok) {
      const auto v = message.body.dense();
      for (auto c = v.end() - static_cast<std::ptrdiff_t>(trees); c != v.end(); ++c)
        counts_ok = counts_ok && *c >= 1 && *c <= static_cast<float>(plan().agents);
    }
    if (!counts_ok || !inbox_.put(std::move(message))) ++stats().messages_ignored;
  }

  void on_state(state_io& io) override {
    sgd_.state(io, "momentum");
    io.field("own", own_, true);
    io.field("reference", reference_, true);
    for (std::size_t t = 0; t < trees_.size(); ++t) {
      const auto tag = t == 0 ? std::string("relayed") : "relayed" + std::to_string(t);
      auto& relayed = trees_[t].relayed;
      std::vector<std::int64_t> peers;
      if (io.saving())
        for (const auto& [peer, r] : relayed) peers.push_back(peer);
      else {
        relayed.clear();
        peers = io.peers_of(tag);
      }
      for (auto peer : peers) {
        auto& r = relayed[peer];
        io.field(tag + "." + std::to_string(peer), r.values, true);
        io.field(tag + "_count." + std::to_string(peer), r.count);
      }
    }
  }

 private:
  struct relay {
    std::vector<float> values;
    double count = 0;
  };
  struct tree {
    std::vector<std::int64_t> neighbours;   // this agent's, sorted
    std::map<std::int64_t, relay> relayed;  // last round's M_{k->i}, c_{k->i}
    bool has(std::int64_t peer) const { return std::binary_search(neighbours.begin(), neighbours.end(), peer); }
  };

  // How many entries tree t carries (k ≡ t mod the number of trees).
  std::size_t entries(std::size_t t) const { return (own_.size() - t + trees_.size() - 1) / trees_.size(); }
  std::size_t trees_of(std::int64_t peer) const {
    return static_cast<std::size_t>(
        std::count_if(trees_.begin(), trees_.end(), [&](const tree& t) { return t.has(peer); }));
  }

  std::vector<float> own_, reference_, d_;
  std::vector<tree> trees_;
  detail::inbox inbox_;
};

}  // namespace

std::unique_ptr<algorithm> make_relaysum(agent_context context, relaysum_options options) {
  return std::make_unique<relaysum>(std::move(context), options);
}

algorithm_entry relaysum_entry() {
  return {
      .name = "relaysum",
      .summary = "RelaySum/Model and RelaySum/Grad (Vogels et al. 2021) on a spanning tree or on double binary trees",
      .rejoin =
          "each round sends whole relayed sums and counts, not differences: after a restart (or a lost message) "
          "every edge is correct again once the agent has sent once, and the tree's sums are again exact after a "
          "diameter of rounds",
      .options = {{.name = "relay_gradients", .default_value = false, .help = "RelaySum/Grad instead of /Model"},
                  {.name = "update_reference", .default_value = false, .help = "x_ref <- x after each round"}},
      .graph = {.undirected = true, .spanning_tree = true, .trees_kind = "double-binary-tree"},
      .make = [](algorithm_inputs in, const option_reader& r) {
        relaysum_options o{.sgd = in.optimizer,
                           .relay_gradients = r.boolean("relay_gradients"),
                           .update_reference = r.boolean("update_reference"),
                           .double_binary_trees = in.graph_kind == "double-binary-tree"};
        return make_relaysum(std::move(in.context), o);
      }};
}

}  // namespace murmur::protocols
