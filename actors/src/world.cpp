#include "murmur/actors/world.hpp"

#include <sys/stat.h>

#include <zmq.h>
#include <array>
#include <filesystem>
#include <fstream>

#include "murmur/actors/transport.hpp"

namespace murmur::actors {
namespace {

using common::errc;
using common::make_error;

std::string key_path(const std::string& dir, std::int64_t k, const char* ext) {
  return (std::filesystem::path(dir) / ("process-" + std::to_string(k) + ext)).string();
}

// The value of `name = "..."` lines in a key file; "" when absent.
std::string field_of(const std::string& text, const std::string& name) {
  std::size_t at = 0;
  while (at < text.size()) {
    const auto end = std::min(text.find('\n', at), text.size());
    const auto line = text.substr(at, end - at);
    at = end + 1;
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto key = line.substr(0, eq);
    while (!key.empty() && key.back() == ' ') key.pop_back();
    if (key != name) continue;
    auto v = line.substr(eq + 1);
    const auto q1 = v.find('"'), q2 = v.rfind('"');
    if (q1 == std::string::npos || q2 == q1) return "";
    return v.substr(q1 + 1, q2 - q1 - 1);
  }
  return "";
}

common::result<std::string> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(errc::not_found, "cannot read " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > 4096) return make_error(errc::invalid_argument, path + " is not a murmur key file (too long)");
  return text;
}

}  // namespace

curve_keypair new_keypair() {
  std::array<char, 41> pub{}, sec{};
  // Fails only when libzmq lacks CURVE (Debian's has it, with libsodium).
  if (zmq_curve_keypair(pub.data(), sec.data()) != 0) return {};
  return {pub.data(), sec.data()};
}

bool is_curve_key(const std::string& z85) {
  if (z85.size() != 40) return false;
  std::array<std::uint8_t, 32> raw{};
  return zmq_z85_decode(raw.data(), z85.c_str()) != nullptr;
}

common::status write_keys(const std::string& dir, std::int64_t processes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(errc::io, "cannot create " + dir + ": " + ec.message());
  for (std::int64_t k = 0; k < processes; ++k) {
    const auto pair = new_keypair();
    if (pair.public_key.empty()) return make_error(errc::internal, "this libzmq cannot make CURVE keys");
    const auto secret = key_path(dir, k, ".key"), pub = key_path(dir, k, ".pub");
    {
      // The secret file is created private: never world-readable, not even briefly.
      const auto old = ::umask(077);
      std::ofstream out(secret, std::ios::trunc);
      ::umask(old);
      out << "# murmur CURVE key pair of process " << k << ": keep it secret\n"
          << "public = \"" << pair.public_key << "\"\nsecret = \"" << pair.secret_key << "\"\n";
      if (!out) return make_error(errc::io, "cannot write " + secret);
    }
    std::ofstream out(pub, std::ios::trunc);
    out << "# murmur CURVE public key of process " << k << "\npublic = \"" << pair.public_key << "\"\n";
    if (!out) return make_error(errc::io, "cannot write " + pub);
  }
  return {};
}

common::result<key_set> read_keys(const std::string& dir, std::int64_t rank, std::int64_t processes) {
  key_set out;
  for (std::int64_t k = 0; k < processes; ++k) {
    const auto path = key_path(dir, k, ".pub");
    auto text = slurp(path);
    if (!text)
      return make_error(errc::not_found, "[network] keys: " + text.err().message + " (murmur keygen --dir " + dir +
                                             " --processes " + std::to_string(processes) + " writes them)");
    const auto pub = field_of(*text, "public");
    if (!is_curve_key(pub))
      return make_error(errc::invalid_argument, "[network] keys: " + path + " holds no valid public key");
    out.publics.push_back(pub);
  }
  const auto path = key_path(dir, rank, ".key");
  auto text = slurp(path);
  if (!text) return make_error(errc::not_found, "[network] keys: " + text.err().message);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    return make_error(errc::invalid_argument,
                      "[network] keys: " + path + " is readable by others (chmod 600 " + path + ")");
  out.own = {field_of(*text, "public"), field_of(*text, "secret")};
  if (!is_curve_key(out.own.public_key) || !is_curve_key(out.own.secret_key))
    return make_error(errc::invalid_argument, "[network] keys: " + path + " holds no valid key pair");
  std::array<char, 41> derived{};
  if (zmq_curve_public(derived.data(), out.own.secret_key.c_str()) != 0 || out.own.public_key != derived.data())
    return make_error(errc::invalid_argument, "[network] keys: " + path + "'s public key is not its secret key's");
  if (out.own.public_key != out.publics[static_cast<std::size_t>(rank)])
    return make_error(errc::invalid_argument, "[network] keys: " + path + " and " + key_path(dir, rank, ".pub") +
                                                  " hold different public keys");
  return out;
}

std::vector<std::int64_t> place_agents(std::int64_t agents, std::int64_t processes, placement_kind kind) {
  std::vector<std::int64_t> home(static_cast<std::size_t>(agents));
  for (std::int64_t r = 0; r < processes; ++r) {
    if (kind == placement_kind::round_robin) {
      for (std::int64_t a = r; a < agents; a += processes) home[static_cast<std::size_t>(a)] = r;
    } else {
      // Process r hosts [r * agents / P, (r + 1) * agents / P): sizes differ by at most one.
      for (std::int64_t a = r * agents / processes; a < (r + 1) * agents / processes; ++a)
        home[static_cast<std::size_t>(a)] = r;
    }
  }
  return home;
}

std::string describe_placement(const std::vector<std::int64_t>& home, std::int64_t processes) {
  std::string out;
  for (std::int64_t r = 0; r < processes; ++r) {
    if (!out.empty()) out += "; ";
    out += "process " + std::to_string(r) + ":";
    std::int64_t first = -1, last = -2;
    std::size_t count = 0;
    const auto flush = [&] {
      if (first < 0) return;
      out += (count++ ? "," : " ") + std::to_string(first);
      if (last > first) out += "-" + std::to_string(last);
    };
    for (std::int64_t a = 0; a < static_cast<std::int64_t>(home.size()); ++a) {
      if (home[static_cast<std::size_t>(a)] != r) continue;
      if (a == last + 1) {
        last = a;
        continue;
      }
      flush();
      first = last = a;
    }
    flush();
    if (count == 0) out += " none";
  }
  return out;
}

world local_world(const settings& s, const std::string& run_id, std::int64_t rank, std::optional<key_set> keys) {
  world w;
  w.rank = rank;
  w.size = s.network.processes;
  for (std::int64_t r = 0; r < w.size; ++r) w.endpoints.push_back(endpoint(s.network, run_id, r));
  w.bind = w.endpoints[static_cast<std::size_t>(rank)];
  if (keys && s.network.transport != transport_kind::inproc) {
    w.key = keys->own;
    w.publics = keys->publics;
  }
  w.home = place_agents(s.topology.agents, w.size, s.network.placement);
  w.launcher = w.size > 1 ? "local processes" : "one process";
  return w;
}

}  // namespace murmur::actors
