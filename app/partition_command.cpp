// murmur partition: split a training set over agents and print each agent's
// label histogram.

#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "murmur/nn/dataset.hpp"
#include "murmur/nn/partition.hpp"

namespace murmur::app {
namespace {

struct partition_args {
  std::string dataset = "fashion-mnist", data_dir, scheme = "dirichlet";
  std::int64_t agents = 16;
  double alpha = 0.1, skew = 0.8;
  std::uint64_t seed = 1;
  std::int64_t train_limit = 0;
  std::string write;  // also write the partition here (.json or .npy)
};

int run(const partition_args& a) {
  auto scheme = nn::parse_partition_scheme(a.scheme);
  if (!scheme) return fail(scheme.err().message);
  auto data = nn::load_dataset(a.dataset, a.data_dir);
  if (!data) return fail(data.err().message);
  auto& train = data->train;
  if (a.train_limit > 0 && a.train_limit < train.size()) {
    train.labels.resize(static_cast<std::size_t>(a.train_limit));
    train.images.resize(static_cast<std::size_t>(a.train_limit * train.sample_bytes()));
  }
  auto p =
      nn::make_partition(train.labels, train.classes,
                         {.scheme = *scheme, .agents = a.agents, .alpha = a.alpha, .skew = a.skew, .seed = a.seed});
  if (!p) return fail(p.err().message);
  std::printf("%s over %lld agents (%s", a.dataset.c_str(), static_cast<long long>(a.agents), a.scheme.c_str());
  if (*scheme == nn::partition_scheme::dirichlet) std::printf(", alpha %g", a.alpha);
  if (*scheme == nn::partition_scheme::skew) std::printf(", skew %g", a.skew);
  std::printf(", seed %llu)\n%s", static_cast<unsigned long long>(a.seed),
              p->histogram_table(train.labels, train.classes).c_str());
  if (!a.write.empty()) {
    if (auto ok = nn::write_partition_file(a.write, *p, train.size()); !ok) return fail(ok.err().message);
    std::printf("written: %s (data.partition_file = \"%s\" uses it)\n", a.write.c_str(), a.write.c_str());
  }
  return 0;
}

}  // namespace

runner add_partition_command(CLI::App& cmd) {
  auto a = std::make_shared<partition_args>();
  cmd.add_option("--dataset", a->dataset, "fashion-mnist | mnist | cifar10")->capture_default_str();
  cmd.add_option("--data-dir", a->data_dir, "folder of the data set's files");
  cmd.add_option("--agents", a->agents, "agents")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd.add_option("--scheme", a->scheme, "iid | dirichlet | shards | skew")->capture_default_str();
  cmd.add_option("--alpha", a->alpha, "dirichlet concentration")->capture_default_str();
  cmd.add_option("--skew", a->skew, "skew mix fraction")->capture_default_str();
  cmd.add_option("--seed", a->seed, "seed (a run's is run.seed)")->capture_default_str();
  cmd.add_option("--train-limit", a->train_limit, "only the first N training samples (a run's data.train_limit)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--write", a->write, "also write the partition to this file (.json or .npy)");
  return [a] { return run(*a); };
}

}  // namespace murmur::app
