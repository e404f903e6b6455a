#pragma once

// An algorithm's state between rounds, by name, for checkpoints: the
// vectors and numbers it cannot rebuild from its options (momentum buffers,
// running sums, error-feedback memory, push-sum weights, the generator). The
// same visit writes and reads it: `field(name, value)` copies the value out
// when saving and in when loading, so what is saved and what is restored
// never drift apart. Loading checks every name, type and (for vectors the
// algorithm sized itself) length; the first mismatch is kept as the error and
// the rest of the visit changes nothing.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "murmur/common/rng.hpp"

namespace murmur::protocols {

using state_value = std::variant<std::vector<float>, std::vector<double>, std::vector<std::int64_t>>;

class state_io {
 public:
  // A visit that collects the state.
  static state_io saver() { return state_io(true, {}); }
  // A visit that restores `values` (as a saver collected them).
  static state_io loader(std::map<std::string, state_value> values) { return state_io(false, std::move(values)); }

  bool saving() const { return saving_; }
  // Vectors the algorithm sized itself must come back with the same length;
  // `resizable` ones (per-peer sums that grow on first use) take the saved one.
  void field(const std::string& name, std::vector<float>& v, bool resizable = false) { vec(name, v, resizable); }
  void field(const std::string& name, std::vector<double>& v, bool resizable = false) { vec(name, v, resizable); }
  void field(const std::string& name, double& v);
  void field(const std::string& name, std::int64_t& v);
  void field(const std::string& name, std::uint64_t& v);
  void field(const std::string& name, bool& v);
  void field(const std::string& name, common::rng& g);
  // Per-peer state as "name.<peer>" entries (any peers, any lengths).
  template <class V>
  void field(const std::string& name, std::map<std::int64_t, V>& m) {
    if (saving_) {
      for (auto& [peer, v] : m) field(name + "." + std::to_string(peer), v, true);
      return;
    }
    m.clear();
    const auto prefix = name + ".";
    for (const auto& key : keys_with(prefix)) {
      std::int64_t peer = 0;
      if (!peer_of(key, prefix, peer)) {
        fail(key + " does not name a peer");
        return;
      }
      field(key, m[peer], true);
    }
  }

  // Loading: the peers of the "name.<peer>" entries.
  std::vector<std::int64_t> peers_of(const std::string& name) const;

  const std::map<std::string, state_value>& values() const { return values_; }
  // Loading: "" or the first entry that did not fit.
  const std::string& error() const { return error_; }
  // Loading: entries no field asked for (a file of another algorithm).
  std::vector<std::string> unused() const;

 private:
  state_io(bool saving, std::map<std::string, state_value> values) : saving_(saving), values_(std::move(values)) {}
  template <class T>
  void vec(const std::string& name, std::vector<T>& v, bool resizable);
  void field(const std::string& name, double& v, bool) { field(name, v); }
  void field(const std::string& name, std::uint64_t& v, bool) { field(name, v); }
  std::vector<std::string> keys_with(const std::string& prefix) const;
  static bool peer_of(const std::string& key, const std::string& prefix, std::int64_t& peer);
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }

  bool saving_;
  std::map<std::string, state_value> values_;
  std::map<std::string, bool> used_;
  std::string error_;
};

}  // namespace murmur::protocols
