#pragma once

// The wire frame (DESIGN.md, "The wire"): a fixed 56-byte little-endian
// header followed by a dense or sparse payload. The decoder trusts nothing:
// truncated, oversized, unknown version, kind or encoding, wrong lengths, bad
// checksum, out-of-range or repeated indices and non-finite values are each
// rejected with a reason; a frame is either returned whole or not at all.
//
// Header (offsets in bytes): magic u32 "MRMR" | version u16 | kind u16 |
// sender u32 | receiver u32 | round u64 | sequence u64 | push_sum_weight f64 |
// encoding u16 | reserved u16 (0) | payload_length u32 | dimension u32 |
// (encoding and dimension belong to the payload)
// checksum u32 (CRC-32 of the header with this field zero, then the payload).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "murmur/common/result.hpp"
#include "murmur/protocols/payload.hpp"

namespace murmur::protocols {

inline constexpr std::uint32_t frame_magic = 0x524d524d;  // "MRMR" little-endian
inline constexpr std::uint16_t frame_version = 1;
inline constexpr std::size_t frame_header_size = 56;

// The header as it lies on the wire (little-endian, no padding). The codec
// reads and writes each field at offsetof(wire_header, field); the
// transport reads the receiver there to route a frame before decoding it.
struct wire_header {
  std::uint32_t magic;
  std::uint16_t version;
  std::uint16_t kind;
  std::uint32_t sender;
  std::uint32_t receiver;
  std::uint64_t round;
  std::uint64_t sequence;
  double push_sum_weight;
  std::uint16_t encoding;
  std::uint16_t reserved;  // 0
  std::uint32_t payload_length;
  std::uint32_t dimension;
  std::uint32_t checksum;  // CRC-32 of the header with this field zero, then the payload
};
static_assert(sizeof(wire_header) == frame_header_size, "the header is 56 bytes without padding");
static_assert(offsetof(wire_header, receiver) == 12 && offsetof(wire_header, round) == 16 &&
              offsetof(wire_header, checksum) == 52);

enum class message_kind : std::uint16_t { model = 1, gradient = 2, update = 3, features = 4, control = 5 };

struct frame_header {
  message_kind kind = message_kind::model;
  std::uint32_t sender = 0, receiver = 0;
  std::uint64_t round = 0, sequence = 0;
  double push_sum_weight = 1.0;  // or another per-message scalar (RelaySum's count)
};

// A message: header and payload (payload.hpp has the encodings and their layouts).
struct frame {
  frame_header header;
  payload body;
};

struct decode_limits {
  std::uint32_t max_dimension = 1u << 28;  // 256 M entries (1 GiB of f32)
  // The caller has checked the frame's checksum with checksum_matches (to
  // time it apart) and it matched; every other check is still made.
  bool checksum_checked = false;
};

std::vector<std::byte> encode(const frame& f);
std::vector<std::byte> encode(const frame_header& header, const payload& body);

// A frame in two parts, for a payload sent to several receivers: the payload
// is encoded (and its CRC taken) once, and each receiver's header is written
// with the checksum joined by zlib's crc32_combine. The header's bytes then
// the payload's are exactly encode()'s frame.
struct encoded_payload {
  std::vector<std::byte> bytes;
  payload_encoding encoding = payload_encoding::dense_f32;
  std::uint32_t dimension = 0;
  std::uint32_t crc = 0;  // CRC-32 of `bytes` alone
};
using header_bytes = std::array<std::byte, frame_header_size>;
encoded_payload encode_payload(const payload& body);
// encode_payload in its two steps, for a caller that times them apart: the
// bytes (crc left 0), then their CRC.
encoded_payload serialize_payload(const payload& body);
void seal_payload(encoded_payload& e);
header_bytes encode_header(const frame_header& header, const encoded_payload& body);
// Shorthands for the two common payloads.
std::vector<std::byte> encode_dense(frame_header header, std::span<const float> values,
                                    payload_encoding encoding = payload_encoding::dense_f32);
// REQUIRES: indices strictly increasing and < dimension; same size as values.
std::vector<std::byte> encode_sparse(frame_header header, std::uint32_t dimension,
                                     std::span<const std::uint32_t> indices, std::span<const float> values);

common::result<frame> decode(std::span<const std::byte> bytes, const decode_limits& limits = {});
// The same for a frame received in two parts (a multipart message): the 56
// header bytes and the payload.
common::result<frame> decode(std::span<const std::byte> header, std::span<const std::byte> body,
                             const decode_limits& limits = {});

// Whether a frame's checksum field matches its header (with that field
// zero) and payload; false for a header part of other than 56 bytes.
bool checksum_matches(std::span<const std::byte> header, std::span<const std::byte> body);

// The routing fields of a frame's header, without decoding or checking the
// rest (the checksum is the decoder's); nullopt when the bytes are too short
// to be a header or do not start with the magic.
struct header_peek {
  std::uint16_t kind;
  std::uint32_t sender, receiver;
  std::uint64_t round;
};
std::optional<header_peek> peek_header(std::span<const std::byte> bytes);

// The number of bytes a frame takes on the wire.
inline std::size_t frame_bytes(const payload& p) { return frame_header_size + p.wire_bytes(); }
std::size_t dense_frame_bytes(payload_encoding encoding, std::uint32_t dimension);
std::size_t sparse_frame_bytes(std::uint32_t count);

}  // namespace murmur::protocols
