#pragma once

// A plain loop that drives N agents of any algorithm in lockstep (no actors,
// no sockets), with a distributed least-squares problem whose optimum is
// known, and a seeded lossy network between them. Every message goes through
// the wire codec (encode, decode) and its reported size is checked.

#include <catch2/catch.hpp>

#include <cmath>
#include <deque>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "murmur/common/rng.hpp"
#include "murmur/protocols/algorithms.hpp"
#include "murmur/protocols/codec.hpp"
#include "murmur/protocols/plan.hpp"
#include "murmur/protocols/state.hpp"
#include "murmur/topology/schedule.hpp"

namespace murmur::testing {

// Agent i minimises f_i(x) = |A_i x - b_i|² / (2 m) with b_i = A_i x_i*, where
// the local optima x_i* = x* + h ξ_i differ (heterogeneous data); the optimum
// of Σ f_i solves (Σ A_iᵀA_i) x = Σ A_iᵀ b_i, computed here in f64.
class least_squares {
 public:
  least_squares(std::int64_t agents, std::int64_t dim, std::int64_t rows, double heterogeneity, std::uint64_t seed)
      : n_(agents), d_(dim), m_(rows), a_(agents), b_(agents) {
    common::rng gen(seed);
    std::vector<double> center(dim);
    for (auto& v : center) v = gen.normal();
    std::vector<double> h(dim * dim, 0.0), r(dim, 0.0);
    for (std::int64_t i = 0; i < agents; ++i) {
      std::vector<double> local(dim);
      for (std::int64_t k = 0; k < dim; ++k) local[k] = center[k] + heterogeneity * gen.normal();
      a_[i].resize(rows * dim);
      b_[i].resize(rows);
      for (auto& v : a_[i]) v = gen.normal();
      for (std::int64_t row = 0; row < rows; ++row) {
        double s = 0;
        for (std::int64_t k = 0; k < dim; ++k) s += a_[i][row * dim + k] * local[k];
        b_[i][row] = s;
        for (std::int64_t k = 0; k < dim; ++k) {
          r[k] += a_[i][row * dim + k] * s;
          for (std::int64_t l = 0; l < dim; ++l) h[k * dim + l] += a_[i][row * dim + k] * a_[i][row * dim + l];
        }
      }
    }
    optimum_ = solve(h, r);
  }

  std::int64_t dim() const { return d_; }
  const std::vector<double>& optimum() const { return optimum_; }

  // g = ∇f_i(x); returns f_i(x).
  double gradient(std::int64_t i, std::span<const float> x, std::span<float> g) const {
    std::vector<double> acc(d_, 0.0);
    double loss = 0;
    for (std::int64_t row = 0; row < m_; ++row) {
      double e = -b_[i][row];
      for (std::int64_t k = 0; k < d_; ++k) e += a_[i][row * d_ + k] * x[k];
      loss += e * e / (2.0 * m_);
      for (std::int64_t k = 0; k < d_; ++k) acc[k] += a_[i][row * d_ + k] * e / m_;
    }
    for (std::int64_t k = 0; k < d_; ++k) g[k] = static_cast<float>(acc[k]);
    return loss;
  }

  // |x - x*| / |x*|
  double relative_error(std::span<const float> x) const {
    double e = 0, s = 0;
    for (std::int64_t k = 0; k < d_; ++k) {
      e += (x[k] - optimum_[k]) * (x[k] - optimum_[k]);
      s += optimum_[k] * optimum_[k];
    }
    return std::sqrt(e / s);
  }

