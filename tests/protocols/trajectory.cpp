// murmur_trajectory SPEC.json OUT.json: runs one registered algorithm on a
// distributed least-squares problem given in SPEC (from the Python
// transcriptions in tests/protocols/transcriptions/) and writes every
// agent's parameters after each round, with the mixing matrix of each round.
// Agents run in lockstep, every message through the wire codec, nothing
// lost; cross-gradients (NGM) are the agent's own loss at each neighbour's model; gradients are those of f_i(x) = |A_i
// x - b_i|² / (2 m), in f64 from the f32 parameters, rounded to f32 (what an agent's engine hands over).
//
// SPEC: {"algorithm": "dsgd", "options": {...}, "optimizer": {"momentum",
// "nesterov", "weight_decay"}, "graph": "ring", "weights": "mh", "rounds": R,
// "lr": [η_0, ...] (one per round), "gossip_tail": N (optional), "A": [[[..]..]..] (agents x rows x dim),
// "b": [[..]..], "x0": [[..]..], "tensors": [sizes] (optional), "exact_average_every": τ (optional),
// "consensus": {"max_steps": K, "targets": [Ξ..], "milestones": [step..]} (optional: consensus control,
// protocols/consensus.hpp, with one step per epoch; OUT's "rounds" lists the rounds run),
// "mixes_per_step": M (optional: M - 1 gossip-only rounds after each of the R steps)}.

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "murmur/protocols/codec.hpp"
#include "murmur/protocols/consensus.hpp"
#include "murmur/protocols/plan.hpp"
#include "murmur/protocols/registry.hpp"
#include "murmur/topology/catalogue.hpp"

using namespace murmur;
using nlohmann::json;

namespace {

template <class T>
T value_or_throw(common::result<T> r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.err().message);
  return std::move(*r);
}

protocols::option_values options_of(const json& j) {
  protocols::option_values v;
  for (const auto& [k, x] : j.items()) {
    if (x.is_boolean())
      v.set(k, x.get<bool>());
    else if (x.is_number_integer())
      v.set(k, x.get<std::int64_t>());
    else if (x.is_number())
      v.set(k, x.get<double>());
    else
      v.set(k, x.get<std::string>());
  }
  return v;
}

struct problem {
  std::vector<std::vector<std::vector<double>>> a;  // agent, row, column
  std::vector<std::vector<double>> b;

  void gradient(std::size_t i, std::span<const float> x, std::span<float> g) const {
    const auto rows = a[i].size(), dim = x.size();
    std::vector<double> acc(dim, 0.0);
    for (std::size_t r = 0; r < rows; ++r) {
      double e = -b[i][r];
      for (std::size_t k = 0; k < dim; ++k) e += a[i][r][k] * static_cast<double>(x[k]);
      for (std::size_t k = 0; k < dim; ++k) acc[k] += a[i][r][k] * e / static_cast<double>(rows);
    }
    for (std::size_t k = 0; k < dim; ++k) g[k] = static_cast<float>(acc[k]);
  }
};

