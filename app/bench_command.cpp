// murmur bench train: training throughput (forward, backward, SGD step) of a
// model on random data, with the median over timed repetitions and the peak
// memory of training.

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "murmur/common/rng.hpp"
#include "murmur/nn/loss.hpp"
#include "murmur/nn/model.hpp"
#include "murmur/nn/optimizer.hpp"

namespace murmur::app {
namespace {

struct bench_args {
  std::string model = "lenet5", norm = "batchnorm", precision = "f32";
  std::int64_t batch = 32, steps = 50, warmup = 10, repeats = 5, classes = 10;
  std::vector<std::int64_t> input{1, 28, 28};
  int threads = 1;
  bool json = false, verbose = false;
  bool inference = false;  // murmur bench infer
};

// The process's peak resident memory so far, in MiB: VmHWM of this address
// space (getrusage's ru_maxrss would carry over the peak of the process that
// exec'd us, e.g. a Python benchmark script).
double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

int run(const bench_args& a) {
  if (a.input.size() != 3) return fail("--input needs three numbers C,H,W");
  auto norm = nn::parse_norm(a.norm);
  if (!norm) return fail(norm.err().message);
  // Inference also knows int8 (an f32 model whose convolutions and inner
  // products run in int8, calibrated on the benchmark's batch).
  const bool int8 = a.inference && a.precision == "int8";
  auto precision = int8 ? common::result<nn::precision>(nn::precision::f32) : nn::parse_precision(a.precision);
  if (!precision) return fail(precision.err().message + (a.inference ? " (or int8 for inference)" : ""));
  const double rss_before = peak_rss_mib();
  nn::model_spec spec{.name = a.model, .input = a.input, .classes = a.classes, .norm = *norm, .precision = *precision};
  auto built = nn::build_model(spec, a.threads);
  if (!built) return fail(built.err().message);
  nn::model& m = **built;
  for (const auto& w : m.warnings()) std::fprintf(stderr, "murmur: warning: %s\n", w.c_str());
  m.init(1);

  // Random normalised inputs and labels.
  nn::tensor images({a.batch, a.input[0], a.input[1], a.input[2]}, nn::dtype::f32, nn::layout::nhwc);
  std::vector<std::int32_t> labels(a.batch);
  common::rng gen(7);
  for (auto& x : images.f32_span()) x = static_cast<float>(gen.normal());
  for (auto& y : labels) y = static_cast<std::int32_t>(gen.uniform_int(static_cast<std::uint64_t>(a.classes)));
  nn::sgd opt(m.parameters().size(), {.momentum = 0.9, .weight_decay = 5e-4});
  nn::softmax_cross_entropy loss;
  if (int8) {
    m.context().begin_calibration();
    (void)m.forward(images, nn::mode::eval);
    m.context().end_calibration();
  }
  const auto infer_mode = int8 ? nn::mode::int8 : nn::mode::eval;
  const auto one_step = [&] {
    if (a.inference) {
      (void)m.forward(images, infer_mode);
      return;
    }
    const auto& logits = m.forward(images, nn::mode::train);
    (void)loss.compute(logits, labels);
    m.backward(loss.diff_logits());
    opt.step(m.parameters(), m.gradients(), 0.01);
  };
  for (std::int64_t i = 0; i < a.warmup; ++i) one_step();
  std::vector<double> rates;
  for (std::int64_t r = 0; r < a.repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < a.steps; ++i) one_step();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(static_cast<double>(a.batch * a.steps) / s);
  }
  std::ranges::sort(rates);
  const double median = rates[rates.size() / 2];
  // Peak memory of training: how far the process's high-water mark rose from
  // before the model was built (parameters, gradients, momentum, activations,
  // primitives and their scratchpad).
  const double peak_mib = peak_rss_mib() - rss_before;
  const char* ran_in = int8 ? "int8" : nn::to_string(m.spec().precision);
  const char* what = a.inference ? "inference" : "training";
  if (a.verbose)
    for (const auto& line : m.kernel_report()) std::fprintf(stderr, "  %s\n", line.c_str());
  if (a.json) {
    std::printf("%s\n",
                fmt::format(R"({{"model": "{}", "mode": "{}", "batch": {}, "threads": {}, "precision": "{}", )"
                            R"("images_per_second": {:.1f}, "min": {:.1f}, "max": {:.1f}, )"
                            R"("peak_memory_mib": {:.1f}}})",
                            a.model, what, a.batch, a.threads, ran_in, median, rates.front(), rates.back(), peak_mib)
                    .c_str());
  } else {
    std::printf(
        "%s\n",
        fmt::format("{} {} batch {} threads {} {}: {:.1f} img/s (median of {}; min {:.1f}, max {:.1f}), "
                    "peak memory {:.1f} MiB",
                    a.model, what, a.batch, a.threads, ran_in, median, a.repeats, rates.front(), rates.back(), peak_mib)
            .c_str());
  }
  return 0;
}

}  // namespace

runner add_bench_command(CLI::App& cmd, bool inference) {
  auto a = std::make_shared<bench_args>();
  a->inference = inference;
  cmd.add_option("--model", a->model, fmt::format("{}", fmt::join(nn::model_names(), " | ")))->capture_default_str();
  cmd.add_option("--batch", a->batch, "batch size")->capture_default_str()->check(CLI::Range(1, 65536));
  cmd.add_option("--threads", a->threads, "compute threads")->capture_default_str()->check(CLI::Range(1, 1024));
  cmd.add_option("--steps", a->steps, "steps per timed repetition")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd.add_option("--warmup", a->warmup, "untimed steps first")->capture_default_str()->check(CLI::Range(0, 1000000));
  cmd.add_option("--repeats", a->repeats, "timed repetitions (the median is reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd.add_option("--input", a->input, "sample shape C,H,W")->delimiter(',')->capture_default_str();
  cmd.add_option("--classes", a->classes, "classes")->capture_default_str()->check(CLI::Range(2, 100000));
  cmd.add_option("--norm", a->norm, "batchnorm | groupnorm | evonorm | range-evonorm")->capture_default_str();
  cmd.add_option("--precision", a->precision, inference ? "f32 | bf16 | int8" : "f32 | bf16")->capture_default_str();
  cmd.add_flag("--json", a->json, "print one JSON object");
  cmd.add_flag("--verbose", a->verbose, "print each layer's element type and oneDNN kernels");
  return [a] { return run(*a); };
}

}  // namespace murmur::app