 private:
  static std::vector<double> solve(std::vector<double> h, std::vector<double> r) {
    const auto n = static_cast<std::int64_t>(r.size());
    for (std::int64_t c = 0; c < n; ++c) {
      std::int64_t p = c;
      for (std::int64_t k = c + 1; k < n; ++k)
        if (std::abs(h[k * n + c]) > std::abs(h[p * n + c])) p = k;
      for (std::int64_t k = 0; k < n; ++k) std::swap(h[c * n + k], h[p * n + k]);
      std::swap(r[c], r[p]);
      for (std::int64_t k = c + 1; k < n; ++k) {
        const double f = h[k * n + c] / h[c * n + c];
        for (std::int64_t l = c; l < n; ++l) h[k * n + l] -= f * h[c * n + l];
        r[k] -= f * r[c];
      }
    }
    std::vector<double> x(n);
    for (std::int64_t c = n - 1; c >= 0; --c) {
      double s = r[c];
      for (std::int64_t k = c + 1; k < n; ++k) s -= h[c * n + k] * x[k];
      x[c] = s / h[c * n + c];
    }
    return x;
  }

  std::int64_t n_, d_, m_;
  std::vector<std::vector<double>> a_, b_;
  std::vector<double> optimum_;
};

struct faults {
  double drop = 0;             // probability a message is lost
  double duplicate = 0;        // probability a delivered message comes twice
  std::int64_t max_delay = 0;  // each message is late by 0 .. max_delay exchanges
  std::uint64_t seed = 99;
};

using factory = std::function<std::unique_ptr<protocols::algorithm>(protocols::agent_context)>;

// N agents with their parameters and gradients, run in lockstep.
class network {
 public:
  network(std::int64_t agents, std::int64_t dim, const factory& make, std::vector<std::vector<float>> initial = {},
          std::vector<std::size_t> tensor_sizes = {})
      : params_(agents), grads_(agents) {
    for (std::int64_t i = 0; i < agents; ++i) {
      params_[i] = initial.empty() ? std::vector<float>(dim, 0.f) : initial[i];
      grads_[i].assign(dim, 0.f);
      algs_.push_back(
          make({.self = i, .params = params_[i], .grads = grads_[i], .tensor_sizes = tensor_sizes, .seed = 7}));
    }
  }

  std::int64_t size() const { return static_cast<std::int64_t>(algs_.size()); }
  protocols::algorithm& agent(std::int64_t i) { return *algs_[i]; }
  std::span<const float> params(std::int64_t i) const { return params_[i]; }

  // Mean of the agents' (de-biased) models.
  std::vector<float> average() const {
    std::vector<double> s(params_[0].size(), 0.0);
    for (const auto& p : params_)
      for (std::size_t k = 0; k < s.size(); ++k) s[k] += p[k];
    std::vector<float> out(s.size());
    for (std::size_t k = 0; k < s.size(); ++k) out[k] = static_cast<float>(s[k] / static_cast<double>(size()));
    return out;
  }

  // One round: `problem` gives gradients (nullptr: gossip only).
  void round(const topology::graph& g, const topology::mixing_matrix& w, std::uint64_t t, double lr,
             const least_squares* problem, std::int64_t epoch = 0, bool exact_average = false) {
    for (std::int64_t i = 0; i < size(); ++i) {
      auto plan = protocols::make_plan(g, w, i, t);
      plan.learning_rate = lr;
      plan.epoch = epoch;
      plan.gossip_only = problem == nullptr;
      plan.exact_average = exact_average;
      algs_[i]->begin_round(std::move(plan));
    }
    std::vector<float> scratch(params_[0].size());
    for (;;) {
      bool at_exchange = false;
      for (std::int64_t i = 0; i < size(); ++i) {
        // Run agent i up to its next exchange (or the end of the round).
        for (;;) {
          const auto& r = algs_[i]->next();
          if (r.kind == protocols::step_kind::done) break;
          if (r.kind == protocols::step_kind::exchange) {
            at_exchange = true;
            break;
          }
          if (r.kind == protocols::step_kind::gradient) {
            const double loss = problem->gradient(i, params_[i], grads_[i]);
            algs_[i]->complete(loss);
          } else if (r.kind == protocols::step_kind::cross_gradients) {
            for (const auto& [peer, model] : algs_[i]->neighbor_models()) {
              problem->gradient(i, model, scratch);
              algs_[i]->cross_gradient(peer, scratch);
            }
            algs_[i]->complete();
          } else {
            on_class_summaries(i, *algs_[i]);
            algs_[i]->complete();
          }
        }
      }
      if (!at_exchange) break;  // every agent is done
      deliver();
      for (std::int64_t i = 0; i < size(); ++i)
        if (algs_[i]->next().kind == protocols::step_kind::exchange) algs_[i]->complete();
    }
    deliver(false);  // what was queued after the last exchange (nothing late is due)
  }

