// The monitor's arithmetic (round_summary) against exact values and a long
// double reference, and the monitor actor on CAF's deterministic coordinator:
// local reports, reports and "finished" from other processes as codec frames,
// refused frames, and the end of a run (interrupted ones included).

#include "caf_catch.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "actors/test_support.hpp"
#include "monitor_actor.hpp"
#include "remote.hpp"
#include "round_summary.hpp"

using namespace murmur;
using namespace murmur::actors;

namespace {

agent_report report(std::int64_t agent, std::uint64_t round, std::vector<float> x) {
  agent_report r;
  r.metrics.agent = agent;
  r.metrics.round = round;
  r.metrics.epoch = 0.5 * static_cast<double>(round);
  r.metrics.train_loss = 1.0 + static_cast<double>(agent);
  r.metrics.counters.bytes_sent = 100 * static_cast<std::uint64_t>(agent + 1);
  r.metrics.messages_dropped = 1;
  r.metrics.messages_rejected = static_cast<std::uint64_t>(agent);
  r.params = std::make_shared<const std::vector<float>>(std::move(x));
  return r;
}

}  // namespace

TEST_CASE("a round's summary is the exact average, distances and sums", "[actors][monitor]") {
  std::vector<agent_report> rs{report(0, 4, {1.f, 2.f}), report(1, 4, {3.f, 6.f})};
  rs[0].metrics.test_accuracy = 0.5;  // only agent 0 evaluated itself
  const auto s = summarize(rs);
  CHECK(s.average == std::vector<float>{2.f, 4.f});
  CHECK(s.distance == std::vector<double>{5.0, 5.0});  // 1² + 2² each
  CHECK(s.consensus_distance == 5.0);
  CHECK(s.train_loss == 1.5);
  CHECK(s.mean_agent_accuracy == 0.5);
  CHECK(s.epoch == 2.0);
  CHECK(s.bytes_sent == 300);
  CHECK(s.messages_dropped == 2);
  CHECK(s.messages_rejected == 1);
  rs[0].metrics.test_accuracy = -1;
  CHECK(summarize(rs).mean_agent_accuracy == -1);
}

TEST_CASE("a round's summary matches a long double reference on random models", "[actors][monitor]") {
  common::rng gen(7);
  const std::size_t n = 9, dim = 1000;
  std::vector<agent_report> rs;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<float> x(dim);
    for (auto& v : x) v = static_cast<float>(gen.normal() * 3.0 + static_cast<double>(i));
    rs.push_back(report(static_cast<std::int64_t>(i), 1, std::move(x)));
  }
  const auto s = summarize(rs);
  long double consensus = 0;
  for (std::size_t k = 0; k < dim; ++k) {
    long double mean = 0;
    for (const auto& r : rs) mean += (*r.params)[k];
    mean /= n;
    CHECK(s.average[k] == Approx(static_cast<double>(mean)).epsilon(1e-6));  // f32 rounding of x̄
    for (const auto& r : rs) consensus += ((*r.params)[k] - mean) * ((*r.params)[k] - mean) / n;
  }
  CHECK(s.consensus_distance == Approx(static_cast<double>(consensus)).epsilon(1e-9));
}

namespace {

struct monitor_fixture : test_coordinator_fixture<> {
  monitor_fixture() : test_(tiny_data(3)), metrics_(std::tmpfile()) {
    model_.name = "mlp";
    auto args = std::make_shared<monitor_args>();
    args->agents = 2;
    args->rounds = 10;
    args->model = std::move(*nn::build_model(model_spec_for(model_, test_), 1));
    args->model->init(1);
    dim_ = args->model->parameters().size();
    args->test = &test_;
    args->metrics = metrics_;
    args->clock = &clock_;
    args->on_record = [this](const evaluation& r) { records.push_back(r); };
    args->on_finished = [this] { ++finished; };
    monitor = sys.spawn(monitor_actor, args);
    sched.run();
  }
  ~monitor_fixture() { std::fclose(metrics_); }

  std::vector<float> model(float value) const { return std::vector<float>(dim_, value); }
  void remote(std::vector<std::byte> bytes) {
    caf::anon_send(monitor, remote_atom::value, owned_wire(std::move(bytes)));
    sched.run();
  }
  std::vector<nlohmann::json> lines() {
    std::fflush(metrics_);
    std::rewind(metrics_);
    std::vector<nlohmann::json> out;
    char buf[1 << 16];
    while (std::fgets(buf, sizeof buf, metrics_)) out.push_back(nlohmann::json::parse(buf));
    return out;
  }

