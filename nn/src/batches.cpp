#include "murmur/nn/batches.hpp"

#include <numeric>

#include <tbb/parallel_for.h>

#include "murmur/common/rng.hpp"

namespace murmur::nn {

void assemble_batch(const dataset& data, std::span<const std::int64_t> indices, tensor& images,
                    std::span<std::int32_t> labels, const augment_options& aug, std::uint64_t seed,
                    tbb::task_arena& arena) {
  const std::int64_t c = data.channels, h = data.height, w = data.width;
  const std::int64_t n = static_cast<std::int64_t>(indices.size());
  // Per channel: x -> (x / 255 - mean) / std, as a scale and a shift.
  std::vector<float> scale(c), shift(c);
  for (std::int64_t k = 0; k < c; ++k) {
    scale[k] = 1.f / (255.f * data.stddev[k]);
    shift[k] = -data.mean[k] / data.stddev[k];
  }
  float* out = images.f32();
  arena.execute([&] {
    tbb::parallel_for(std::int64_t{0}, n, [&](std::int64_t i) {
      const std::int64_t sample = indices[i];
      labels[i] = data.labels[sample];
      const std::uint8_t* src = data.images.data() + sample * data.sample_bytes();
      float* dst = out + i * h * w * c;
      std::int64_t dy = 0, dx = 0;
      bool flip = false;
      if (aug.crop_padding > 0 || aug.horizontal_flip) {
        auto gen = common::rng::derive(seed, static_cast<std::uint64_t>(sample));
        if (aug.crop_padding > 0) {
          const auto span = static_cast<std::uint64_t>(2 * aug.crop_padding + 1);
          dy = static_cast<std::int64_t>(gen.uniform_int(span)) - aug.crop_padding;
          dx = static_cast<std::int64_t>(gen.uniform_int(span)) - aug.crop_padding;
        }
        flip = aug.horizontal_flip && gen.uniform() < 0.5;
      }
      for (std::int64_t y = 0; y < h; ++y) {
        for (std::int64_t x = 0; x < w; ++x) {
          const std::int64_t sy = y + dy, sx0 = flip ? w - 1 - x : x, sx = sx0 + dx;
          const bool inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
          for (std::int64_t k = 0; k < c; ++k) {
            // Padding is a black pixel (value 0), as torchvision's RandomCrop pads.
            const float v = inside ? static_cast<float>(src[(sy * w + sx) * c + k]) : 0.f;
            dst[(y * w + x) * c + k] = v * scale[k] + shift[k];
          }
        }
      }
    });
  });
}

batch_loader::batch_loader(const dataset& data, std::vector<std::int64_t> indices, std::int64_t batch,
                           augment_options aug, std::uint64_t seed, int threads, bool drop_last)
    : data_(data),
      indices_(std::move(indices)),
      order_(indices_),
      batch_(batch),
      aug_(aug),
      seed_(seed),
      drop_last_(drop_last),
      arena_(threads < 1 ? 1 : threads),
      labels_(batch) {}

std::int64_t batch_loader::batches_per_epoch() const {
  const auto n = samples();
  return drop_last_ ? n / batch_ : (n + batch_ - 1) / batch_;
}

void batch_loader::start_epoch(std::int64_t epoch) {
  epoch_ = epoch;
  cursor_ = 0;
  order_ = indices_;
  auto gen = common::rng::derive(seed_, static_cast<std::uint64_t>(epoch) * 2);
  gen.shuffle(std::span(order_));
}

tensor& batch_loader::images_for(std::int64_t n) {
  tensor& t = n == batch_ ? full_ : last_;
  const dims want{n, data_.channels, data_.height, data_.width};
  if (t.shape() != want) t = tensor(want, dtype::f32, layout::nhwc);
  return t;
}

bool batch_loader::next(const tensor*& images, std::span<const std::int32_t>& labels) {
  const auto left = samples() - cursor_;
  if (left <= 0 || (drop_last_ && left < batch_)) return false;
  const auto n = std::min(batch_, left);
  tensor& out = images_for(n);
  const auto epoch_seed = seed_ ^ (0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(epoch_ * 2 + 1));
  assemble_batch(data_, std::span(order_).subspan(cursor_, n), out, std::span(labels_).first(n), aug_, epoch_seed,
                 arena_);
  cursor_ += n;
  images = &out;
  labels = std::span(labels_).first(n);
  return true;
}

}  // namespace murmur::nn
