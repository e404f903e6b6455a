// An agent's checkpoint (agent_core.hpp): the model, the algorithm's state
// under "protocol.<name>" (protocols/state.hpp) and the round, in one
// safetensors file.

#include <cstring>
#include <type_traits>
#include <variant>

#include "agent_core.hpp"
#include "murmur/nn/checkpoint.hpp"

namespace murmur::actors {

namespace {

constexpr const char* state_prefix = "protocol.";

template <class T>
nn::safetensor_view view_of(std::string name, nn::dtype type, const std::vector<T>& v) {
  return {std::move(name), type, {static_cast<std::int64_t>(v.size())}, std::as_bytes(std::span<const T>(v))};
}

}  // namespace

common::status agent_core::save_checkpoint(const std::string& path) {
  auto io = protocols::state_io::saver();
  alg_->state(io);
  nn::checkpoint_extra extra;
  for (const auto& [name, value] : io.values())
    std::visit(
        [&, &name = name](const auto& v) {
          using T = typename std::remove_cvref_t<decltype(v)>::value_type;
          const auto type = std::is_same_v<T, float>    ? nn::dtype::f32
                            : std::is_same_v<T, double> ? nn::dtype::f64
                                                        : nn::dtype::s64;
          extra.tensors.push_back(view_of(state_prefix + name, type, v));
        },
        value);
  extra.metadata = {{"murmur.agent", std::to_string(id_)},
                    {"murmur.round", std::to_string(round_)},
                    {"murmur.algorithm", entry_->name},
                    {"murmur.protocol", alg_->name()}};
  const nn::training_position pos{.epoch = static_cast<std::int64_t>(epoch()),
                                  .step = static_cast<std::int64_t>(round_),
                                  .seed = run_.cfg->run.seed};
  return nn::save_checkpoint(path, *model_, nullptr, pos, extra);
}

common::result<std::uint64_t> agent_core::load_checkpoint(const std::string& path) {
  using common::errc;
  // The header first: of this agent and algorithm, before the model is touched.
  auto file = nn::read_safetensors(path);
  if (!file) return file.err();
  const auto meta = [&](const char* key) {
    const auto it = file->metadata.find(key);
    return it == file->metadata.end() ? std::string("(none)") : it->second;
  };
  if (meta("murmur.agent") != std::to_string(id_))
    return common::make_error(
        errc::mismatch, path + ": a checkpoint of agent " + meta("murmur.agent") + ", not " + std::to_string(id_));
  if (meta("murmur.algorithm") != entry_->name || meta("murmur.protocol") != alg_->name())
    return common::make_error(errc::mismatch, path + ": a checkpoint of algorithm " + meta("murmur.algorithm") +
                                                  ", this run's is " + entry_->name);
  std::uint64_t round = 0;
  try {
    round = std::stoull(meta("murmur.round"));
  } catch (const std::exception&) {
    return common::make_error(errc::corrupt, path + ": murmur.round is missing or not a number");
  }
  if (round > static_cast<std::uint64_t>(run_.rounds))
    return common::make_error(errc::mismatch, path + ": round " + std::to_string(round) + " is past this run's " +
                                                  std::to_string(run_.rounds));
  nn::safetensors_file extra;
  if (auto pos = nn::load_checkpoint(path, *model_, nullptr, state_prefix, &extra); !pos) return pos.err();
  std::map<std::string, protocols::state_value> values;
  for (auto& [name, t] : extra.tensors) {
    const auto key = name.substr(std::string(state_prefix).size());
    const auto n = t.data.size();
    const auto take = [&](auto tag) {
      using T = decltype(tag);
      std::vector<T> v(n / sizeof(T));
      std::memcpy(v.data(), t.data.data(), v.size() * sizeof(T));
      values[key] = std::move(v);
    };
    if (t.shape.size() != 1) return common::make_error(errc::corrupt, path + ": " + name + " is not a vector");
    if (t.type == nn::dtype::f32)
      take(float{});
    else if (t.type == nn::dtype::f64)
      take(double{});
    else if (t.type == nn::dtype::s64)
      take(std::int64_t{});
    else
      return common::make_error(errc::corrupt, path + ": " + name + " has type " + nn::to_string(t.type));
  }
  auto io = protocols::state_io::loader(std::move(values));
  alg_->state(io);
  if (!io.error().empty()) return common::make_error(errc::mismatch, path + ": protocol state " + io.error());
  if (const auto unused = io.unused(); !unused.empty())
    return common::make_error(errc::mismatch, path + ": protocol state " + unused.front() + " is not this algorithm's");
  round_ = round;
  loader_epoch_ = -1;
  skip_batches_ = step() % static_cast<std::uint64_t>(run_.rounds_per_epoch);
  batch_round_ = -1;
  return round;
}

}  // namespace murmur::actors
