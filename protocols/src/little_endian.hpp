#pragma once

// Little-endian reads and writes of the wire's fixed-size fields, and the
// CRC-32 (zlib's) of the frames; private to the codec.

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

namespace murmur::protocols::detail {

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

inline std::uint32_t crc(std::span<const std::byte> bytes, std::uint32_t seed = 0) {
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

template <class T>
void put_at(std::span<std::byte> b, std::size_t at, T v) {
  using U = std::conditional_t<sizeof(T) == 8, std::uint64_t,
                               std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint16_t>>;
  const auto u = std::bit_cast<U>(v);
  for (std::size_t i = 0; i < sizeof(T); ++i) b[at + i] = static_cast<std::byte>((u >> (8 * i)) & 0xff);
}

}  // namespace murmur::protocols::detail
