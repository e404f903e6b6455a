// The run configuration: settings declared once round-trip through TOML, and
// [protocol] keys follow the chosen algorithm's registry entry.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "config.hpp"
#include "settings_schema.hpp"

using namespace murmur;

namespace {

struct temp_file {
  std::filesystem::path path;
  explicit temp_file(const std::string& text)
      : path(std::filesystem::temp_directory_path() /
             ("murmur_config_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++) + ".toml")) {
    std::ofstream(path) << text;
  }
  ~temp_file() { std::filesystem::remove(path); }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

actors::settings load(const std::string& text, const std::vector<std::string>& overrides = {}) {
  temp_file f(text);
  auto s = app::load_settings(f.path.string(), overrides);
  INFO((s ? std::string() : s.err().message));
  REQUIRE(s.ok());
  return *s;
}

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  temp_file f(text);
  auto s = app::load_settings(f.path.string(), overrides);
  REQUIRE_FALSE(s.ok());
  return s.err().message;
}

}  // namespace

TEST_CASE("an empty configuration gives the declared defaults", "[app][config]") {
  CHECK(load("") == actors::settings{});
}

TEST_CASE("load, write and load again gives equal settings", "[app][config]") {
  const std::vector<std::string> cases[] = {
      {},
      {"protocol.algorithm=\"push-sum\"", "protocol.running_sums=true", "protocol.compressor=\"top-k\"",
       "protocol.keep=0.05", "topology.kind=\"one-peer-exponential\"", "faults.drop=0.1", "faults.stragglers=[0, 3]",
       "optimizer.milestones=[2.5, 4]", "run.mode=\"async\"", "network.transport=\"tcp\""},
      {"protocol.algorithm=\"choco\"", "protocol.gamma=0.25", "model.norm=\"range-evonorm\"", "data.partition=\"iid\"",
       "topology.weights=\"choco\"", "run.seed=12345678901"},
      {"protocol.algorithm=\"ngm\"", "protocol.alpha=0", "protocol.momentum=\"quasi-global\"", "protocol.qgm_period=3"},
  };
  for (const auto& overrides : cases) {
    const auto first = load("", overrides);
    const auto written = app::to_toml(first);
    const auto second = load(written);
    INFO(written);
    CHECK(second == first);
    CHECK(app::to_toml(second) == written);
  }
}

TEST_CASE("the resolved configuration names every declared key and the algorithm's options", "[app][config]") {
  const auto s = load("", {"protocol.algorithm=\"gut\""});
  const auto text = app::to_toml(s);
  for (const auto& d : app::settings_schema()) CHECK(text.find("\n" + d.key + " = ") != std::string::npos);
  CHECK(text.find("\nmu = 0.9") != std::string::npos);
  CHECK(text.find("\ngamma = 1.0") != std::string::npos);
  CHECK(text.find("overlap") == std::string::npos);  // a push-sum key
}

TEST_CASE("a given protocol option overrides the algorithm's default", "[app][config]") {
  const auto s = load("[protocol]\nalgorithm = \"choco\"\n");
  const auto& choco = *protocols::find_algorithm("choco");
  CHECK(std::get<double>(choco.value_of(s.protocol.options, "gamma")) == 0.5);
  const auto t = load("[protocol]\nalgorithm = \"choco\"\ngamma = 0.3\n");
  CHECK(std::get<double>(choco.value_of(t.protocol.options, "gamma")) == 0.3);
  // An integer for a real option is read as a real.
  const auto u = load("[protocol]\nalgorithm = \"gut\"\nmu = 1\n");
  CHECK(std::get<double>(protocols::find_algorithm("gut")->value_of(u.protocol.options, "mu")) == 1.0);
}

TEST_CASE("an algorithm's own optimizer defaults apply unless [optimizer] or --set gives the key", "[app][config]") {
  // GUT runs as its authors ran it: no momentum, no Nesterov, no weight decay.
  const auto gut = load("[protocol]\nalgorithm = \"gut\"\n");
  CHECK(gut.optimizer == protocols::sgd_options{.momentum = 0, .nesterov = false, .weight_decay = 0});
  // QG-GUTm: the momentum given, the rest still GUT's.
  const auto qg = load("[protocol]\nalgorithm = \"gut\"\nmu = 0.06\n[optimizer]\nmomentum = 0.9\n");
  CHECK(qg.optimizer == protocols::sgd_options{.momentum = 0.9, .nesterov = false, .weight_decay = 0});
  const auto set = load("[protocol]\nalgorithm = \"ngm\"\n", {"optimizer.weight_decay=5e-4"});
  CHECK(set.optimizer == protocols::sgd_options{.momentum = 0.9, .nesterov = true, .weight_decay = 5e-4});
  // Algorithms without their own keep the global defaults.
  const auto dsgd = load("");
  CHECK(dsgd.optimizer == actors::settings{}.optimizer);
  // The resolved configuration holds the values used, so it loads back the same.
  CHECK(load(app::to_toml(qg)) == qg);
}

TEST_CASE("a protocol key the algorithm does not use names the algorithms that do", "[app][config]") {
  const auto e = error_of("[protocol]\nalgorithm = \"dsgd\"\noverlap = true\n");
  CHECK_THAT(e, Catch::Contains(":3:") && Catch::Contains("overlap is not used by algorithm = \"dsgd\"") &&
                    Catch::Contains("used by: push-sum"));
  // QGM's μ is not push-sum's (its QGM uses the optimizer's momentum): an error, not silence.
  CHECK_THAT(error_of("", {"protocol.algorithm=\"push-sum\"", "protocol.qgm_mu=0.5"}),
             Catch::Contains("--set protocol.qgm_mu") && Catch::Contains("used by: dsgd, all-reduce, ngm, ccl"));
  CHECK_THAT(error_of("[protocol]\nfoo = 1\n"), Catch::Contains("unknown key 'foo'") && Catch::Contains("algorithm"));
}

TEST_CASE("bad values are errors that say where and what", "[app][config]") {
  CHECK_THAT(error_of("[protocol]\nalgorithm = \"choco\"\ncompressor = \"zip\"\n"),
             Catch::Contains(":3:14: [protocol] compressor: unknown value \"zip\" (known: none, bf16"));
  CHECK_THAT(error_of("[protocol]\nalgorithm = \"push-sum\"\nmax_staleness = 1.5\n"),
             Catch::Contains("max_staleness: expected an integer"));
  CHECK_THAT(error_of("[run]\nmode = \"later\"\n"),
             Catch::Contains("mode: unknown value \"later\" (known: sync, async)"));
  CHECK_THAT(error_of("[faults]\nstragglers = [1, -2]\n"), Catch::Contains("entry -2 is outside"));
  CHECK_THAT(error_of("[topology]\nweights = 3\n"), Catch::Contains("weights: expected a string, got integer"));
}
