#include "murmur/nn/safetensors.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace murmur::nn {
namespace {

using common::errc;
using common::make_error;
namespace fs = std::filesystem;

// Header size limit (the reference implementation uses 100 MB).
constexpr std::uint64_t max_header = 100'000'000;

// The safetensors names of murmur's element types.
constexpr common::enum_name<dtype> st_names[] = {{dtype::f32, "F32"}, {dtype::bf16, "BF16"}, {dtype::s8, "I8"},
                                                 {dtype::u8, "U8"},   {dtype::s32, "I32"},   {dtype::s64, "I64"},
                                                 {dtype::f64, "F64"}};

const char* st_name(dtype t) {
  for (const auto& n : st_names)
    if (n.value == t) return n.name.data();
  return "?";
}

bool st_parse(const std::string& s, dtype& out) {
  for (const auto& n : st_names)
    if (n.name == s) {
      out = n.value;
      return true;
    }
  return false;
}

std::string errno_text() { return std::strerror(errno); }

common::status write_all(int fd, const void* data, std::size_t size, const std::string& path) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(errc::io, path + ": write failed: " + errno_text());
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

common::status write_safetensors(const std::string& path, const std::vector<safetensor_view>& tensors,
                                 const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    if (t.data.size() != static_cast<std::size_t>(product(t.shape)) * size_of(t.type))
      return make_error(errc::internal, path + ": tensor " + t.name + " has the wrong byte count");
    header[t.name] = {
        {"dtype", st_name(t.type)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string text = header.dump();
  while (text.size() % 8 != 0) text += ' ';  // keeps the data 8-byte aligned
  std::uint64_t len = text.size();
  unsigned char len_le[8];
  for (int i = 0; i < 8; ++i) len_le[i] = static_cast<unsigned char>(len >> (8 * i));

  // Write a temporary file beside the target, flush it to disk, then rename.
  const fs::path target(path);
  const auto dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmp = (dir / ("." + target.filename().string() + ".tmp.XXXXXX")).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    return make_error(errc::io, path + ": cannot create a temporary file in " + dir.string() + ": " + errno_text());
  auto fail = [&](common::status s) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  };
  if (auto s = write_all(fd, len_le, 8, path); !s) return fail(s);
  if (auto s = write_all(fd, text.data(), text.size(), path); !s) return fail(s);
  for (const auto& t : tensors)
    if (auto s = write_all(fd, t.data.data(), t.data.size(), path); !s) return fail(s);
  if (::fsync(fd) != 0) return fail(make_error(errc::io, path + ": fsync failed: " + errno_text()));
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return make_error(errc::io, path + ": close failed: " + errno_text());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const auto msg = errno_text();
    ::unlink(tmp.c_str());
    return make_error(errc::io, path + ": rename failed: " + msg);
  }
  // Make the rename itself durable.
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

common::result<safetensors_file> parse_safetensors(std::span<const std::byte> bytes, const std::string& origin) {
  if (bytes.size() < 8)
    return make_error(errc::corrupt, origin + ": truncated (shorter than the 8-byte header length)");
  std::uint64_t len = 0;
  for (int i = 0; i < 8; ++i) len |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
  if (len > max_header || len > bytes.size() - 8)
    return make_error(errc::corrupt, origin + ": header length " + std::to_string(len) + " exceeds the file (" +
                                         std::to_string(bytes.size()) + " bytes): truncated or not a safetensors file");
  const auto* text = reinterpret_cast<const char*>(bytes.data() + 8);
  nlohmann::json header = nlohmann::json::parse(text, text + len, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return make_error(errc::corrupt, origin + ": the header is not a JSON object");
  const std::span<const std::byte> data = bytes.subspan(8 + len);

  safetensors_file out;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const auto& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) return make_error(errc::corrupt, origin + ": __metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          return make_error(errc::corrupt, origin + ": metadata " + m.key() + " is not a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const auto bad = [&](const std::string& what) {
      return make_error(errc::corrupt, origin + ": tensor " + name + ": " + what);
    };
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      return bad("needs dtype, shape and data_offsets");
    safetensor t;
    if (!v["dtype"].is_string() || !st_parse(v["dtype"].get<std::string>(), t.type)) return bad("unknown dtype");
    if (!v["shape"].is_array()) return bad("shape is not an array");
    std::uint64_t numel = 1;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) return bad("shape has a negative or non-integer dimension");
      const auto x = d.get<std::uint64_t>();
      if (x != 0 && numel > (std::uint64_t{1} << 40) / x) return bad("shape is implausibly large");
      numel *= x;
      t.shape.push_back(static_cast<std::int64_t>(x));
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return bad("data_offsets must be two non-negative integers");
    const auto begin = off[0].get<std::uint64_t>(), end = off[1].get<std::uint64_t>();
    if (begin > end || end > data.size()) return bad("data_offsets lie outside the file: truncated?");
    if (end - begin != numel * size_of(t.type)) return bad("byte range does not match dtype and shape");
    t.data.assign(data.begin() + static_cast<std::ptrdiff_t>(begin), data.begin() + static_cast<std::ptrdiff_t>(end));
    ranges.emplace_back(begin, end);
    out.tensors.emplace(name, std::move(t));
  }
  // The data ranges must tile the buffer exactly, without overlaps or holes.
  std::ranges::sort(ranges);
  std::uint64_t at = 0;
  for (auto [b, e] : ranges) {
    if (b != at) return make_error(errc::corrupt, origin + ": tensor data overlaps or leaves holes");
    at = e;
  }
  if (at != data.size())
    return make_error(errc::corrupt,
                      origin + ": " + std::to_string(data.size() - at) + " trailing bytes after the tensors");
  return out;
}

common::result<safetensors_file> read_safetensors(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return make_error(errc::not_found, path + ": no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(errc::io, path + ": cannot open");
  std::vector<std::byte> bytes(fs::file_size(path, ec));
  if (ec) return make_error(errc::io, path + ": cannot read its size");
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!in) return make_error(errc::io, path + ": read failed");
  return parse_safetensors(bytes, path);
}

}  // namespace murmur::nn
