#include "murmur/protocols/codec.hpp"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace murmur::protocols {
namespace {

using common::errc;
using common::make_error;

// Little-endian writer and reader over bytes.
struct writer {
  std::vector<std::byte>& out;
  template <class T>
  void put(T v) {
    using U = std::conditional_t<sizeof(T) == 8, std::uint64_t,
                                 std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint16_t>>;
    const auto u = std::bit_cast<U>(v);
    for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<std::byte>((u >> (8 * i)) & 0xff));
  }
};

template <class T>
T get(std::span<const std::byte> b, std::size_t at) {
  using U = std::conditional_t<sizeof(T) == 8, std::uint64_t,
                               std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint16_t>>;
  U u = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) u |= static_cast<U>(static_cast<U>(b[at + i]) << (8 * i));
  return std::bit_cast<T>(u);
}

std::uint16_t to_bf16_bits(float f) {
  const auto u = std::bit_cast<std::uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40);
  return static_cast<std::uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

float from_bf16_bits(std::uint16_t b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }

std::uint32_t crc(std::span<const std::byte> bytes, std::uint32_t seed = 0) {
  uLong c = seed;
  // zlib's crc32 takes lengths as uInt: feed large buffers in pieces.
  std::size_t at = 0;
  while (at < bytes.size()) {
    const auto n = static_cast<uInt>(std::min<std::size_t>(bytes.size() - at, 1u << 30));
    c = crc32(c, reinterpret_cast<const Bytef*>(bytes.data() + at), n);
    at += n;
  }
  return static_cast<std::uint32_t>(c);
}

std::vector<std::byte> header_bytes(const frame_header& h, std::uint32_t payload_length) {
  std::vector<std::byte> out;
  out.reserve(frame_header_size + payload_length);
  writer w{out};
  w.put(frame_magic);
  w.put(frame_version);
  w.put(static_cast<std::uint16_t>(h.kind));
  w.put(h.sender);
  w.put(h.receiver);
  w.put(h.round);
  w.put(h.sequence);
  w.put(h.push_sum_weight);
  w.put(static_cast<std::uint16_t>(h.encoding));
  w.put(std::uint16_t{0});
  w.put(payload_length);
  w.put(h.dimension);
  w.put(std::uint32_t{0});  // checksum, filled in by seal()
  return out;
}

void seal(std::vector<std::byte>& frame) {
  const std::uint32_t c = crc(frame);  // checksum field is still zero
  for (int i = 0; i < 4; ++i) frame[52 + i] = static_cast<std::byte>((c >> (8 * i)) & 0xff);
}

common::error reject(const std::string& why) { return make_error(errc::corrupt, "frame rejected: " + why); }

}  // namespace

std::size_t dense_frame_bytes(payload_encoding encoding, std::uint32_t dimension) {
  return frame_header_size + dimension * (encoding == payload_encoding::dense_bf16 ? 2u : 4u);
}

std::size_t sparse_frame_bytes(std::uint32_t count) { return frame_header_size + 4 + 8 * std::size_t{count}; }

std::vector<std::byte> encode_dense(frame_header header, std::span<const float> values) {
  header.dimension = static_cast<std::uint32_t>(values.size());
  const bool bf16 = header.encoding == payload_encoding::dense_bf16;
  if (!bf16) header.encoding = payload_encoding::dense_f32;
  auto out = header_bytes(header, static_cast<std::uint32_t>(values.size() * (bf16 ? 2 : 4)));
  writer w{out};
  for (float v : values) {
    if (bf16)
      w.put(to_bf16_bits(v));
    else
      w.put(v);
  }
  seal(out);
  return out;
}

std::vector<std::byte> encode_sparse(frame_header header, std::span<const std::uint32_t> indices,
                                     std::span<const float> values) {
  header.encoding = payload_encoding::sparse_f32;
  const auto k = static_cast<std::uint32_t>(indices.size());
  auto out = header_bytes(header, 4 + 8 * k);
  writer w{out};
  w.put(k);
  for (auto i : indices) w.put(i);
  for (std::size_t i = 0; i < indices.size(); ++i) w.put(values[i]);
  seal(out);
  return out;
}