int run(const json& spec, const std::string& out_path) {
  const auto name = spec.at("algorithm").get<std::string>();
  const auto* entry = protocols::find_algorithm(name);
  if (!entry) throw std::runtime_error("no algorithm " + name);
  const auto values = options_of(spec.value("options", json::object()));
  const auto& o = spec.at("optimizer");
  const protocols::sgd_options sgd{.momentum = o.at("momentum").get<double>(),
                                   .nesterov = o.at("nesterov").get<bool>(),
                                   .weight_decay = o.at("weight_decay").get<double>()};
  problem p{spec.at("A").get<decltype(problem::a)>(), spec.at("b").get<decltype(problem::b)>()};
  auto x0 = spec.at("x0").get<std::vector<std::vector<float>>>();
  const auto n = static_cast<std::int64_t>(x0.size());
  const auto tensors = spec.value("tensors", std::vector<std::size_t>{});
  const auto schedule = value_or_throw(
      topology::make_schedule({.kind = spec.at("graph").get<std::string>(),
                               .n = n,
                               .exact_average_every = spec.value("exact_average_every", std::int64_t{0})}),
      "graph");
  const auto rule = *common::from_name<protocols::weight_rule>(spec.at("weights").get<std::string>());
  const auto lr = spec.at("lr").get<std::vector<double>>();
  const auto rounds = spec.at("rounds").get<std::int64_t>();
  const auto tail = spec.value("gossip_tail", std::int64_t{0});  // gossip-only rounds after `rounds`
  protocols::consensus_control control;
  if (spec.contains("consensus")) {
    const auto& c = spec.at("consensus");
    control = {.max_steps = c.at("max_steps").get<std::int64_t>(),
               .targets = c.at("targets").get<std::vector<double>>(),
               .milestones = c.value("milestones", std::vector<double>{})};
    if (auto ok = control.validate(); !ok) throw std::runtime_error("consensus: " + ok.err().message);
  }
  // "mixes_per_step": M (topology.mixes_per_step: M - 1 gossip-only rounds after each step).
  const auto slots = protocols::rounds_per_step(control, spec.value("mixes_per_step", std::int64_t{1})),
             steps = static_cast<std::uint64_t>(rounds);

  std::vector<std::vector<float>> params = x0, grads(x0.size());
  std::vector<std::unique_ptr<protocols::algorithm>> algs;
  for (std::int64_t i = 0; i < n; ++i) {
    grads[i].assign(params[i].size(), 0.f);
    protocols::algorithm_inputs in{
        .context = {.self = i, .params = params[i], .grads = grads[i], .tensor_sizes = tensors, .seed = 7},
        .optimizer = sgd};
    in.graph_kind = spec.at("graph").get<std::string>();
    algs.push_back(value_or_throw(entry->create(std::move(in), values), name));
  }
  json out{{"params", json::array()}, {"weights", json::array()}, {"rounds", json::array()}};
  const auto total = static_cast<std::int64_t>(steps * slots) + tail;
  for (std::int64_t t = 0; t < total; ++t) {
    const auto step = static_cast<std::int64_t>(static_cast<std::uint64_t>(t) / slots);
    const auto g = schedule->at(t);
    const auto w = value_or_throw(protocols::weights_for(g, rule), "weights");
    json wj = json::array();
    for (std::int64_t i = 0; i < n; ++i) {
      json row = json::array();
      for (std::int64_t j = 0; j < n; ++j) row.push_back(w.at(i, j));
      wj.push_back(row);
    }
    out["weights"].push_back(wj);
    for (std::int64_t i = 0; i < n; ++i) {
      auto plan = protocols::make_plan(g, w, i, static_cast<std::uint64_t>(t));
      plan.learning_rate = lr.at(static_cast<std::size_t>(std::min(step, rounds - 1)));
      plan.gossip_only = step >= rounds || static_cast<std::uint64_t>(t) % slots != 0;
      plan.exact_average = schedule->exact_average(t);
      algs[i]->begin_round(std::move(plan));
    }
    for (;;) {
      bool exchanging = false;
      for (std::int64_t i = 0; i < n; ++i) {
        for (;;) {
          const auto& r = algs[i]->next();
          if (r.kind == protocols::step_kind::done) break;
          if (r.kind == protocols::step_kind::exchange) {
            exchanging = true;
            break;
          }
          if (r.kind == protocols::step_kind::cross_gradients) {
            // This agent's loss at each neighbour's model.
            std::vector<float> g(params[i].size());
            for (const auto& [peer, model] : algs[i]->neighbor_models()) {
              p.gradient(static_cast<std::size_t>(i), model, g);
              algs[i]->cross_gradient(peer, g);
            }
            algs[i]->complete();
            continue;
          }
          if (r.kind == protocols::step_kind::class_summaries) {
            // CCL without features (the driver's model has none): empty
            // summaries, so only its gossip and momentum are exercised.
            algs[i]->class_summary(i, {}, {});
            for (const auto& [peer, model] : algs[i]->neighbor_models()) algs[i]->class_summary(peer, {}, {});
            algs[i]->complete();
            continue;
          }
          if (r.kind != protocols::step_kind::gradient)
            throw std::runtime_error(name + ": a step this driver does not provide");
          p.gradient(static_cast<std::size_t>(i), params[i], grads[i]);
          algs[i]->complete(0.0);
        }
      }
      // Deliver until nothing is queued (receiving may queue replies).
      for (bool any = true; any;) {
        any = false;
        for (std::int64_t i = 0; i < n; ++i)
          for (auto& f : algs[i]->take_outgoing()) {
            auto d = value_or_throw(protocols::decode(protocols::encode(f.header, *f.body)), "decode");
            algs[d.header.receiver]->receive(std::move(d));
            any = true;
          }
      }
      if (!exchanging) break;
      for (std::int64_t i = 0; i < n; ++i)
        if (algs[i]->next().kind == protocols::step_kind::exchange) algs[i]->complete();
    }
    json round = json::array();
    std::vector<std::span<const float>> models;
    for (std::int64_t i = 0; i < n; ++i) {
      const auto x = algs[i]->params();  // push-sum: de-biased
      round.push_back(std::vector<float>(x.begin(), x.end()));
      models.push_back(x);
    }
    out["params"].push_back(round);
    out["rounds"].push_back(t);
    // Consensus control: a step whose distance is met skips its remaining gossip rounds.
    if (control.verdict_after(static_cast<std::uint64_t>(t), steps) &&
        protocols::consensus_distance(models) <= control.target_at(static_cast<double>(step)))
      t = (step + 1) * static_cast<std::int64_t>(slots) - 1;
  }
  std::ofstream(out_path) << out.dump();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: murmur_trajectory SPEC.json OUT.json\n");
    return 2;
  }
  try {
    std::ifstream in(argv[1]);
    return run(json::parse(in), argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "murmur_trajectory: %s\n", e.what());
    return 1;
  }
}
