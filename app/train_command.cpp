// murmur train: one model on one data set (or on one agent's shard of it).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "murmur/nn/checkpoint.hpp"
#include "murmur/nn/dataset.hpp"
#include "murmur/nn/partition.hpp"
#include "murmur/nn/trainer.hpp"
#include "terminal.hpp"

namespace murmur::app {
namespace {

struct train_args {
  std::string model = "lenet5", dataset = "fashion-mnist", data_dir, norm = "batchnorm", precision = "f32";
  std::int64_t epochs = 10, batch = 32, eval_batch = 500, groups = 0, chunks = 16, calibration_batches = 20;
  bool verbose = false;
  double lr = 0.02, momentum = 0.9, weight_decay = 1e-4, warmup_epochs = 0, lr_decay = 0.1;
  bool nesterov = false, augment = false, constant_lr = false;
  std::vector<double> milestones;
  int threads = 1;
  std::uint64_t seed = 1;
  std::string metrics, save, resume;
  std::int64_t agents = 1, agent = 0;
  std::string partition = "iid";
  double alpha = 1.0, skew = 0.0;
};

std::vector<std::int64_t> whole(std::int64_t n) {
  std::vector<std::int64_t> all(n);
  for (std::int64_t i = 0; i < n; ++i) all[i] = i;
  return all;
}

int run(const train_args& a) {
  // int8-eval: train in f32, evaluate in f32 and, after calibration, in int8.
  const bool int8_eval = a.precision == "int8-eval";
  auto precision = int8_eval ? common::result<nn::precision>(nn::precision::f32) : nn::parse_precision(a.precision);
  if (!precision) return fail("unknown precision '" + a.precision + "' (known: f32, bf16, int8-train, int8-eval)");
  if (a.agent < 0 || a.agent >= a.agents) return fail(fmt::format("--agent {} is not in [0, {})", a.agent, a.agents));
  // Check the cheap things before loading any data.
  const auto& names = nn::model_names();
  if (std::find(names.begin(), names.end(), a.model) == names.end())
    return fail("unknown model '" + a.model + "' (known: " + fmt::format("{}", fmt::join(names, ", ")) + ")");
  auto norm = nn::parse_norm(a.norm);
  if (!norm) return fail(norm.err().message);
  auto partition_scheme = nn::parse_partition_scheme(a.partition);
  if (!partition_scheme) return fail(partition_scheme.err().message);
  // Without --milestones the rate drops 10x at 60% and again at 80% of the epochs.
  std::vector<double> milestones = a.milestones;
  if (milestones.empty() && !a.constant_lr)
    milestones = {std::round(0.6 * static_cast<double>(a.epochs)), std::round(0.8 * static_cast<double>(a.epochs))};
  nn::lr_schedule schedule{
      .base_lr = a.lr, .warmup_epochs = a.warmup_epochs, .milestones = milestones, .gamma = a.lr_decay};
  if (auto s = schedule.validate(); !s) return fail(s.err().message);

  auto data = nn::load_dataset(a.dataset, a.data_dir);
  if (!data) return fail(data.err().message);
  const auto& train = data->train;
  const auto& test = data->test;

  nn::model_spec spec{.name = a.model,
                      .input = {train.channels, train.height, train.width},
                      .classes = train.classes,
                      .norm = *norm,
                      .groups = a.groups,
                      .chunks = a.chunks,
                      .precision = *precision};
  auto built = nn::build_model(spec, a.threads);
  if (!built) return fail(built.err().message);
  nn::model& m = **built;
  for (const auto& w : m.warnings()) std::fprintf(stderr, "murmur: warning: %s\n", w.c_str());
  const std::string ran_in = int8_eval ? "int8-eval" : nn::to_string(m.spec().precision);
  m.init(a.seed);

  std::vector<std::int64_t> shard = whole(train.size());
  if (a.agents > 1) {
    auto parts = nn::make_partition(
        train.labels, train.classes,
        {.scheme = *partition_scheme, .agents = a.agents, .alpha = a.alpha, .skew = a.skew, .seed = a.seed});
    if (!parts) return fail(parts.err().message);
    shard = parts->shards[a.agent];
  }

  nn::train_options opt{.batch = a.batch,
                        .eval_batch = a.eval_batch,
                        .schedule = schedule,
                        .optimizer = {.momentum = a.momentum, .nesterov = a.nesterov, .weight_decay = a.weight_decay},
                        .seed = a.seed,
                        .threads = a.threads};
  if (a.augment) opt.augment = {.crop_padding = 4, .horizontal_flip = true};
  const auto shard_size = static_cast<long long>(shard.size());
  common::steady_clock clock;
  nn::trainer t(m, train, std::move(shard), opt, clock);

  if (!a.resume.empty()) {
    auto pos = nn::load_checkpoint(a.resume, m, &t.optimizer());
    if (!pos) return fail(pos.err().message);
    t.set_position(pos->epoch, pos->step);
    std::fprintf(stderr, "resumed from %s after epoch %lld\n", a.resume.c_str(), static_cast<long long>(pos->epoch));
  }

  std::unique_ptr<std::ofstream> metrics;
  if (!a.metrics.empty()) {
    metrics = std::make_unique<std::ofstream>(a.metrics, std::ios::app);
    if (!*metrics) return fail(a.metrics + ": cannot open for writing");
  }

  std::printf("murmur train: %s (%zu parameters) on %s, %lld training samples, %d thread(s), %s\n", a.model.c_str(),
              m.store().parameter_count(), a.dataset.c_str(), shard_size, a.threads, ran_in.c_str());
  std::printf("%5s %10s %9s %9s %9s %10s %9s%s\n", "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "img/s",
              "wall_s", int8_eval ? "  int8_acc" : "");
  std::fflush(stdout);
  progress_line bar;
  const double start = clock.now_s();
  while (t.epochs_done() < a.epochs) {
    const auto epoch = t.epochs_done() + 1;
    const auto r = t.train_epoch([&](std::int64_t step, std::int64_t steps, double loss) {
      bar.update(fmt::format("epoch {}/{}", epoch, a.epochs), step, steps, fmt::format("loss {:.4f}", loss));
    });
    bar.clear();
    const auto e = t.evaluate(test);
    nn::eval_result e8;
    if (int8_eval) {
      t.calibrate(a.calibration_batches);
      e8 = t.evaluate(test, nn::mode::int8);
    }
    const double wall = clock.now_s() - start;
    std::printf("%5lld %10.4f %9.4f %9.4f %9.4f %10.0f %9.1f", static_cast<long long>(r.epoch), r.train_loss,
                r.train_accuracy, e.loss, e.accuracy, r.images_per_second, wall);
    if (int8_eval) std::printf(" %9.4f", e8.accuracy);
    std::printf("\n");
    if (a.verbose && r.epoch == 1)
      for (const auto& line : m.kernel_report()) std::fprintf(stderr, "  %s\n", line.c_str());
    std::fflush(stdout);
    if (metrics) {
      nlohmann::json j{{"epoch", r.epoch},
                       {"train_loss", r.train_loss},
                       {"train_accuracy", r.train_accuracy},
                       {"test_loss", e.loss},
                       {"test_accuracy", e.accuracy},
                       {"images_per_second", r.images_per_second},
                       {"wall_time_s", wall},
                       {"lr", r.lr},
                       {"model", a.model},
                       {"dataset", a.dataset},
                       {"precision", ran_in},
                       {"threads", a.threads},
                       {"batch", a.batch},
                       {"seed", a.seed}};
      if (int8_eval) {
        j["int8_test_loss"] = e8.loss;
        j["int8_test_accuracy"] = e8.accuracy;
      }
      *metrics << j.dump() << "\n";
      metrics->flush();
      if (!*metrics) return fail(a.metrics + ": write failed");
    }
    if (!a.save.empty()) {
      nn::training_position pos{.epoch = t.epochs_done(), .step = t.steps_done(), .seed = a.seed};
      if (auto s = nn::save_checkpoint(a.save, m, &t.optimizer(), pos); !s) return fail(s.err().message);
    }
  }
  return 0;
}

}  // namespace

runner add_train_command(CLI::App& cmd) {
  auto a = std::make_shared<train_args>();
  cmd.add_option("--model", a->model, fmt::format("{}", fmt::join(nn::model_names(), " | ")))->capture_default_str();
  cmd.add_option("--dataset", a->dataset, "fashion-mnist | mnist | cifar10")->capture_default_str();
  cmd.add_option(
      "--data-dir", a->data_dir,
      "folder of the data set's files (default for fashion-mnist: " + std::string(nn::default_fashion_mnist_dir) + ")");
  cmd.add_option("--epochs", a->epochs, "epochs to train")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd.add_option("--batch", a->batch, "batch size")->capture_default_str()->check(CLI::Range(1, 65536));
  cmd.add_option("--eval-batch", a->eval_batch, "batch size of evaluation")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  cmd.add_option("--lr", a->lr, "base learning rate")->capture_default_str();
  cmd.add_option("--momentum", a->momentum, "SGD momentum")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd.add_flag("--nesterov", a->nesterov, "Nesterov momentum");
  cmd.add_option("--weight-decay", a->weight_decay, "coupled L2 weight decay")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--warmup-epochs", a->warmup_epochs, "linear warm-up from 0.1 lr")->capture_default_str();
  cmd.add_option("--milestones", a->milestones,
                 "epochs at which lr is multiplied by --lr-decay (default: 60% and 80% of --epochs)")
      ->delimiter(',');
  cmd.add_flag("--constant-lr", a->constant_lr, "no decay (besides warm-up)");
  cmd.add_option("--lr-decay", a->lr_decay, "factor at each milestone")->capture_default_str();
  cmd.add_option("--norm", a->norm, "batchnorm | groupnorm | evonorm | range-evonorm (resnet20, vgg11)")
      ->capture_default_str();
  cmd.add_option("--groups", a->groups, "groups of the norm (0 = its default: groupnorm 2, evonorms 8)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  cmd.add_option("--precision", a->precision,
                 "f32 | bf16 (bf16 activations and weight copies, f32 master weights) | int8-train (8-bit "
                 "weights, activations and errors of convolutions and inner products, fake-quantised as the "
                 "thesis code) | int8-eval (train in f32, also evaluate in int8)")
      ->capture_default_str();
  cmd.add_option("--calibration-batches", a->calibration_batches, "training batches that calibrate int8")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd.add_flag("--verbose", a->verbose, "print each layer's element type and oneDNN kernels after the first epoch");
  cmd.add_option("--chunks", a->chunks, "chunks of range-evonorm")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd.add_flag("--augment", a->augment, "random crop (padding 4) and horizontal flip");
  cmd.add_option("--threads", a->threads, "compute threads")->capture_default_str()->check(CLI::Range(1, 1024));
  cmd.add_option("--seed", a->seed, "seed of initialisation, order and partition")->capture_default_str();
  cmd.add_option("--metrics", a->metrics, "append one JSON object per epoch to this file");
  cmd.add_option("--save", a->save, "write a safetensors checkpoint here after every epoch");
  cmd.add_option("--resume", a->resume, "continue from this checkpoint");
  cmd.add_option("--agents", a->agents, "split the training set over this many agents")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd.add_option("--agent", a->agent, "train on this agent's shard")->capture_default_str();
  cmd.add_option("--partition", a->partition, "iid | dirichlet | shards | skew")->capture_default_str();
  cmd.add_option("--alpha", a->alpha, "dirichlet concentration")->capture_default_str();
  cmd.add_option("--skew", a->skew, "skew mix fraction in [0, 1]")->capture_default_str();
  return [a] { return run(*a); };
}

}  // namespace murmur::app