common::result<frame> decode(std::span<const std::byte> bytes, const decode_limits& limits) {
  if (bytes.size() < frame_header_size)
    return reject("truncated: " + std::to_string(bytes.size()) + " bytes, the header alone is 56");
  if (get<std::uint32_t>(bytes, 0) != frame_magic) return reject("bad magic number");
  const auto version = get<std::uint16_t>(bytes, 4);
  if (version != frame_version) return reject("unknown version " + std::to_string(version));
  const auto kind = get<std::uint16_t>(bytes, 6);
  if (kind < 1 || kind > 5) return reject("unknown kind " + std::to_string(kind));
  frame f;
  auto& h = f.header;
  h.kind = static_cast<message_kind>(kind);
  h.sender = get<std::uint32_t>(bytes, 8);
  h.receiver = get<std::uint32_t>(bytes, 12);
  h.round = get<std::uint64_t>(bytes, 16);
  h.sequence = get<std::uint64_t>(bytes, 24);
  h.push_sum_weight = get<double>(bytes, 32);
  const auto encoding = get<std::uint16_t>(bytes, 40);
  if (encoding < 1 || encoding > 3) return reject("unknown payload encoding " + std::to_string(encoding));
  h.encoding = static_cast<payload_encoding>(encoding);
  if (get<std::uint16_t>(bytes, 42) != 0) return reject("reserved field is not zero");
  const auto length = get<std::uint32_t>(bytes, 44);
  h.dimension = get<std::uint32_t>(bytes, 48);
  const auto checksum = get<std::uint32_t>(bytes, 52);
  if (h.dimension > limits.max_dimension)
    return reject("oversized: dimension " + std::to_string(h.dimension) + " exceeds " +
                  std::to_string(limits.max_dimension));
  if (bytes.size() != frame_header_size + std::size_t{length})
    return reject("payload length " + std::to_string(length) + " does not match the " +
                  std::to_string(bytes.size() - frame_header_size) + " bytes after the header");
  // Checksum over the header with the checksum field zero, then the payload.
  std::byte head[frame_header_size];
  std::memcpy(head, bytes.data(), frame_header_size);
  std::memset(head + 52, 0, 4);
  const auto actual = crc(bytes.subspan(frame_header_size), crc(std::span<const std::byte>(head, frame_header_size)));
  if (actual != checksum) return reject("bad checksum");
  if (!std::isfinite(h.push_sum_weight)) return reject("non-finite push-sum weight");

  const auto payload = bytes.subspan(frame_header_size);
  if (h.encoding == payload_encoding::sparse_f32) {
    if (length < 4) return reject("sparse payload shorter than its count");
    const auto k = get<std::uint32_t>(payload, 0);
    if (std::size_t{length} != 4 + 8 * std::size_t{k}) return reject("sparse payload length does not match its count");
    if (k > h.dimension) return reject("more sparse entries than the dimension");
    f.indices.resize(k);
    f.values.resize(k);
    for (std::uint32_t i = 0; i < k; ++i) {
      f.indices[i] = get<std::uint32_t>(payload, 4 + 4 * std::size_t{i});
      if (f.indices[i] >= h.dimension) return reject("index " + std::to_string(f.indices[i]) + " out of range");
      if (i > 0 && f.indices[i] <= f.indices[i - 1]) return reject("sparse indices not strictly increasing");
      f.values[i] = get<float>(payload, 4 + 4 * std::size_t{k} + 4 * std::size_t{i});
      if (!std::isfinite(f.values[i])) return reject("non-finite value at index " + std::to_string(f.indices[i]));
    }
    return f;
  }
  const std::size_t width = h.encoding == payload_encoding::dense_bf16 ? 2 : 4;
  if (std::size_t{length} != width * h.dimension) return reject("dense payload length does not match the dimension");
  f.values.resize(h.dimension);
  for (std::uint32_t i = 0; i < h.dimension; ++i) {
    f.values[i] = width == 2 ? from_bf16_bits(get<std::uint16_t>(payload, 2 * std::size_t{i}))
                             : get<float>(payload, 4 * std::size_t{i});
    if (!std::isfinite(f.values[i])) return reject("non-finite value at index " + std::to_string(i));
  }
  return f;
}

}  // namespace murmur::protocols
