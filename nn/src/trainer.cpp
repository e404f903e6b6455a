#include "murmur/nn/trainer.hpp"

#include <numeric>

namespace murmur::nn {

trainer::trainer(model& m, const dataset& train, std::vector<std::int64_t> shard, train_options opt,
                 const common::clock& clock)
    : model_(m),
      train_(train),
      opt_(opt),
      clock_(clock),
      loader_(train, std::move(shard), opt.batch, opt.augment, opt.seed, opt.threads),
      sgd_(m.parameters().size(), opt.optimizer),
      eval_arena_(opt.threads < 1 ? 1 : opt.threads),
      evaluator_(opt.eval_batch, opt.threads) {}

epoch_result trainer::train_epoch(const progress_fn& progress) {
  epoch_result r;
  r.epoch = epochs_done_ + 1;
  loader_.start_epoch(epochs_done_);
  const auto steps = loader_.batches_per_epoch();
  const double start = clock_.now_s();
  double loss_sum = 0;
  std::int64_t correct = 0, seen = 0, step = 0;
  const tensor* images = nullptr;
  std::span<const std::int32_t> labels;
  while (loader_.next(images, labels)) {
    const double epoch_pos = static_cast<double>(epochs_done_) + static_cast<double>(step) / static_cast<double>(steps);
    r.lr = opt_.schedule.at(epoch_pos);
    const tensor& logits = model_.forward(*images, mode::train);
    const auto l = loss_.compute(logits, labels);
    model_.backward(loss_.diff_logits());
    sgd_.step(model_.parameters(), model_.gradients(), r.lr);
    const auto n = static_cast<std::int64_t>(labels.size());
    loss_sum += l.loss * static_cast<double>(n);
    correct += l.correct;
    seen += n;
    ++step;
    ++steps_done_;
    if (progress) progress(step, steps, loss_sum / static_cast<double>(seen));
  }
  r.train_seconds = clock_.now_s() - start;
  r.train_loss = seen ? loss_sum / static_cast<double>(seen) : 0;
  r.train_accuracy = seen ? static_cast<double>(correct) / static_cast<double>(seen) : 0;
  r.images_per_second = r.train_seconds > 0 ? static_cast<double>(seen) / r.train_seconds : 0;
  ++epochs_done_;
  return r;
}

void trainer::calibrate(std::int64_t batches) {
  auto& ctx = model_.context();
  ctx.begin_calibration();
  const auto& shard = loader_.shard();
  const auto n = std::min<std::int64_t>(static_cast<std::int64_t>(shard.size()), batches * opt_.batch);
  for (std::int64_t at = 0; at < n; at += opt_.batch) {
    const auto size = std::min(opt_.batch, n - at);
    const dims want{size, train_.channels, train_.height, train_.width};
    if (eval_images_.shape() != want) eval_images_ = tensor(want, dtype::f32, layout::nhwc);
    eval_labels_.resize(size);
    assemble_batch(train_, std::span(shard).subspan(at, size), eval_images_, eval_labels_, {}, 0, eval_arena_);
    (void)model_.forward(eval_images_, mode::eval);
  }
  ctx.end_calibration();
}

eval_result trainer::evaluate(const dataset& test, mode m) { return evaluator_.run(model_, test, m); }

evaluator::evaluator(std::int64_t batch, int threads) : batch_(batch), arena_(threads < 1 ? 1 : threads) {}

eval_result evaluator::run(model& m, const dataset& test, mode how, std::int64_t limit) {
  eval_result r;
  const std::int64_t total = limit > 0 ? std::min(limit, test.size()) : test.size();
  std::vector<std::int64_t> all(total);
  std::iota(all.begin(), all.end(), 0);
  double loss_sum = 0;
  std::int64_t correct = 0;
  for (std::int64_t at = 0; at < total; at += batch_) {
    const auto n = std::min(batch_, total - at);
    const dims want{n, test.channels, test.height, test.width};
    if (images_.shape() != want) images_ = tensor(want, dtype::f32, layout::nhwc);
    labels_.resize(n);
    assemble_batch(test, std::span(all).subspan(at, n), images_, labels_, {}, 0, arena_);
    const tensor& logits = m.forward(images_, how);
    const auto l = loss_.compute(logits, labels_, /*want_gradient=*/false);
    loss_sum += l.loss * static_cast<double>(n);
    correct += l.correct;
  }
  r.samples = total;
  r.loss = total ? loss_sum / static_cast<double>(total) : 0;
  r.accuracy = total ? static_cast<double>(correct) / static_cast<double>(total) : 0;
  return r;
}

}  // namespace murmur::nn
