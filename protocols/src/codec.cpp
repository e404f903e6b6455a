#include "murmur/protocols/codec.hpp"

#include "little_endian.hpp"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstring>

namespace murmur::protocols {
namespace {

using namespace detail;

using common::errc;
using common::make_error;

#define MURMUR_AT(field) offsetof(wire_header, field)

void put_header(std::span<std::byte> b, const frame_header& h, payload_encoding encoding, std::uint32_t dimension,
                std::uint32_t payload_length) {
  put_at(b, MURMUR_AT(magic), frame_magic);
  put_at(b, MURMUR_AT(version), frame_version);
  put_at(b, MURMUR_AT(kind), static_cast<std::uint16_t>(h.kind));
  put_at(b, MURMUR_AT(sender), h.sender);
  put_at(b, MURMUR_AT(receiver), h.receiver);
  put_at(b, MURMUR_AT(round), h.round);
  put_at(b, MURMUR_AT(sequence), h.sequence);
  put_at(b, MURMUR_AT(push_sum_weight), h.push_sum_weight);
  put_at(b, MURMUR_AT(encoding), static_cast<std::uint16_t>(encoding));
  put_at(b, MURMUR_AT(reserved), std::uint16_t{0});
  put_at(b, MURMUR_AT(payload_length), payload_length);
  put_at(b, MURMUR_AT(dimension), dimension);
  put_at(b, MURMUR_AT(checksum), std::uint32_t{0});  // filled in once the payload's CRC is known
}

common::error reject(const std::string& why) { return make_error(errc::corrupt, "frame rejected: " + why); }

// Packs `width`-bit codes LSB first.
struct bit_writer {
  std::vector<std::byte>& out;
  std::uint32_t acc = 0;
  int used = 0;
  void put(std::uint32_t code, int width) {
    acc |= code << used;
    used += width;
    while (used >= 8) {
      out.push_back(static_cast<std::byte>(acc & 0xff));
      acc >>= 8;
      used -= 8;
    }
  }
  void flush() {
    if (used > 0) out.push_back(static_cast<std::byte>(acc & 0xff));
    acc = 0;
    used = 0;
  }
};

std::uint32_t code_of(const payload& p, std::size_t i) {
  const int c = p.codes[i];
  if (p.encoding == payload_encoding::sign) return c < 0 ? 1u : 0u;
  return static_cast<std::uint32_t>(std::abs(c)) | (c < 0 ? 1u << p.bits : 0u);
}

void put_payload(writer& w, const payload& p) {
  switch (p.encoding) {
    case payload_encoding::dense_f32:
      if constexpr (std::endian::native == std::endian::little) {
        // The wire is little-endian f32: the bytes are the values' own.
        const auto at = w.out.size();
        w.out.resize(at + 4 * p.values.size());
        if (!p.values.empty())  // (memcpy of an empty vector's null data is undefined)
          std::memcpy(w.out.data() + at, p.values.data(), 4 * p.values.size());
      } else {
        for (float v : p.values) w.put(v);
      }
      return;
    case payload_encoding::sparse_f32:
      w.put(static_cast<std::uint32_t>(p.indices.size()));
      for (auto i : p.indices) w.put(i);
      for (float v : p.values) w.put(v);
      return;
    case payload_encoding::dense_bf16:
      for (float v : p.values) w.put(to_bf16_bits(v));
      return;
    case payload_encoding::dense_f16:
      for (float v : p.values) w.put(to_f16_bits(v));
      return;
    case payload_encoding::dense_f64:
      for (double v : p.wide) w.put(v);
      return;
    case payload_encoding::sign:
    case payload_encoding::qsgd: {
      if (p.encoding == payload_encoding::qsgd) w.put(p.bits);
      w.put(static_cast<std::uint32_t>(p.block_sizes.size()));
      for (auto b : p.block_sizes) w.put(b);
      for (float s : p.scales) w.put(s);
      const int width = p.encoding == payload_encoding::sign ? 1 : static_cast<int>(p.bits) + 1;
      bit_writer bits{w.out};
      for (std::size_t i = 0; i < p.codes.size(); ++i) bits.put(code_of(p, i), width);
      bits.flush();
      return;
    }
    case payload_encoding::record: {
      w.put(static_cast<std::uint32_t>(p.fields.size()));
      for (const auto& [name, value] : p.fields) {
        w.out.push_back(static_cast<std::byte>(name.size()));
        for (char c : name) w.out.push_back(static_cast<std::byte>(c));
        w.put(value);
      }
      for (float v : p.values) w.put(v);
      return;
    }
  }
}

}  // namespace

std::vector<std::byte> encode(const frame& f) { return encode(f.header, f.body); }

std::vector<std::byte> encode(const frame_header& header, const payload& body) {
  const auto length = body.wire_bytes();
  std::vector<std::byte> out(frame_header_size);
  out.reserve(frame_header_size + length);
  put_header(out, header, body.encoding, body.dimension, static_cast<std::uint32_t>(length));
  writer w{out};
  put_payload(w, body);
  put_at(std::span<std::byte>(out), MURMUR_AT(checksum), crc(out));  // the checksum field is still zero
  return out;
}

encoded_payload serialize_payload(const payload& body) {
  encoded_payload e{.encoding = body.encoding, .dimension = body.dimension};
  e.bytes.reserve(body.wire_bytes());
  writer w{e.bytes};
  put_payload(w, body);
  return e;
}

void seal_payload(encoded_payload& e) { e.crc = crc(e.bytes); }

encoded_payload encode_payload(const payload& body) {
  auto e = serialize_payload(body);
  seal_payload(e);
  return e;
}

header_bytes encode_header(const frame_header& header, const encoded_payload& body) {
  header_bytes out{};
  put_header(out, header, body.encoding, body.dimension, static_cast<std::uint32_t>(body.bytes.size()));
  const auto head = crc(out);
  put_at(std::span<std::byte>(out), MURMUR_AT(checksum),
         static_cast<std::uint32_t>(crc32_combine(head, body.crc, static_cast<z_off_t>(body.bytes.size()))));
  return out;
}

std::vector<std::byte> encode_dense(frame_header header, std::span<const float> values, payload_encoding encoding) {
  return encode({header, dense_payload(values, encoding)});
}

std::vector<std::byte> encode_sparse(frame_header header, std::uint32_t dimension,
                                     std::span<const std::uint32_t> indices, std::span<const float> values) {
  return encode({header, sparse_payload(dimension, {indices.begin(), indices.end()}, {values.begin(), values.end()})});
}

std::size_t dense_frame_bytes(payload_encoding encoding, std::uint32_t dimension) {
  payload p;
  p.encoding = encoding;
  p.dimension = dimension;
  return frame_bytes(p);
}

std::size_t sparse_frame_bytes(std::uint32_t count) { return frame_header_size + 4 + 8 * std::size_t{count}; }

namespace {

common::status reject_status(const std::string& why) { return reject(why); }

// Reads the block table of a sign or qsgd payload at `at`; returns the offset of the codes.
common::result<std::size_t> get_blocks(std::span<const std::byte> b, std::size_t at, payload& p) {
  if (b.size() < at + 4) return reject("quantized payload shorter than its block count");
  const auto count = get<std::uint32_t>(b, at);
  at += 4;
  if (count > p.dimension || (count == 0 && p.dimension > 0)) return reject("bad block count " + std::to_string(count));
  if ((b.size() - at) / 8 < count) return reject("quantized payload shorter than its block table");
  std::uint64_t total = 0;
  p.block_sizes.resize(count);
  p.scales.resize(count);
  for (std::uint32_t k = 0; k < count; ++k) {
    p.block_sizes[k] = get<std::uint32_t>(b, at + 4 * std::size_t{k});
    p.scales[k] = get<float>(b, at + 4 * std::size_t{count} + 4 * std::size_t{k});
    if (p.block_sizes[k] == 0) return reject("empty block " + std::to_string(k));
    if (!std::isfinite(p.scales[k]) || p.scales[k] < 0) return reject("bad scale in block " + std::to_string(k));
    total += p.block_sizes[k];
  }
  if (total != p.dimension) return reject("block sizes do not add up to the dimension");
  return at + 8 * std::size_t{count};
}

common::status get_codes(std::span<const std::byte> b, std::size_t at, payload& p) {
  const int width = p.encoding == payload_encoding::sign ? 1 : static_cast<int>(p.bits) + 1;
  const std::size_t bytes = (std::size_t{p.dimension} * static_cast<std::size_t>(width) + 7) / 8;
  if (b.size() - at != bytes) return reject_status("quantized payload length does not match the dimension");
  p.codes.resize(p.dimension);
  std::size_t bit = 0;
  const auto mask = (1u << width) - 1u;
  for (std::uint32_t i = 0; i < p.dimension; ++i, bit += static_cast<std::size_t>(width)) {
    std::uint32_t word = 0;
    for (std::size_t k = bit / 8; k < std::min(b.size() - at, (bit + static_cast<std::size_t>(width)) / 8 + 1); ++k)
      word |= static_cast<std::uint32_t>(b[at + k]) << (8 * (k - bit / 8));
    const auto code = (word >> (bit % 8)) & mask;
    if (p.encoding == payload_encoding::sign) {
      p.codes[i] = code ? -1 : 1;
    } else {
      const auto level = static_cast<int>(code & ((1u << p.bits) - 1u));
      p.codes[i] = static_cast<std::int8_t>(code >> p.bits ? -level : level);
    }
  }
  if (bit % 8 != 0 && (static_cast<std::uint32_t>(b[b.size() - 1]) >> (bit % 8)) != 0)
    return reject_status("padding bits after the last code are not zero");
  return {};
}

// record: u32 count, then per field u8 name length, the name, f64 value;
// then `dimension` f32 values.
common::status get_record(std::span<const std::byte> b, payload& p) {
  if (b.size() < 4) return reject_status("record payload shorter than its field count");
  const auto count = get<std::uint32_t>(b, 0);
  if (count > 256) return reject_status("record payload with " + std::to_string(count) + " fields (at most 256)");
  std::size_t at = 4;
  for (std::uint32_t k = 0; k < count; ++k) {
    if (at + 1 > b.size()) return reject_status("record field " + std::to_string(k) + " truncated");
    const auto length = static_cast<std::size_t>(b[at]);
    if (length < 1 || length > 32) return reject_status("record field name of " + std::to_string(length) + " bytes");
    if (at + 1 + length + 8 > b.size()) return reject_status("record field " + std::to_string(k) + " truncated");
    std::string name(length, ' ');
    for (std::size_t i = 0; i < length; ++i) {
      const auto c = static_cast<char>(b[at + 1 + i]);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
        return reject_status("record field name with a byte outside [a-z0-9_]");
      name[i] = c;
    }
    for (const auto& f : p.fields)
      if (f.first == name) return reject_status("record field '" + name + "' twice");
    const double value = get<double>(b, at + 1 + length);
    if (!std::isfinite(value)) return reject_status("record field '" + name + "' is not finite");
    p.fields.emplace_back(std::move(name), value);
    at += 1 + length + 8;
  }
  if (b.size() - at != 4 * std::size_t{p.dimension})
    return reject_status("record payload length does not match its fields and dimension");
  p.values.resize(p.dimension);
  for (std::size_t i = 0; i < p.dimension; ++i) {
    p.values[i] = get<float>(b, at + 4 * i);
    if (!std::isfinite(p.values[i])) return reject_status("non-finite value at index " + std::to_string(i));
  }
  return {};
}

common::status get_body(std::span<const std::byte> b, payload& p) {
  const std::size_t n = p.dimension;
  switch (p.encoding) {
    case payload_encoding::sparse_f32: {
      if (b.size() < 4) return reject_status("sparse payload shorter than its count");
      const auto k = get<std::uint32_t>(b, 0);
      if (b.size() != 4 + 8 * std::size_t{k}) return reject_status("sparse payload length does not match its count");
      if (k > n) return reject_status("more sparse entries than the dimension");
      p.indices.resize(k);
      p.values.resize(k);
      for (std::uint32_t i = 0; i < k; ++i) {
        p.indices[i] = get<std::uint32_t>(b, 4 + 4 * std::size_t{i});
        if (p.indices[i] >= n) return reject_status("index " + std::to_string(p.indices[i]) + " out of range");
        if (i > 0 && p.indices[i] <= p.indices[i - 1]) return reject_status("sparse indices not strictly increasing");
        p.values[i] = get<float>(b, 4 + 4 * std::size_t{k} + 4 * std::size_t{i});
        if (!std::isfinite(p.values[i]))
          return reject_status("non-finite value at index " + std::to_string(p.indices[i]));
      }
      return {};
    }
    case payload_encoding::dense_f64: {
      if (b.size() != 8 * n) return reject_status("dense payload length does not match the dimension");
      p.wide.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        p.wide[i] = get<double>(b, 8 * i);
        if (!std::isfinite(p.wide[i])) return reject_status("non-finite value at index " + std::to_string(i));
      }
      return {};
    }
    case payload_encoding::sign: {
      auto at = get_blocks(b, 0, p);
      if (!at) return at.err();
      return get_codes(b, *at, p);
    }
    case payload_encoding::record:
      return get_record(b, p);
    case payload_encoding::qsgd: {
      if (b.size() < 4) return reject_status("qsgd payload shorter than its bit width");
      p.bits = get<std::uint32_t>(b, 0);
      if (p.bits < 1 || p.bits > 7) return reject_status("qsgd bit width " + std::to_string(p.bits) + " not in 1..7");
      auto at = get_blocks(b, 4, p);
      if (!at) return at.err();
      return get_codes(b, *at, p);
    }
    default: {
      const std::size_t width = p.encoding == payload_encoding::dense_f32 ? 4 : 2;
      if (b.size() != width * n) return reject_status("dense payload length does not match the dimension");
      p.values.resize(n);
      if (std::endian::native == std::endian::little && p.encoding == payload_encoding::dense_f32) {
        if (n > 0) std::memcpy(p.values.data(), b.data(), 4 * n);
        // One pass that vectorizes; the slow path below names the index.
        bool finite = true;
        for (std::size_t i = 0; i < n; ++i) finite &= std::isfinite(p.values[i]);
        if (finite) return {};
      }
      for (std::size_t i = 0; i < n; ++i) {
        p.values[i] = p.encoding == payload_encoding::dense_f32    ? get<float>(b, 4 * i)
                      : p.encoding == payload_encoding::dense_bf16 ? from_bf16_bits(get<std::uint16_t>(b, 2 * i))
                                                                   : from_f16_bits(get<std::uint16_t>(b, 2 * i));
        if (!std::isfinite(p.values[i])) return reject_status("non-finite value at index " + std::to_string(i));
      }
      return {};
    }
  }
}

}  // namespace

