#pragma once

// Everything one run needs, as plain structs (DESIGN.md: TOML is parsed once,
// in app/, into these; lower layers never see TOML). Every field has the
// default that configs/reference.toml documents.

#include <cstdint>
#include <string>
#include <vector>

#include "murmur/nn/model.hpp"
#include "murmur/nn/optimizer.hpp"
#include "murmur/nn/partition.hpp"
#include "murmur/protocols/algorithms.hpp"
#include "murmur/protocols/plan.hpp"

namespace murmur::actors {

enum class run_mode { sync, async };

struct run_settings {
  std::uint64_t seed = 1;
  double epochs = 5;        // epochs of each agent's shard; ignored when rounds > 0
  std::int64_t rounds = 0;  // total rounds (0: from epochs)
  run_mode mode = run_mode::sync;
  std::int64_t max_staleness = 4;  // async: wait (up to the timeout) once a peer is this many rounds behind; -1: never
  int threads = 0;                 // scheduler threads (0: the cores of the machine)
};

struct data_settings {
  std::string dataset = "fashion-mnist";
  std::string path;  // directory (empty: the Debian location for fashion-mnist)
  nn::partition_options partition{.scheme = nn::partition_scheme::dirichlet, .alpha = 0.1};
  std::int64_t batch = 32;
  bool augment = false;
  std::int64_t train_limit = 0;  // use only the first N training samples (0: all), for quick runs
};

struct model_settings {
  std::string name = "lenet5";
  nn::norm_kind norm = nn::norm_kind::batchnorm;
  std::int64_t groups = 0, chunks = 16;
  nn::precision precision = nn::precision::f32;
};

enum class algorithm_kind {
  dsgd,
  all_reduce,
  push_sum,
  choco,
  gut,
  gradient_tracking,
  relaysum,
  ad_psgd,
  ngm,
  ccl,
};

struct protocol_settings {
  algorithm_kind algorithm = algorithm_kind::dsgd;
  protocols::dsgd_options dsgd;
  protocols::push_sum_options push_sum;
  protocols::choco_options choco;
  protocols::gut_options gut;
  protocols::gradient_tracking_options tracking;
  protocols::relaysum_options relaysum;
  protocols::ad_psgd_options ad_psgd;
  protocols::ngm_options ngm;
  protocols::ccl_options ccl;
  double ccl_lambda_model = 0.1, ccl_lambda_data = 0.1;
};

enum class schedule_kind { static_graph, one_peer_exponential, dde_exponential, bipartite_exponential, random_peers };

struct topology_settings {
  std::string kind = "ring";  // the graph of `murmur topology --kind`
  std::int64_t agents = 16;
  schedule_kind schedule = schedule_kind::static_graph;
  protocols::weight_rule weights = protocols::weight_rule::metropolis_hastings;
  std::int64_t degree = 2;  // random-peers / regular
  double p = 0.3;           // erdos-renyi
  std::string file;         // edges
};

enum class transport_kind { inproc, ipc, tcp };

struct network_settings {
  transport_kind transport = transport_kind::inproc;
  std::string host = "127.0.0.1";
  int base_port = 27500;       // tcp: process k binds base_port + k
  int queue = 64;              // frames queued per link before new ones are dropped
  double timeout_ms = 2000;    // sync mode: how long to wait for in-neighbours
  std::int64_t processes = 1;  // local processes (tcp loopback)
};

struct fault_settings {
  double drop = 0;                       // probability per frame
  double delay_ms = 0;                   // fixed delay per frame
  double jitter_ms = 0;                  // + uniform [0, jitter)
  double duplicate = 0;                  // probability a frame is sent twice
  double reorder = 0;                    // probability a frame is held back by an extra jitter
  double bandwidth_mbps = 0;             // per link; 0: unlimited
  std::vector<std::int64_t> stragglers;  // agents that compute slower
  double slowdown = 1.0;                 // their compute time factor
  std::uint64_t seed = 7;
};

struct output_settings {
  std::string directory = "out/run";
  double eval_every_epochs = 1.0;  // evaluation interval
  std::int64_t eval_samples = 0;   // test samples for each agent's own model (0: all)
  bool progress = true;
};

struct settings {
  run_settings run;
  data_settings data;
  model_settings model;
  protocols::sgd_options optimizer{.momentum = 0.9, .nesterov = true, .weight_decay = 1e-4};
  nn::lr_schedule schedule{.base_lr = 0.05};
  protocol_settings protocol;
  topology_settings topology;
  network_settings network;
  fault_settings faults;
  output_settings output;
};

const char* to_string(algorithm_kind k);

}  // namespace murmur::actors
