#include "murmur/protocols/state.hpp"

#include <bit>
#include <charconv>

namespace murmur::protocols {

template <class T>
void state_io::vec(const std::string& name, std::vector<T>& v, bool resizable) {
  if (saving_) {
    values_[name] = v;
    return;
  }
  if (!error_.empty()) return;
  const auto it = values_.find(name);
  if (it == values_.end()) return fail(name + " is missing");
  const auto* saved = std::get_if<std::vector<T>>(&it->second);
  if (!saved) return fail(name + " has another type");
  if (!resizable && saved->size() != v.size())
    return fail(name + " has " + std::to_string(saved->size()) + " values, the algorithm needs " +
                std::to_string(v.size()));
  used_[name] = true;
  v = *saved;
}

template void state_io::vec(const std::string&, std::vector<float>&, bool);
template void state_io::vec(const std::string&, std::vector<double>&, bool);
template void state_io::vec(const std::string&, std::vector<std::int64_t>&, bool);

void state_io::field(const std::string& name, double& v) {
  std::vector<double> one{v};
  vec(name, one, false);
  if (!saving_ && error_.empty()) v = one[0];
}

void state_io::field(const std::string& name, std::int64_t& v) {
  std::vector<std::int64_t> one{v};
  vec(name, one, false);
  if (!saving_ && error_.empty()) v = one[0];
}

void state_io::field(const std::string& name, std::uint64_t& v) {
  auto s = static_cast<std::int64_t>(v);
  field(name, s);
  if (!saving_ && error_.empty()) v = static_cast<std::uint64_t>(s);
}

void state_io::field(const std::string& name, bool& v) {
  std::int64_t s = v ? 1 : 0;
  field(name, s);
  if (!saving_ && error_.empty()) v = s != 0;
}

void state_io::field(const std::string& name, common::rng& g) {
  const auto words = g.state();
  std::vector<std::int64_t> s;
  for (auto w : words) s.push_back(std::bit_cast<std::int64_t>(w));
  vec(name, s, false);
  if (saving_ || !error_.empty()) return;
  std::array<std::uint64_t, 4> back{};
  for (std::size_t k = 0; k < back.size(); ++k) back[k] = std::bit_cast<std::uint64_t>(s[k]);
  g.restore(back);
}

std::vector<std::string> state_io::keys_with(const std::string& prefix) const {
  std::vector<std::string> out;
  for (auto it = values_.lower_bound(prefix); it != values_.end() && it->first.starts_with(prefix); ++it)
    out.push_back(it->first);
  return out;
}

bool state_io::peer_of(const std::string& key, const std::string& prefix, std::int64_t& peer) {
  const char* b = key.data() + prefix.size();
  const char* e = key.data() + key.size();
  const auto [end, ec] = std::from_chars(b, e, peer);
  return ec == std::errc() && end == e && b != e;
}

std::vector<std::int64_t> state_io::peers_of(const std::string& name) const {
  std::vector<std::int64_t> out;
  const auto prefix = name + ".";
  for (const auto& key : keys_with(prefix))
    if (std::int64_t peer = 0; peer_of(key, prefix, peer)) out.push_back(peer);
  return out;
}

std::vector<std::string> state_io::unused() const {
  std::vector<std::string> out;
  for (const auto& [name, v] : values_)
    if (!used_.contains(name)) out.push_back(name);
  return out;
}

}  // namespace murmur::protocols