  // `rounds` more rounds of a schedule (continuing the round count of earlier
  // calls) with a learning rate per round (counted from 0 in this call).
  void run(const topology::schedule& s, protocols::weight_rule rule, std::int64_t rounds,
           const std::function<double(std::int64_t)>& lr, const least_squares* problem) {
    for (std::int64_t t = 0; t < rounds; ++t, ++next_round_) {
      const auto g = s.at(next_round_);
      const auto w = protocols::weights_for(g, rule);
      if (!w.ok()) FAIL(w.err().message);
      round(g, *w, static_cast<std::uint64_t>(next_round_), lr(t), problem, 0, s.exact_average(next_round_));
    }
  }

  // The next run() continues from round `r` (a network restored from another's state).
  void start_at(std::int64_t r) { next_round_ = r; }

  // Agent i restarts as a fresh instance from a saved model and protocol state
  // (a crash and a restore from its checkpoint).
  void restart(std::int64_t i, const factory& make, const std::vector<float>& model,
               const std::map<std::string, protocols::state_value>& state) {
    params_[i] = model;
    grads_[i].assign(model.size(), 0.f);
    algs_[i] = make({.self = i, .params = params_[i], .grads = grads_[i], .seed = 7});
    auto io = protocols::state_io::loader(state);
    algs_[i]->state(io);
    if (!io.error().empty()) FAIL(io.error());
  }

  faults faults_;
  std::function<void(std::int64_t, protocols::algorithm&)> on_class_summaries = [](auto, auto&) {};
  std::uint64_t delivered = 0, dropped = 0;

 private:
  // Delivers what is due at this exchange: messages delayed from earlier
  // ones and what the agents send now (again and again: receiving may queue
  // replies). A message late by k exchanges waits in late_[k - 1].
  void deliver(bool exchange = true) {
    std::vector<std::vector<std::byte>> now;
    if (exchange && !late_.empty()) {
      now = std::move(late_.front());
      late_.pop_front();
    }
    for (int pass = 0; pass < 8; ++pass) {
      for (std::int64_t i = 0; i < size(); ++i) {
        for (auto& f : algs_[i]->take_outgoing()) {
          const auto bytes = protocols::encode(f.header, *f.body);
          if (bytes.size() != protocols::frame_bytes(*f.body)) FAIL("a frame's size differs from what it reports");
          if (gen_.uniform() < faults_.drop) {
            ++dropped;
            continue;
          }
          const auto delay = faults_.max_delay > 0 ? gen_.uniform_int(faults_.max_delay + 1) : 0;
          const int copies = gen_.uniform() < faults_.duplicate ? 2 : 1;
          for (int c = 0; c < copies; ++c) {
            if (delay == 0) {
              now.push_back(bytes);
            } else {
              if (late_.size() < delay) late_.resize(delay);
              late_[delay - 1].push_back(bytes);
            }
          }
        }
      }
      if (now.empty()) break;
      for (const auto& bytes : std::exchange(now, {})) {
        auto f = protocols::decode(bytes);
        if (!f.ok()) FAIL(f.err().message);
        ++delivered;
        algs_[f->header.receiver]->receive(std::move(*f));
      }
    }
  }

