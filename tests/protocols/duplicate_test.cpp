// The one duplicate rule of the algorithm base: a second copy of (sender,
// round, kind) within dedup_window rounds never reaches the algorithm, while
// the same sender's other rounds and kinds do; what the agent still waits
// for follows the first copy.

#include <catch2/catch.hpp>

#include "murmur/protocols/algorithms.hpp"
#include "murmur/protocols/plan.hpp"
#include "murmur/topology/catalogue.hpp"

using namespace murmur;
using namespace murmur::protocols;

TEST_CASE("a duplicated message is dropped once by the base, for every algorithm alike", "[protocols][duplicates]") {
  const std::int64_t n = 4;
  auto ring = topology::make_schedule({.kind = "ring", .n = n});
  REQUIRE(ring.ok());
  std::vector<float> x(8, 1.f), g(8, 0.f);
  auto alg = make_push_sum_sgd({.self = 0, .params = x, .grads = g}, {.sgd = {}});
  alg->begin_round(*local_plan((*ring)->at(0), weight_rule::push, 0, 0));
  while (alg->next().kind != step_kind::exchange) alg->complete();
  const auto waiting = alg->waiting_for();
  REQUIRE(waiting.size() == 2);  // both ring neighbours
  const std::vector<float> v(8, 3.f);
  const auto message = [&](std::int64_t from, std::uint64_t round) {
    return frame{.header = {.kind = message_kind::model,
                            .sender = static_cast<std::uint32_t>(from),
                            .receiver = 0,
                            .round = round,
                            .push_sum_weight = 0.5},
                 .body = dense_payload(v)};
  };
  alg->receive(message(waiting[0], 0));
  alg->receive(message(waiting[0], 0));  // the copy
  CHECK(alg->counters().messages_ignored == 1);
  CHECK(alg->waiting_for() == std::vector<std::int64_t>{waiting[1]});
  const double w = alg->push_sum_weight();
  alg->receive(message(waiting[0], 1));  // the same sender's next round is not a copy
  CHECK(alg->counters().messages_ignored == 1);
  CHECK(alg->push_sum_weight() > w);  // and its share was taken in
}
