#include <catch2/catch.hpp>

#include <thread>

#include "murmur/nn/trainer.hpp"
#include "nn/synthetic_data.hpp"

using namespace murmur;
using namespace murmur::nn;

namespace {

std::vector<std::int64_t> all_of(const dataset& d) {
  std::vector<std::int64_t> v(d.size());
  for (std::int64_t i = 0; i < d.size(); ++i) v[i] = i;
  return v;
}

struct run_result {
  std::vector<float> params;
  eval_result eval;
};

run_result train_for(const std::string& name, const dataset& train, const dataset& test, int epochs,
                     std::uint64_t seed) {
  auto m = std::move(*build_model({.name = name, .input = {train.channels, train.height, train.width}}));
  m->init(seed);
  common::manual_clock clock;
  trainer t(*m, train, all_of(train),
            {.batch = 16, .schedule = {.base_lr = 0.02}, .optimizer = {.momentum = 0.9}, .seed = seed}, clock);
  for (int e = 0; e < epochs; ++e) (void)t.train_epoch();
  return {{m->parameters().begin(), m->parameters().end()}, t.evaluate(test)};
}

}  // namespace

TEST_CASE("LeNet-5 learns a learnable data set", "[nn][training]") {
  const auto train = test::synthetic_dataset(1500, 1, 12, 1);
  const auto test = test::synthetic_dataset(500, 1, 12, 2);
  const auto r = train_for("lenet5", train, test, 2, 3);
  // Chance is 0.1; the classes are separable.
  CHECK(r.eval.accuracy > 0.9);
  CHECK(r.eval.samples == 500);
}

TEST_CASE("training replays exactly from a seed", "[nn][training]") {
  const auto train = test::synthetic_dataset(200, 3, 8, 1);
  const auto test = test::synthetic_dataset(50, 3, 8, 2);
  const auto a = train_for("resnet20", train, test, 1, 7);
  const auto b = train_for("resnet20", train, test, 1, 7);
  const auto c = train_for("resnet20", train, test, 1, 8);
  CHECK(a.params == b.params);
  CHECK(a.params != c.params);
}

TEST_CASE("models train concurrently on separate threads without interfering", "[nn][training]") {
  const auto train = test::synthetic_dataset(200, 3, 8, 1);
  const auto test = test::synthetic_dataset(50, 3, 8, 2);
  const auto alone_a = train_for("resnet20", train, test, 1, 11);
  const auto alone_b = train_for("vgg11", train, test, 1, 12);
  run_result together_a, together_b;
  std::thread ta([&] { together_a = train_for("resnet20", train, test, 1, 11); });
  std::thread tb([&] { together_b = train_for("vgg11", train, test, 1, 12); });
  ta.join();
  tb.join();
  CHECK(together_a.params == alone_a.params);
  CHECK(together_b.params == alone_b.params);
}

TEST_CASE("a batch loader visits every sample of its shard once per epoch", "[nn][training]") {
  const auto data = test::synthetic_dataset(37, 1, 4, 1);
  batch_loader loader(data, {3, 5, 7, 11, 13, 17, 19, 23, 29, 31}, 4, {}, 1, 2);
  CHECK(loader.batches_per_epoch() == 3);
  for (int epoch = 0; epoch < 2; ++epoch) {
    loader.start_epoch(epoch);
    const tensor* images = nullptr;
    std::span<const std::int32_t> labels;
    std::vector<std::int32_t> seen;
    std::int64_t batches = 0;
    while (loader.next(images, labels)) {
      ++batches;
      CHECK(images->dim(0) == static_cast<std::int64_t>(labels.size()));
      seen.insert(seen.end(), labels.begin(), labels.end());
    }
    CHECK(batches == 3);
    std::vector<std::int32_t> want;
    for (auto i : {3, 5, 7, 11, 13, 17, 19, 23, 29, 31}) want.push_back(data.labels[i]);
    std::sort(seen.begin(), seen.end());
    std::sort(want.begin(), want.end());
    CHECK(seen == want);
  }
}
