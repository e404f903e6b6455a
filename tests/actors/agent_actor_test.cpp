// The agent actor on CAF's deterministic coordinator: three MLP agents on a
// ring of a tiny in-memory data set, an in-memory transport that keeps every
// frame for the test to deliver (or not), and a collector in the monitor's
// place. Time is the coordinator's clock.

#include "caf_catch.hpp"

#include <map>

#include "actors/test_support.hpp"
#include "agent_actor.hpp"
#include "murmur/protocols/codec.hpp"
#include "murmur/topology/catalogue.hpp"
#include "router.hpp"

using namespace murmur;
using namespace murmur::actors;

namespace {

// A well-formed one-value frame to agent 0.
wire_bytes forged(std::uint32_t sender, std::uint64_t round) {
  return owned_wire(
      protocols::encode_dense({.sender = sender, .receiver = 0, .round = round}, std::vector<float>{1.f}));
}

struct collected {
  std::vector<agent_report> reports;
  std::vector<std::int64_t> finished;
};

struct fixture : test_coordinator_fixture<> {
  fixture() {
    cfg_.model.name = "mlp";
    cfg_.data.batch = 8;
    cfg_.topology.agents = 3;
    cfg_.run.rounds = 3;
    cfg_.network.timeout_ms = 1000;
    cfg_.output.eval_every_epochs = 100;  // evaluate only at the end
    cfg_.output.eval_samples = 16;
  }

  // Spawns the agents (and the collector) once the test has set cfg_.
  void start() {
    train_ = tiny_data(1);
    test_ = tiny_data(2);
    schedule_ = *topology::make_schedule({.kind = "ring", .n = 3});
    shared_.cfg = &cfg_;
    shared_.train = &train_;
    shared_.test = &test_;
    shared_.schedule = schedule_.get();
    shared_.agents = 3;
    shared_.rounds = cfg_.run.rounds;
    shared_.rounds_per_epoch = 2;
    // (A dummy argument: CAF 0.17 dereferences a null tuple for actors spawned
    // without arguments, which UBSan reports.)
    collector = sys.spawn(
        [this](caf::event_based_actor*, int) -> caf::behavior {
          return {
              [this](report_atom, agent_report& r) { got.reports.push_back(std::move(r)); },
              [this](finished_atom, std::int64_t id) { got.finished.push_back(id); },
          };
        },
        0);
    for (std::int64_t i = 0; i < 3; ++i) {
      std::vector<std::int64_t> shard;
      for (std::int64_t k = i; k < 64; k += 3) shard.push_back(k);
      auto args = std::make_shared<agent_args>();
      args->core = std::move(*agent_core::create(i, shared_, shard));
      args->net = &net;
      args->routes = &routes;
      args->rejections = &rejected;
      args->fail = [this](std::string why) { failures.push_back(std::move(why)); };
      args->monitor = collector;
      args->cfg = &cfg_;
      args->clock = &clock_;
      agents.push_back(sys.spawn(agent_actor, args));
    }
    for (auto& a : agents) caf::anon_send(a, start_atom::value);
    settle();
  }

  // Runs every pending message, but fires no timeout (time stands still).
  void settle() { sched.run(); }

  // Hands the held frames (those `keep` accepts) to their receivers.
  template <class Keep>
  std::size_t deliver(Keep&& keep) {
    auto frames = std::exchange(net.frames, {});
    std::size_t n = 0;
    for (auto& f : frames) {
      if (!keep(f)) continue;
      caf::anon_send(agents[static_cast<std::size_t>(f.to)], frame_atom::value, owned_wire(std::move(f.bytes)));
      ++n;
    }
    settle();
    return n;
  }
  std::size_t deliver_all() {
    return deliver([](const auto&) { return true; });
  }

  rejection_table rejected{1};
  router routes{3, 1, &rejected};
  std::vector<std::string> failures;
  settings cfg_;
  nn::dataset train_, test_;
  std::unique_ptr<topology::schedule> schedule_;
  shared_run shared_;
  // The one report of `agent`.
  const agent_report& report_of(std::int64_t agent) const {
    const agent_report* found = nullptr;
    for (const auto& r : got.reports)
      if (r.metrics.agent == agent) {
        REQUIRE(found == nullptr);
        found = &r;
      }
    REQUIRE(found != nullptr);
    return *found;
  }

