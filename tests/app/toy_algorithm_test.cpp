// Adding an algorithm after the registry: this file is the whole change. A
// toy algorithm (local SGD with a scaled step, no communication) is defined
// and registered here; the configuration reader then knows its name and its
// option (with its default), rejects keys it does not use, and the protocol
// harness runs it like any built-in algorithm.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "config.hpp"
#include "murmur/protocols/registry.hpp"
#include "protocols/harness.hpp"

using namespace murmur;
using namespace murmur::protocols;

namespace {

class toy_local_sgd final : public algorithm {
 public:
  toy_local_sgd(agent_context context, double lr_scale) : algorithm(std::move(context)), lr_scale_(lr_scale) {}
  std::string name() const override { return "toy-local-sgd"; }

 protected:
  std::vector<request> plan_steps() override { return {{.kind = step_kind::gradient}}; }
  void on_finish(const request&) override {
    auto x = params();
    const auto g = grads();
    const double step = plan().learning_rate * lr_scale_;
    for (std::size_t i = 0; i < x.size(); ++i) x[i] -= static_cast<float>(step * g[i]);
  }
  void on_message(frame) override { ++stats().messages_ignored; }

 private:
  double lr_scale_;
};

// The one registration.
const bool registered =
    register_algorithm(
        {.name = "toy-local-sgd",
         .summary = "a toy: local SGD with a scaled step, no gossip",
         .options =
             {{.name = "lr_scale", .default_value = 1.0, .help = "factor on the learning rate", .lo = 0, .hi = 10}},
         .make =
             [](algorithm_inputs in, const option_reader& o) {
               return std::unique_ptr<algorithm>(
                   std::make_unique<toy_local_sgd>(std::move(in.context), o.number("lr_scale")));
             }})
        .ok();

std::string write_config(const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("murmur_toy_" + std::to_string(::getpid()) + ".toml");
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

TEST_CASE("an algorithm registered in one file is configurable and runs", "[app][registry]") {
  REQUIRE(registered);
  REQUIRE(find_algorithm("toy-local-sgd") != nullptr);
  CHECK_FALSE(register_algorithm({.name = "toy-local-sgd", .make = find_algorithm("dsgd")->make}).ok());

  // The configuration reader knows its option and its default ...
  const auto path = write_config("[protocol]\nalgorithm = \"toy-local-sgd\"\nlr_scale = 0.5\n");
  auto s = app::load_settings(path, {});
  REQUIRE(s.ok());
  CHECK(app::to_toml(*s).find("lr_scale = 0.5") != std::string::npos);
  CHECK(app::to_toml(*app::load_settings(path, {"protocol.lr_scale=1"})).find("lr_scale = 1.0") != std::string::npos);
  // ... and refuses another algorithm's key for it.
  auto bad = app::load_settings(path, {"protocol.gamma=0.5"});
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.err().message, Catch::Contains("not used by algorithm = \"toy-local-sgd\""));
  std::filesystem::remove(path);

  // The harness runs it: each agent descends its own least-squares problem.
  const auto& entry = *find_algorithm("toy-local-sgd");
  option_values values;
  values.set("lr_scale", 0.5);
  testing::least_squares problem(4, 3, 6, 0.5, 1);
  testing::network net(4, 3, [&](agent_context c) { return std::move(*entry.create({.context = c}, values)); });
  const auto loss = [&] {
    std::vector<float> g(3);
    double total = 0;
    for (std::int64_t i = 0; i < 4; ++i) total += problem.gradient(i, net.params(i), g);
    return total;
  };
  const auto ring = topology::static_schedule(*topology::ring(4));
  const double start = loss();
  net.run(
      *ring, weight_rule::metropolis_hastings, 50, [](std::int64_t) { return 0.02; }, &problem);
  CHECK(loss() < 0.5 * start);
  CHECK(net.agent(0).counters().messages_sent == 0);
}