  std::int64_t next_round_ = 0;
  std::vector<std::vector<float>> params_, grads_;
  std::vector<std::unique_ptr<protocols::algorithm>> algs_;
  std::deque<std::vector<std::vector<std::byte>>> late_;
  common::rng gen_{99};
};

// Tolerances on the worst agent's |x - x*| / |x*| (f32 parameters): DSGD and
// its kin carry an O(η) bias on heterogeneous data, so they run a step decay
// to η/1000 and must end within `inexact`; methods that are exact at a
// constant step (all-reduce, gradient tracking, GUT, RelaySum) within `exact`.
inline constexpr double inexact = 3e-3, exact = 1e-4;
// Compressed gossip (CHOCO; Sparse-Push's network average) adds compression
// noise that the same schedule leaves at a few 1e-3.
inline constexpr double compressed = 1e-2;

// Step decay: η, η/10, η/100, η/1000 in four equal parts.
inline std::function<double(std::int64_t)> decay(double lr, std::int64_t rounds) {
  return [=](std::int64_t t) { return lr * std::pow(0.1, static_cast<double>(4 * t / rounds)); };
}

inline std::function<double(std::int64_t)> constant(double lr) {
  return [=](std::int64_t) { return lr; };
}

inline double worst_error(const network& net, const least_squares& problem) {
  double worst = 0;
  for (std::int64_t i = 0; i < net.size(); ++i) worst = std::max(worst, problem.relative_error(net.params(i)));
  return worst;
}

// n models of `dim` entries drawn from N(0, scale²), seeded.
inline std::vector<std::vector<float>> random_models(std::int64_t n, std::int64_t dim, std::uint64_t seed,
                                                     double scale = 1.0) {
  common::rng gen(seed);
  std::vector<std::vector<float>> out(n, std::vector<float>(dim));
  for (auto& x : out)
    for (auto& v : x) v = static_cast<float>(gen.normal() * scale);
  return out;
}

// The entry-wise mean of the models, in f64.
inline std::vector<double> mean_of(const std::vector<std::vector<float>>& xs) {
  std::vector<double> m(xs.front().size(), 0.0);
  for (const auto& x : xs)
    for (std::size_t k = 0; k < m.size(); ++k) m[k] += x[k] / static_cast<double>(xs.size());
  return m;
}

// The problem of every convergence test: 8 unknowns, 32 rows per agent, local
// optima spread by 0.3 around the common centre.
inline least_squares problem_for(std::int64_t agents, std::uint64_t seed = 3) {
  return least_squares(agents, 8, 32, 0.3, seed);
}

struct graph_case {
  const char* name;
  std::unique_ptr<topology::schedule> schedule;
  protocols::weight_rule rule;
};

// Ring (16, MH), static exponential (16, uniform 1/5), social network (32, MH).
inline std::vector<graph_case> undirected_graphs() {
  std::vector<graph_case> out;
  out.push_back({"ring", topology::static_schedule(*topology::ring(16)), protocols::weight_rule::metropolis_hastings});
  out.push_back(
      {"exponential", topology::static_schedule(*topology::exponential(16)), protocols::weight_rule::uniform});
  out.push_back({"social", topology::static_schedule(topology::davis_southern_women()),
                 protocols::weight_rule::metropolis_hastings});
  return out;
}

// Directed ring, one-peer exponential (time-varying), random directed peers
// per round (irregular: push-sum weights move away from 1); push weights.
inline std::vector<graph_case> directed_graphs() {
  std::vector<graph_case> out;
  out.push_back(
      {"directed ring", topology::static_schedule(*topology::directed_ring(16)), protocols::weight_rule::push});
  out.push_back({"one-peer exponential", topology::one_peer_exponential(16), protocols::weight_rule::push});
  out.push_back({"random peers", topology::random_peers(16, 2, 5), protocols::weight_rule::push});
  return out;
}

}  // namespace murmur::testing