  common::manual_clock clock_;
  held_transport net;
  std::vector<caf::actor> agents;
  caf::actor collector;
  collected got;
};

std::uint64_t round_of(const std::vector<std::byte>& bytes) { return protocols::decode(bytes)->header.round; }

}  // namespace

TEST_CASE_METHOD(fixture, "a synchronous round sends to both ring neighbours and waits for both", "[actors]") {
  start();
  // Each agent took its gradient step and sent its model to its two neighbours.
  REQUIRE(net.frames.size() == 6);
  for (const auto& f : net.frames) CHECK(round_of(f.bytes) == 0);
  // Nothing more happens until frames arrive (or the 1 s timeout passes).
  advance_time(std::chrono::milliseconds(500));
  settle();
  CHECK(net.frames.size() == 6);
  CHECK(got.reports.empty());
  CHECK(deliver_all() == 6);
  // All three completed round 0 and sent round 1.
  REQUIRE(net.frames.size() == 6);
  for (const auto& f : net.frames) CHECK(round_of(f.bytes) == 1);
  deliver_all();
  deliver_all();
  // Three rounds: everyone reported and finished.
  CHECK(got.finished.size() == 3);
  REQUIRE(got.reports.size() == 3);
  for (const auto& r : got.reports) {
    CHECK(r.metrics.round == 3);
    CHECK(r.metrics.counters.messages_sent == 6);
    CHECK(r.metrics.counters.messages_received == 6);
    CHECK(r.metrics.counters.messages_missing == 0);
    CHECK(r.metrics.test_accuracy >= 0);
  }
}

TEST_CASE_METHOD(fixture, "a timeout lets an agent go on with the messages that arrived", "[actors]") {
  start();
  // Agent 0 hears only from agent 1; the others get everything.
  deliver([](const auto& f) { return !(f.to == 0 && f.from == 2); });
  // Agents 1 and 2 went on to round 1; agent 0 still waits.
  std::size_t round1 = 0;
  for (const auto& f : net.frames) round1 += round_of(f.bytes) == 1;
  CHECK(round1 == 4);
  advance_time(std::chrono::milliseconds(1001));
  settle();
  round1 = 0;
  for (const auto& f : net.frames) round1 += round_of(f.bytes) == 1;
  CHECK(round1 == 6);  // agent 0 timed out and sent its round-1 frames
  // Agent 2's round-0 frame arrives late: stale, not mixed.
  deliver_all();
  deliver_all();
  REQUIRE(got.reports.size() == 3);
  CHECK(report_of(0).metrics.counters.messages_missing == 1);
}

TEST_CASE_METHOD(fixture, "a duplicated frame is received twice and used once", "[actors]") {
  start();
  // Deliver everything, and agent 1's frame to agent 0 a second time.
  auto copy = net.frames;
  deliver_all();
  for (auto& f : copy)
    if (f.from == 1 && f.to == 0) net.frames.push_back(f);
  deliver_all();
  deliver_all();
  deliver_all();
  REQUIRE(got.reports.size() == 3);
  const auto& c = report_of(0).metrics.counters;
  CHECK(c.messages_received == 7);
  CHECK(c.messages_stale + c.messages_ignored == 1);
  CHECK(c.messages_missing == 0);
}

TEST_CASE_METHOD(fixture, "frames the fault layer drops never reach the transport and are counted", "[actors]") {
  cfg_.faults.drop = 0.5;
  cfg_.network.timeout_ms = 10;
  start();
  for (int i = 0; i < 10 && got.finished.size() < 3; ++i) {
    deliver_all();
    advance_time(std::chrono::milliseconds(11));
    settle();
  }
  REQUIRE(got.finished.size() == 3);
  std::uint64_t dropped = 0, sent = 0, received = 0;
  for (const auto& r : got.reports) {
    dropped += r.metrics.messages_dropped;
    sent += r.metrics.counters.messages_sent;
    received += r.metrics.counters.messages_received;
  }
  CHECK(sent == 18);
  CHECK(dropped > 0);
  CHECK(received == sent - dropped);
}