common::result<frame> decode(std::span<const std::byte> bytes, const decode_limits& limits) {
  if (bytes.size() < frame_header_size)
    return reject("truncated: " + std::to_string(bytes.size()) + " bytes, the header alone is 56");
  return decode(bytes.first(frame_header_size), bytes.subspan(frame_header_size), limits);
}

common::result<frame> decode(std::span<const std::byte> bytes, std::span<const std::byte> body,
                             const decode_limits& limits) {
  if (bytes.size() != frame_header_size)
    return reject("header part of " + std::to_string(bytes.size()) + " bytes, not 56");
  if (get<std::uint32_t>(bytes, MURMUR_AT(magic)) != frame_magic) return reject("bad magic number");
  const auto version = get<std::uint16_t>(bytes, MURMUR_AT(version));
  if (version != frame_version) return reject("unknown version " + std::to_string(version));
  const auto kind = get<std::uint16_t>(bytes, MURMUR_AT(kind));
  if (kind < 1 || kind > 5) return reject("unknown kind " + std::to_string(kind));
  frame f;
  auto& h = f.header;
  h.kind = static_cast<message_kind>(kind);
  h.sender = get<std::uint32_t>(bytes, MURMUR_AT(sender));
  h.receiver = get<std::uint32_t>(bytes, MURMUR_AT(receiver));
  h.round = get<std::uint64_t>(bytes, MURMUR_AT(round));
  h.sequence = get<std::uint64_t>(bytes, MURMUR_AT(sequence));
  h.push_sum_weight = get<double>(bytes, MURMUR_AT(push_sum_weight));
  const auto encoding = get<std::uint16_t>(bytes, MURMUR_AT(encoding));
  if (encoding < 1 || encoding > 8) return reject("unknown payload encoding " + std::to_string(encoding));
  f.body.encoding = static_cast<payload_encoding>(encoding);
  if (get<std::uint16_t>(bytes, MURMUR_AT(reserved)) != 0) return reject("reserved field is not zero");
  const auto length = get<std::uint32_t>(bytes, MURMUR_AT(payload_length));
  f.body.dimension = get<std::uint32_t>(bytes, MURMUR_AT(dimension));
  if (f.body.dimension > limits.max_dimension)
    return reject("oversized: dimension " + std::to_string(f.body.dimension) + " exceeds " +
                  std::to_string(limits.max_dimension));
  if (body.size() != std::size_t{length})
    return reject("payload length " + std::to_string(length) + " does not match the " + std::to_string(body.size()) +
                  " bytes after the header");
  if (!limits.checksum_checked && !checksum_matches(bytes, body)) return reject("bad checksum");
  if (!std::isfinite(h.push_sum_weight)) return reject("non-finite push-sum weight");
  if (auto ok = get_body(body, f.body); !ok) return ok.err();
  return f;
}

bool checksum_matches(std::span<const std::byte> header, std::span<const std::byte> body) {
  if (header.size() != frame_header_size) return false;
  // Over the header with the checksum field zero, then the payload.
  std::byte head[frame_header_size];
  std::memcpy(head, header.data(), frame_header_size);
  std::memset(head + MURMUR_AT(checksum), 0, sizeof(wire_header::checksum));
  const auto actual = crc(body, crc(std::span<const std::byte>(head, frame_header_size)));
  return actual == get<std::uint32_t>(header, MURMUR_AT(checksum));
}

std::optional<header_peek> peek_header(std::span<const std::byte> bytes) {
  if (bytes.size() < frame_header_size || get<std::uint32_t>(bytes, MURMUR_AT(magic)) != frame_magic)
    return std::nullopt;
  return header_peek{.kind = get<std::uint16_t>(bytes, MURMUR_AT(kind)),
                     .sender = get<std::uint32_t>(bytes, MURMUR_AT(sender)),
                     .receiver = get<std::uint32_t>(bytes, MURMUR_AT(receiver)),
                     .round = get<std::uint64_t>(bytes, MURMUR_AT(round))};
}

#undef MURMUR_AT

}  // namespace murmur::protocols