  model_settings model_;
  nn::dataset test_;
  std::FILE* metrics_;
  common::manual_clock clock_;
  std::size_t dim_ = 0;
  caf::actor monitor;
  std::vector<evaluation> records;
  int finished = 0;
};

}  // namespace

TEST_CASE_METHOD(monitor_fixture, "the monitor evaluates a round once every agent reported it", "[actors][monitor]") {
  caf::anon_send(monitor, report_atom::value, report(0, 2, model(0.f)));
  sched.run();
  CHECK(records.empty());  // agent 1 has not reported round 2
  caf::anon_send(monitor, report_atom::value, report(1, 2, model(0.5f)));
  sched.run();
  REQUIRE(records.size() == 1);
  CHECK(records[0].round == 2);
  CHECK(records[0].consensus_distance == Approx(0.0625 * static_cast<double>(dim_)));  // each 0.25 from x̄
  CHECK(records[0].train_loss == 1.5);
  CHECK(records[0].bytes_sent == 300);
  // The average model is the one evaluated: constant 0.25 everywhere.
  auto reference = std::move(*nn::build_model(model_spec_for(model_, test_), 1));
  const auto x = reference->parameters();
  std::fill(x.begin(), x.end(), 0.25f);
  CHECK(records[0].average_accuracy == nn::evaluator(500, 1).run(*reference, test_).accuracy);
  const auto js = lines();
  REQUIRE(js.size() == 3);  // agent 0, agent 1, the average
  CHECK(js[0]["agent"] == 0);
  CHECK(js[1]["consensus_distance"].get<double>() == Approx(0.0625 * static_cast<double>(dim_)));
  CHECK(js[2]["agent"] == "average");
  CHECK(js[2]["bytes_sent"] == 300);
}

TEST_CASE_METHOD(monitor_fixture, "reports and finished from other processes count; other frames do not",
                 "[actors][monitor]") {
  caf::anon_send(monitor, report_atom::value, report(0, 1, model(1.f)));
  sched.run();
  remote(std::vector<std::byte>(64, std::byte{0x11}));                        // garbage
  remote(protocols::encode_dense({.receiver = 2}, std::vector<float>{1.f}));  // a model frame
  CHECK(records.empty());
  remote(encode_report(report(1, 11, model(3.f)), 2));  // a round the run does not have
  auto small = report(1, 1, model(3.f));
  small.params = std::make_shared<const std::vector<float>>(3, 1.f);
  remote(encode_report(small, 2));  // another model's size
  // A report whose frame claims another sender than the agent it names.
  auto claimed = *protocols::decode(encode_report(report(1, 1, model(3.f)), 2));
  claimed.header.sender = 0;
  remote(protocols::encode(claimed));
  CHECK(records.empty());
  remote(encode_report(report(1, 1, model(3.f)), 2));
  REQUIRE(records.size() == 1);
  CHECK(records[0].consensus_distance == Approx(1.0 * static_cast<double>(dim_)));
  caf::anon_send(monitor, finished_atom::value, std::int64_t{0});
  sched.run();
  CHECK(finished == 0);
  remote(encode_finished(1, 2));
  CHECK(finished == 1);
}

TEST_CASE_METHOD(monitor_fixture, "a replayed finished counts once: the run does not end early", "[actors][monitor]") {
  caf::anon_send(monitor, finished_atom::value, std::int64_t{0});
  caf::anon_send(monitor, finished_atom::value, std::int64_t{0});
  sched.run();
  CHECK(finished == 0);
  remote(encode_finished(1, 2));
  CHECK(finished == 1);
}

TEST_CASE_METHOD(
    monitor_fixture,
    "a round an agent skipped is written once every agent is past it; an interrupted run's last at the end",
    "[actors][monitor]") {
  caf::anon_send(monitor, report_atom::value, report(0, 5, model(1.f)));
  caf::anon_send(monitor, report_atom::value, report(1, 4, model(2.f)));
  sched.run();
  // Agent 0 is past round 4 (it was away then): round 4 is written from agent 1 alone.
  REQUIRE(records.size() == 1);
  CHECK(records[0].round == 4);
  // A late report of a written round changes nothing.
  caf::anon_send(monitor, report_atom::value, report(0, 4, model(7.f)));
  sched.run();
  CHECK(records.size() == 1);
  caf::anon_send(monitor, finished_atom::value, std::int64_t{0});
  caf::anon_send(monitor, finished_atom::value, std::int64_t{1});
  sched.run();
  CHECK(finished == 1);
  REQUIRE(records.size() == 2);  // rounds 4 and 5, each from its one report
  CHECK(records[0].round == 4);
  CHECK(records[1].round == 5);
  CHECK(records[0].consensus_distance == 0.0);
}
