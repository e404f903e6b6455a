#include "murmur/nn/checkpoint.hpp"

#include <cstring>
#include <set>

#include <fmt/format.h>

#include "murmur/nn/safetensors.hpp"

namespace murmur::nn {
namespace {

using common::errc;
using common::make_error;

constexpr const char* momentum_prefix = "optimizer.momentum_buffer.";

std::string shape_text(const dims& d) {
  std::string s;
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "x" : "") + std::to_string(d[i]);
  return s;
}

template <class T>
std::span<const std::byte> bytes_of(std::span<T> s) {
  return std::as_bytes(s);
}

}  // namespace

common::status save_checkpoint(const std::string& path, model& m, const sgd* opt, const training_position& pos,
                               const checkpoint_extra& extra) {
  auto& store = m.store();
  std::vector<safetensor_view> views;
  for (std::size_t h = 0; h < store.parameter_entries().size(); ++h) {
    const auto& e = store.parameter_entries()[h];
    views.push_back({e.name, dtype::f32, e.shape, bytes_of(std::span<const float>(store.parameter(h)))});
  }
  for (std::size_t h = 0; h < store.buffer_entries().size(); ++h) {
    const auto& e = store.buffer_entries()[h];
    views.push_back({e.name, dtype::f32, e.shape, bytes_of(std::span<const float>(store.buffer(h)))});
  }
  for (std::size_t h = 0; h < store.counter_names().size(); ++h)
    views.push_back(
        {store.counter_names()[h], dtype::s64, {}, bytes_of(std::span<const std::int64_t>(&store.counter(h), 1))});
  if (opt && !opt->momentum_buffer().empty()) {
    for (const auto& e : store.parameter_entries())
      views.push_back(
          {momentum_prefix + e.name, dtype::f32, e.shape, bytes_of(opt->momentum_buffer().subspan(e.offset, e.numel))});
  }
  const auto& spec = m.spec();
  std::map<std::string, std::string> meta{
      {"format", "pt"},
      {"murmur.model", spec.name},
      {"murmur.input", shape_text(spec.input)},
      {"murmur.classes", std::to_string(spec.classes)},
      {"murmur.norm", to_string(spec.norm)},
      {"murmur.epoch", std::to_string(pos.epoch)},
      {"murmur.step", std::to_string(pos.step)},
      {"murmur.seed", std::to_string(pos.seed)},
  };
  views.insert(views.end(), extra.tensors.begin(), extra.tensors.end());
  for (const auto& [k, v] : extra.metadata) meta[k] = v;
  return write_safetensors(path, views, meta);
}

common::result<training_position> load_checkpoint(const std::string& path, model& m, sgd* opt,
                                                  const std::string& extra_prefix, safetensors_file* extra) {
  auto file = read_safetensors(path);
  if (!file) return file.err();
  const auto& spec = m.spec();
  const auto meta = [&](const std::string& key) {
    auto it = file->metadata.find(key);
    return it == file->metadata.end() ? std::string() : it->second;
  };
  if (meta("murmur.model") != spec.name)
    return make_error(errc::mismatch,
                      fmt::format("{}: checkpoint is of model '{}', not '{}'", path,
                                  meta("murmur.model").empty() ? "unknown" : meta("murmur.model"), spec.name));
  if (meta("murmur.input") != shape_text(spec.input) || meta("murmur.classes") != std::to_string(spec.classes))
    return make_error(errc::mismatch,
                      fmt::format("{}: checkpoint is for inputs {} with {} classes, the model for {} with {}", path,
                                  meta("murmur.input"), meta("murmur.classes"), shape_text(spec.input), spec.classes));
  auto& store = m.store();
  std::set<std::string> expected;
  const auto check = [&](const std::string& name, dtype type, const dims& shape) -> common::status {
    expected.insert(name);
    auto it = file->tensors.find(name);
    if (it == file->tensors.end()) return make_error(errc::mismatch, path + ": tensor " + name + " is missing");
    if (it->second.type != type || it->second.shape != shape)
      return make_error(errc::mismatch, fmt::format("{}: tensor {} is {} {}, the model needs {} {}", path, name,
                                                    to_string(it->second.type), to_string(it->second.shape),
                                                    to_string(type), to_string(shape)));
    return {};
  };
  for (const auto& e : store.parameter_entries())
    if (auto s = check(e.name, dtype::f32, e.shape); !s) return s.err();
  for (const auto& e : store.buffer_entries())
    if (auto s = check(e.name, dtype::f32, e.shape); !s) return s.err();
  for (const auto& name : store.counter_names())
    if (auto s = check(name, dtype::s64, {}); !s) return s.err();
  const bool has_momentum = file->tensors.count(momentum_prefix + store.parameter_entries().front().name) > 0;
  const bool load_momentum = opt && has_momentum && !opt->momentum_buffer().empty();
  if (has_momentum)
    for (const auto& e : store.parameter_entries())
      if (auto s = check(momentum_prefix + e.name, dtype::f32, e.shape); !s) return s.err();
  for (const auto& [name, t] : file->tensors)
    if (!expected.count(name) && (extra_prefix.empty() || !name.starts_with(extra_prefix)))
      return make_error(errc::mismatch, path + ": unexpected tensor " + name);

  training_position pos;
  try {
    pos.epoch = std::stoll(meta("murmur.epoch"));
    pos.step = std::stoll(meta("murmur.step"));
    pos.seed = std::stoull(meta("murmur.seed"));
  } catch (const std::exception&) {
    return make_error(errc::corrupt, path + ": training position (murmur.epoch/step/seed) is missing or not a number");
  }

  // Everything checked: now copy.
  const auto copy = [&](const std::string& name, void* dst) {
    const auto& t = file->tensors.at(name);
    std::memcpy(dst, t.data.data(), t.data.size());
  };
  for (std::size_t h = 0; h < store.parameter_entries().size(); ++h)
    copy(store.parameter_entries()[h].name, store.parameter(h).data());
  for (std::size_t h = 0; h < store.buffer_entries().size(); ++h)
    copy(store.buffer_entries()[h].name, store.buffer(h).data());
  for (std::size_t h = 0; h < store.counter_names().size(); ++h) copy(store.counter_names()[h], &store.counter(h));
  if (load_momentum)
    for (const auto& e : store.parameter_entries())
      copy(momentum_prefix + e.name, opt->momentum_buffer().data() + e.offset);
  if (extra) {
    extra->metadata = file->metadata;
    extra->tensors.clear();
    for (auto& [name, t] : file->tensors)
      if (!extra_prefix.empty() && name.starts_with(extra_prefix)) extra->tensors.emplace(name, std::move(t));
  }
  return pos;
}

}  // namespace murmur::nn
