// Partitions read from and written to files (JSON lists, NumPy .npy).

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "murmur/nn/partition.hpp"

namespace murmur::nn {
namespace {

using common::errc;
using common::make_error;

bool ends_with(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

common::result<std::string> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(errc::not_found, "data.partition_file: cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Checks the shards against the data set and each other.
common::result<partition> checked(const std::string& path, std::vector<std::vector<std::int64_t>> shards,
                                  std::int64_t samples, std::int64_t agents) {
  if (static_cast<std::int64_t>(shards.size()) != agents)
    return make_error(errc::mismatch, path + ": " + std::to_string(shards.size()) + " agents' lists, the run has " +
                                          std::to_string(agents) + " agents");
  std::vector<std::int64_t> owner(static_cast<std::size_t>(samples), -1);
  partition p;
  for (std::size_t a = 0; a < shards.size(); ++a) {
    if (shards[a].empty())
      return make_error(errc::invalid_argument, path + ": agent " + std::to_string(a) + "'s list is empty");
    for (const auto i : shards[a]) {
      if (i < 0 || i >= samples)
        return make_error(errc::invalid_argument, path + ": agent " + std::to_string(a) + " has sample " +
                                                      std::to_string(i) + ", outside 0 .. " +
                                                      std::to_string(samples - 1));
      auto& o = owner[static_cast<std::size_t>(i)];
      if (o >= 0)
        return make_error(errc::invalid_argument, path + ": sample " + std::to_string(i) + " is in agents " +
                                                      std::to_string(o) + " and " + std::to_string(a));
      o = static_cast<std::int64_t>(a);
    }
  }
  p.unused = std::ranges::count(owner, -1);
  p.shards = std::move(shards);
  return p;
}

common::result<std::vector<std::vector<std::int64_t>>> from_json(const std::string& path, const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error(errc::corrupt, path + ": not JSON");
  if (!j.is_array()) return make_error(errc::corrupt, path + ": expected a list of lists of sample indices");
  std::vector<std::vector<std::int64_t>> out;
  for (std::size_t a = 0; a < j.size(); ++a) {
    if (!j[a].is_array()) return make_error(errc::corrupt, path + ": entry " + std::to_string(a) + " is not a list");
    auto& shard = out.emplace_back();
    for (std::size_t k = 0; k < j[a].size(); ++k) {
      if (!j[a][k].is_number_integer())
        return make_error(errc::corrupt, path + ": agent " + std::to_string(a) + ", position " + std::to_string(k) +
                                             ": not an integer sample index");
      shard.push_back(j[a][k].get<std::int64_t>());
    }
  }
  return out;
}

// The value of `key` in a .npy header (a Python dict literal): the text up to
// the next top-level comma or closing brace.
std::string header_value(const std::string& header, const std::string& key) {
  const auto at = header.find("'" + key + "'");
  if (at == std::string::npos) return {};
  auto p = header.find(':', at);
  if (p == std::string::npos) return {};
  ++p;
  int depth = 0;
  std::string v;
  for (; p < header.size(); ++p) {
    const char c = header[p];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    v += c;
  }
  const auto a = v.find_first_not_of(' '), b = v.find_last_not_of(' ');
  return a == std::string::npos ? std::string{} : v.substr(a, b - a + 1);
}

common::result<std::vector<std::vector<std::int64_t>>> from_npy(const std::string& path, const std::string& data,
                                                                std::int64_t samples, std::int64_t agents) {
  static constexpr char magic[] = "\x93NUMPY";
  if (data.size() < 10 || data.compare(0, 6, magic, 6) != 0)
    return make_error(errc::corrupt, path + ": not a .npy file");
  const auto major = static_cast<unsigned char>(data[6]);
  std::size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(data[8]) | static_cast<std::size_t>(static_cast<unsigned char>(data[9]))
                                                           << 8;
    start = 10;
  } else if (major == 2 || major == 3) {
    if (data.size() < 12) return make_error(errc::corrupt, path + ": truncated .npy header");
    for (int k = 0; k < 4; ++k)
      header_len |= static_cast<std::size_t>(static_cast<unsigned char>(data[8 + k])) << (8 * k);
    start = 12;
  } else {
    return make_error(errc::unsupported, path + ": .npy version " + std::to_string(major));
  }
  if (start + header_len > data.size()) return make_error(errc::corrupt, path + ": truncated .npy header");
  const auto header = data.substr(start, header_len);
  const auto descr = header_value(header, "descr"), order = header_value(header, "fortran_order"),
             shape_text = header_value(header, "shape");
  std::size_t width = 0;
  bool is_signed = true;
  for (const auto& [name, w, s] : {std::tuple{"'<i8'", 8, true},
                                   {"'<i4'", 4, true},
                                   {"'<i2'", 2, true},
                                   {"'|i1'", 1, true},
                                   {"'<u8'", 8, false},
                                   {"'<u4'", 4, false},
                                   {"'<u2'", 2, false},
                                   {"'|u1'", 1, false}})
    if (descr == name) {
      width = static_cast<std::size_t>(w);
      is_signed = s;
    }
  if (width == 0) return make_error(errc::unsupported, path + ": dtype " + descr + " (little-endian integers only)");
  if (order != "False")
    return make_error(errc::unsupported, path + ": Fortran order (save it with np.ascontiguousarray)");
  std::vector<std::int64_t> shape;
  {
    std::string digits;
    for (const char c : shape_text + ",") {
      if (c >= '0' && c <= '9') {
        digits += c;
      } else if (c == ',' && !digits.empty()) {
        shape.push_back(std::stoll(digits));
        digits.clear();
      }
    }
  }
  if (shape.empty() || shape.size() > 2)
    return make_error(errc::corrupt, path + ": shape " + shape_text + " (1-D or 2-D)");
  std::int64_t count = 1;
  for (const auto d : shape) count *= d;
  const auto body = start + header_len;
  if (data.size() - body != static_cast<std::size_t>(count) * width)
    return make_error(errc::corrupt, path + ": " + std::to_string(data.size() - body) +
                                         " bytes of data, the shape needs " +
                                         std::to_string(static_cast<std::size_t>(count) * width));
  static_assert(std::endian::native == std::endian::little);
  const auto value = [&](std::int64_t k) -> std::int64_t {
    std::uint64_t u = 0;
    std::memcpy(&u, data.data() + body + static_cast<std::size_t>(k) * width, width);
    if (is_signed && width < 8 && (u >> (8 * width - 1)) & 1) u |= ~std::uint64_t{0} << (8 * width);
    return static_cast<std::int64_t>(u);
  };
  std::vector<std::vector<std::int64_t>> out;
  if (shape.size() == 2) {
    out.resize(static_cast<std::size_t>(shape[0]));
    for (std::int64_t a = 0; a < shape[0]; ++a)
      for (std::int64_t k = 0; k < shape[1]; ++k) out[static_cast<std::size_t>(a)].push_back(value(a * shape[1] + k));
    return out;
  }
  // One agent id per sample.
  if (shape[0] != samples)
    return make_error(errc::mismatch, path + ": an assignment of " + std::to_string(shape[0]) +
                                          " samples, the training set has " + std::to_string(samples));
  out.resize(static_cast<std::size_t>(agents));
  for (std::int64_t i = 0; i < samples; ++i) {
    const auto a = value(i);
    if (a == -1) continue;
    if (a < 0 || a >= agents)
      return make_error(errc::invalid_argument, path + ": sample " + std::to_string(i) + " is assigned to agent " +
                                                    std::to_string(a) + ", outside 0 .. " + std::to_string(agents - 1));
    out[static_cast<std::size_t>(a)].push_back(i);
  }
  return out;
}

}  // namespace

common::result<partition> read_partition_file(const std::string& path, std::int64_t samples, std::int64_t agents) {
  auto text = slurp(path);
  if (!text) return text.err();
  common::result<std::vector<std::vector<std::int64_t>>> shards =
      ends_with(path, ".npy") ? from_npy(path, *text, samples, agents)
      : ends_with(path, ".json")
          ? from_json(path, *text)
          : common::result<std::vector<std::vector<std::int64_t>>>(
                make_error(errc::invalid_argument, "data.partition_file: " + path + " is neither .json nor .npy"));
  if (!shards) return shards.err();
  return checked(path, std::move(*shards), samples, agents);
}

common::status write_partition_file(const std::string& path, const partition& p, std::int64_t samples) {
  std::string out;
  if (ends_with(path, ".json")) {
    out = nlohmann::json(p.shards).dump() + "\n";
  } else if (ends_with(path, ".npy")) {
    const bool equal = std::ranges::all_of(p.shards, [&](const auto& s) { return s.size() == p.shards[0].size(); });
    std::vector<std::int64_t> values;
    std::string shape;
    if (equal && !p.shards.empty()) {
      for (const auto& s : p.shards) values.insert(values.end(), s.begin(), s.end());
      shape = "(" + std::to_string(p.shards.size()) + ", " + std::to_string(p.shards[0].size()) + ")";
    } else {
      values.assign(static_cast<std::size_t>(samples), -1);
      for (std::size_t a = 0; a < p.shards.size(); ++a)
        for (const auto i : p.shards[a]) values.at(static_cast<std::size_t>(i)) = static_cast<std::int64_t>(a);
      shape = "(" + std::to_string(samples) + ",)";
    }
    std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': " + shape + ", }";
    // Version 1.0: the header, padded with spaces and ended by a newline, is
    // a multiple of 64 bytes together with the 10-byte preamble.
    header.append(63 - (10 + header.size()) % 64, ' ');
    header += '\n';
    out = std::string("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>(header.size() >> 8);
    out += header;
    out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(std::int64_t));
  } else {
    return make_error(errc::invalid_argument, "--write: " + path + " is neither .json nor .npy");
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return make_error(errc::io, "--write: cannot create " + path);
  f.write(out.data(), static_cast<std::streamsize>(out.size()));
  if (!f.flush()) return make_error(errc::io, "--write: cannot write " + path);
  return {};
}

}  // namespace murmur::nn