TEST_CASE_METHOD(fixture, "a garbled frame is rejected and counted, and the round goes on", "[actors]") {
  start();
  for (auto& f : net.frames)
    if (f.from == 1 && f.to == 0) f.bytes[60] ^= std::byte{0x40};  // breaks the checksum
  deliver_all();
  advance_time(std::chrono::milliseconds(1001));
  settle();
  deliver_all();
  deliver_all();
  deliver_all();
  REQUIRE(got.reports.size() == 3);
  CHECK(report_of(0).metrics.messages_rejected == 1);
  CHECK(report_of(0).metrics.counters.messages_missing == 1);
  CHECK(report_of(1).metrics.messages_rejected == 0);
}

TEST_CASE_METHOD(fixture, "frames of non-neighbours or past the last round are refused and counted", "[actors]") {
  cfg_.topology.agents = 3;
  const auto window = static_cast<std::uint64_t>(cfg_.network.window);
  cfg_.run.rounds = static_cast<std::int64_t>(window) + 2;
  start();
  caf::anon_send(agents[0], frame_atom::value, forged(2, window + 2));  // past the run's last round
  caf::anon_send(agents[0], frame_atom::value, forged(7, 0));           // no agent 7 in the ring of 3
  // A round beyond the window, and a bad checksum: refused, and it moves nothing.
  auto garbled = protocols::encode_dense({.sender = 1, .receiver = 0, .round = window + 1}, std::vector<float>{1.f});
  garbled.back() ^= std::byte{1};
  caf::anon_send(agents[0], frame_atom::value, owned_wire(std::move(garbled)));
  settle();
  CHECK(rejected.total(rejection::window) == 1);
  CHECK(rejected.total(rejection::neighbour) == 1);
  CHECK(rejected.total(rejection::codec) == 1);
  CHECK(rejected.from(rejection::window, -1) == 1);  // no authenticated peer in this test
  // The run goes on, unharmed: agent 0 runs every round.
  for (int i = 0; i < 40 && got.finished.size() < 3; ++i) deliver_all();
  REQUIRE(got.finished.size() == 3);
  CHECK(report_of(0).metrics.messages_rejected == 3);
  CHECK(report_of(0).metrics.lost[static_cast<std::size_t>(loss_cause::behind)] == 0);
  CHECK(report_of(0).metrics.counters.messages_missing == 0);
  CHECK(report_of(0).metrics.counters.messages_received == 2 * (window + 2));
  CHECK(failures.empty());
}

TEST_CASE_METHOD(fixture, "an agent with a neighbour beyond its window catches up to its round", "[actors]") {
  cfg_.network.window = 1;
  cfg_.network.timeout_ms = 10;
  start();
  caf::anon_send(agents[0], frame_atom::value, forged(1, 2));
  settle();
  // Agent 0 ends round 0 and jumps to round 2 (round 1 is not trained); the
  // others time out on its round 1 and finish.
  for (int i = 0; i < 20 && got.finished.size() < 3; ++i) {
    deliver_all();
    advance_time(std::chrono::milliseconds(11));
    settle();
  }
  REQUIRE(got.finished.size() == 3);
  const auto& m = report_of(0).metrics;
  CHECK(m.round == 3);
  CHECK(m.lost[static_cast<std::size_t>(loss_cause::behind)] == 1);
  CHECK(m.counters.messages_sent == 4);  // rounds 0 and 2 only
  CHECK(report_of(1).metrics.counters.messages_sent == 6);
  CHECK(rejected.total(rejection::window) == 0);
}

TEST_CASE_METHOD(fixture, "stop drains: agents finish the round in flight, report and end", "[actors]") {
  cfg_.run.rounds = 100;
  start();
  deliver_all();  // round 0 done; round 1 in flight
  for (auto& a : agents) caf::anon_send(a, stop_atom::value);
  settle();
  CHECK(got.finished.empty());  // still waiting for round-1 frames
  deliver_all();
  REQUIRE(got.finished.size() == 3);
  for (const auto& r : got.reports) {
    CHECK(r.metrics.round == 2);
    CHECK(r.metrics.test_accuracy >= 0);
  }
  // Nothing further is sent.
  CHECK(net.frames.empty());
}
