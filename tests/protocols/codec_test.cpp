// The wire codec: round trips of every encoding, and a corpus of hand-made
// bad frames each rejected with its reason; random corruption never crashes
// and never yields a frame.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "murmur/common/rng.hpp"
#include "murmur/protocols/codec.hpp"
#include "murmur/protocols/compressor.hpp"

using namespace murmur;
using namespace murmur::protocols;

namespace {

frame_header sample_header() {
  return {.kind = message_kind::model, .sender = 3, .receiver = 7, .round = 42, .sequence = 9, .push_sum_weight = 0.25};
}

std::vector<float> sample_values(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(std::sin(static_cast<double>(i)) * 3.0);
  return v;
}

// Recomputes the checksum after a deliberate edit, so a test reaches the check behind it.
void reseal(std::vector<std::byte>& f) {
  std::memset(f.data() + 52, 0, 4);
  // Re-encode through the public API is not possible for a malformed frame, so
  // compute CRC-32 here the slow way (polynomial 0xEDB88320).
  std::uint32_t c = 0xffffffffu;
  for (auto b : f) {
    c ^= static_cast<std::uint32_t>(b);
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  c = ~c;
  for (int i = 0; i < 4; ++i) f[52 + i] = static_cast<std::byte>((c >> (8 * i)) & 0xff);
}

template <class T>
void poke(std::vector<std::byte>& f, std::size_t at, T v) {
  std::memcpy(f.data() + at, &v, sizeof v);
}

std::string reason(const std::vector<std::byte>& f) {
  auto r = decode(f);
  REQUIRE_FALSE(r.ok());
  return r.err().message;
}

}  // namespace

TEST_CASE("dense f32 frames round-trip exactly", "[protocols][codec]") {
  const auto values = sample_values(1000);
  const auto bytes = encode_dense(sample_header(), values);
  CHECK(bytes.size() == dense_frame_bytes(payload_encoding::dense_f32, 1000));
  auto f = decode(bytes);
  REQUIRE(f.ok());
  CHECK(f->body.values == values);
  CHECK(f->header.sender == 3);
  CHECK(f->header.receiver == 7);
  CHECK(f->header.round == 42);
  CHECK(f->header.sequence == 9);
  CHECK(f->header.push_sum_weight == 0.25);
  CHECK(f->body.dimension == 1000);
}

TEST_CASE("bf16 frames round-trip within bf16 rounding", "[protocols][codec]") {
  const auto values = sample_values(257);
  const auto bytes = encode_dense(sample_header(), values, payload_encoding::dense_bf16);
  CHECK(bytes.size() == dense_frame_bytes(payload_encoding::dense_bf16, 257));
  auto f = decode(bytes);
  REQUIRE(f.ok());
  for (std::size_t i = 0; i < values.size(); ++i) CHECK(f->body.values[i] == Approx(values[i]).epsilon(1.0 / 256));
}

TEST_CASE("sparse frames round-trip and report their exact size", "[protocols][codec]") {
  const std::vector<std::uint32_t> idx{0, 17, 999, 99999};
  const std::vector<float> val{1.5f, -2.f, 3.25f, 0.f};
  const auto bytes = encode_sparse(sample_header(), 100000, idx, val);
  CHECK(bytes.size() == sparse_frame_bytes(4));
  auto f = decode(bytes);
  REQUIRE(f.ok());
  CHECK(f->body.indices == idx);
  CHECK(f->body.values == val);
  CHECK(f->body.encoding == payload_encoding::sparse_f32);
}

TEST_CASE("a corpus of bad frames is rejected with reasons", "[protocols][codec]") {
  const auto good = encode_dense(sample_header(), sample_values(8));
  const auto good_sparse =
      encode_sparse(sample_header(), 50, std::vector<std::uint32_t>{1, 5}, std::vector<float>{1.f, 2.f});
  const auto edited = [](std::vector<std::byte> f, auto&& change, bool fix_checksum = true) {
    change(f);
    if (fix_checksum) reseal(f);
    return f;
  };
  CHECK(reason({}).find("truncated") != std::string::npos);
  CHECK(reason(std::vector<std::byte>(good.begin(), good.begin() + 30)).find("truncated") != std::string::npos);
  CHECK(reason(std::vector<std::byte>(good.begin(), good.end() - 1)).find("payload length") != std::string::npos);
  auto longer = good;
  longer.push_back(std::byte{0});
  CHECK(reason(longer).find("payload length") != std::string::npos);
  CHECK(reason(edited(good, [](auto& f) { poke<std::uint32_t>(f, 0, 0xdeadbeef); })).find("magic") !=
        std::string::npos);
  CHECK(reason(edited(good, [](auto& f) { poke<std::uint16_t>(f, 4, 2); })).find("version") != std::string::npos);
  CHECK(reason(edited(good, [](auto& f) { poke<std::uint16_t>(f, 6, 99); })).find("kind") != std::string::npos);
  CHECK(reason(edited(good, [](auto& f) { poke<std::uint16_t>(f, 40, 9); })).find("encoding") != std::string::npos);
  CHECK(reason(edited(good, [](auto& f) { poke<std::uint32_t>(f, 48, 1u << 30); })).find("oversized") !=
        std::string::npos);
  CHECK(reason(edited(
                   good, [](auto& f) { f[60] ^= std::byte{1}; }, false))
            .find("checksum") != std::string::npos);
  CHECK(reason(edited(good, [](auto& f) {
          poke<float>(f, 56, std::numeric_limits<float>::infinity());
        })).find("non-finite") != std::string::npos);
  CHECK(reason(edited(good, [](auto& f) { poke<float>(f, 60, std::nanf("")); })).find("non-finite") !=
        std::string::npos);
  CHECK(reason(edited(good, [](auto& f) { poke<double>(f, 32, std::nan("")); })).find("push-sum") != std::string::npos);
  CHECK(reason(edited(good, [](auto& f) { poke<std::uint32_t>(f, 48, 9); })).find("dense payload") !=
        std::string::npos);
  CHECK(reason(edited(good_sparse, [](auto& f) { poke<std::uint32_t>(f, 60 + 4, 50); })).find("out of range") !=
        std::string::npos);
  CHECK(reason(edited(good_sparse, [](auto& f) { poke<std::uint32_t>(f, 60 + 4, 1); })).find("increasing") !=
        std::string::npos);
  CHECK(reason(edited(good_sparse, [](auto& f) { poke<std::uint32_t>(f, 56, 3); })).find("count") != std::string::npos);
}

TEST_CASE("random corruption never crashes and is always rejected", "[protocols][codec]") {
  const auto good = encode_sparse({}, 64, std::vector<std::uint32_t>{2, 3, 40}, std::vector<float>{1, 2, 3});
  common::rng gen(1);
  int rejected = 0, trials = 0;
  for (int t = 0; t < 20000; ++t) {
    auto f = good;
    const auto flips = 1 + gen.uniform_int(4);
    for (std::uint64_t k = 0; k < flips; ++k)
      f[gen.uniform_int(f.size())] ^= static_cast<std::byte>(1 + gen.uniform_int(255));
    if (gen.uniform() < 0.2) f.resize(gen.uniform_int(f.size() + 1));
    if (f == good) continue;  // two flips of one byte can cancel out
    ++trials;
    rejected += !decode(f).ok();
  }
  // CRC-32 detects every error burst of up to 32 bits and all but 2^-32 of the rest.
  CHECK(trials > 19000);
  CHECK(rejected == trials);
}

TEST_CASE("f16, f64, scaled-sign and QSGD payloads round-trip exactly and report their size", "[protocols][codec]") {
  const auto values = sample_values(37);
  const std::vector<std::size_t> blocks{20, 17};
  common::rng gen(5);
  std::vector<payload> payloads;
  payloads.push_back(dense_payload(values, payload_encoding::dense_f16));
  payloads.push_back(dense_payload(values, payload_encoding::dense_bf16));
  std::vector<double> wide(values.begin(), values.end());
  wide[3] = 1e300;  // beyond f32
  payloads.push_back(wide_payload(wide));
  for (std::uint32_t bits : {1u, 4u, 7u})
    payloads.push_back(compressor({.kind = compressor_kind::qsgd, .bits = bits}, blocks)(values, gen));
  payloads.push_back(compressor({.kind = compressor_kind::sign}, blocks)(values, gen));
  for (const auto& p : payloads) {
    INFO("encoding " << static_cast<int>(p.encoding) << " bits " << p.bits);
    const auto bytes = encode({sample_header(), p});
    CHECK(bytes.size() == frame_bytes(p));
    auto f = decode(bytes);
    REQUIRE(f.ok());
    CHECK(f->body.dense() == p.dense());
    CHECK(f->body.wide == p.wide);
    CHECK(encode(*f) == bytes);
  }
  // Sizes: f16 2 bytes per entry; sign 1 bit per entry plus a 4-byte size and
  // scale per block; QSGD-4 5 bits per entry.
  CHECK(payloads[0].wire_bytes() == 74);
  CHECK(payloads[6].wire_bytes() == 4 + 2 * 8 + 5);
  CHECK(payloads[4].wire_bytes() == 8 + 2 * 8 + (37 * 5 + 7) / 8);
}

TEST_CASE("bad quantized and f64 frames are rejected with reasons", "[protocols][codec]") {
  const auto values = sample_values(16);
  common::rng gen(6);
  const auto sign = encode({sample_header(), compressor({.kind = compressor_kind::sign}, {16})(values, gen)});
  const auto qsgd =
      encode({sample_header(), compressor({.kind = compressor_kind::qsgd, .bits = 3}, {10, 6})(values, gen)});
  std::vector<double> wide(values.begin(), values.end());
  const auto f64 = encode({sample_header(), wide_payload(wide)});
  const auto edited = [](std::vector<std::byte> f, auto&& change) {
    change(f);
    reseal(f);
    return f;
  };
  // sign payload: u32 blocks | u32 size | f32 scale | 2 bytes of bits
  CHECK(reason(edited(sign, [](auto& f) { poke<std::uint32_t>(f, 56, 0); })).find("block count") != std::string::npos);
  CHECK(reason(edited(sign, [](auto& f) { poke<std::uint32_t>(f, 60, 15); })).find("add up") != std::string::npos);
  CHECK(reason(edited(sign, [](auto& f) { poke<float>(f, 64, -1.f); })).find("scale") != std::string::npos);
  CHECK(reason(edited(sign, [](auto& f) { poke<float>(f, 64, std::nanf("")); })).find("scale") != std::string::npos);
  // qsgd payload: u32 bits first
  CHECK(reason(edited(qsgd, [](auto& f) { poke<std::uint32_t>(f, 56, 9); })).find("bit width") != std::string::npos);
  CHECK(reason(edited(qsgd, [](auto& f) { poke<std::uint32_t>(f, 56, 2); })).find("length") != std::string::npos);
  // 16 entries x 4 bits = 8 bytes exactly: no padding; with 3 bits and 16
  // entries there is none either, so build one with padding: 5 entries of sign.
  const auto odd = encode({sample_header(), compressor({.kind = compressor_kind::sign}, {5})(sample_values(5), gen)});
  CHECK(reason(edited(odd, [](auto& f) { f.back() |= std::byte{0x80}; })).find("padding") != std::string::npos);
  CHECK(reason(edited(f64, [](auto& f) {
          poke<double>(f, 56 + 8 * 3, std::numeric_limits<double>::infinity());
        })).find("non-finite") != std::string::npos);
  CHECK(reason(edited(f64, [](auto& f) { poke<std::uint32_t>(f, 48, 15); })).find("dense payload") !=
        std::string::npos);
}

TEST_CASE("f16 conversion rounds to nearest even, keeps subnormals and round-trips every half", "[protocols][codec]") {
  // Every finite half converts to float and back unchanged.
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00u) == 0x7c00u) continue;  // inf and NaN
    CHECK(to_f16_bits(from_f16_bits(static_cast<std::uint16_t>(h))) == h);
  }
  CHECK(from_f16_bits(to_f16_bits(1.0f)) == 1.0f);
  CHECK(to_f16_bits(1.0f + 1.0f / 2048) == to_f16_bits(1.0f));                          // a tie rounds to even
  CHECK(to_f16_bits(1.0f + 3.0f / 2048) == to_f16_bits(1.0f) + 2);                      // a tie rounds to even (up)
  CHECK(from_f16_bits(to_f16_bits(5.9604644775390625e-8f)) == 5.9604644775390625e-8f);  // the smallest subnormal
  CHECK(from_f16_bits(to_f16_bits(1e30f)) == 65504.f);                                  // saturates
  CHECK(from_f16_bits(to_f16_bits(-1e30f)) == -65504.f);
}

TEST_CASE("the transport's header peek reads the fields the codec writes", "[protocols][codec]") {
  const std::vector<float> v{1.f, 2.f, 3.f};
  for (std::uint32_t receiver : {0u, 7u, 0xfffffffeu}) {
    const auto bytes = encode_dense({.kind = message_kind::update, .sender = 3, .receiver = receiver, .round = 9}, v);
    const auto p = peek_header(bytes);
    REQUIRE(p.has_value());
    CHECK(p->receiver == receiver);
    CHECK(p->sender == 3u);
    CHECK(p->round == 9u);
    CHECK(p->kind == static_cast<std::uint16_t>(message_kind::update));
    CHECK(decode(bytes)->header.receiver == receiver);
  }
  auto bytes = encode_dense({.receiver = 5}, v);
  CHECK_FALSE(peek_header(std::span(bytes).first(frame_header_size - 1)).has_value());
  CHECK(peek_header(std::span(bytes).first(frame_header_size)).value().receiver == 5u);
  bytes[0] = std::byte{0};  // not the magic: not a header
  CHECK_FALSE(peek_header(bytes).has_value());
}

TEST_CASE("record frames carry named fields and f32 values, and bad ones are rejected", "[protocols][codec]") {
  const std::vector<float> v{0.5f, -1.25f};
  const auto body = record_payload({{"round", 12.0}, {"test_accuracy", 0.875}}, v);
  const auto bytes = encode({.header = {.kind = message_kind::control, .receiver = 4}, .body = body});
  CHECK(bytes.size() == frame_bytes(body));
  auto f = decode(bytes);
  REQUIRE(f.ok());
  CHECK(f->body.fields == body.fields);
  CHECK(f->body.values == v);
  // A bad byte in a field name, a repeated name, a non-finite value: each refused with its reason.
  const auto rejected = [](payload p) {
    auto out = encode({.header = {.kind = message_kind::control}, .body = std::move(p)});
    auto r = decode(out);
    REQUIRE_FALSE(r.ok());
    return r.err().message;
  };
  CHECK_THAT(rejected(record_payload({{"Round", 1.0}}, {})), Catch::Contains("outside [a-z0-9_]"));
  CHECK_THAT(rejected(record_payload({{"a", 1.0}, {"a", 2.0}}, {})), Catch::Contains("'a' twice"));
  CHECK_THAT(rejected(record_payload({{"a", std::nan("")}}, {})), Catch::Contains("not finite"));
  CHECK_THAT(rejected(record_payload({{"", 1.0}}, {})), Catch::Contains("name of 0 bytes"));
}

TEST_CASE("a payload encoded once and a header per receiver make exactly encode()'s frames", "[protocols][codec]") {
  const auto values = sample_values(1001);
  common::rng gen(3);
  std::vector<payload> payloads{dense_payload(values),
                                dense_payload(values, payload_encoding::dense_bf16),
                                sparse_payload(1001, {2, 40, 999}, {1.f, -2.f, 3.f}),
                                compressor({.kind = compressor_kind::sign}, {1001})(values, gen),
                                record_payload({{"report", 1.0}, {"round", 7.0}}, values),
                                dense_payload({})};
  for (const auto& p : payloads) {
    INFO("encoding " << static_cast<int>(p.encoding));
    const auto body = encode_payload(p);
    for (std::uint32_t receiver : {1u, 5u, 1u << 20}) {
      auto h = sample_header();
      h.receiver = receiver;
      const auto head = encode_header(h, body);
      // Header then payload is encode()'s frame: the combined CRC is the whole frame's.
      const auto whole = encode(h, p);
      REQUIRE(whole.size() == head.size() + body.bytes.size());
      CHECK(std::equal(head.begin(), head.end(), whole.begin()));
      CHECK(std::equal(body.bytes.begin(), body.bytes.end(), whole.begin() + 56));
      auto f = decode(head, body.bytes);
      REQUIRE(f.ok());
      CHECK(f->header.receiver == receiver);
      CHECK(f->body.dense() == p.dense());
    }
  }
}

TEST_CASE("a two-part frame is checked like a whole one", "[protocols][codec]") {
  const auto body = encode_payload(dense_payload(sample_values(16)));
  const auto head = encode_header(sample_header(), body);
  auto flipped = body.bytes;
  flipped[5] ^= std::byte{1};
  CHECK(decode(head, flipped).err().message == "frame rejected: bad checksum");
  const std::vector<std::byte> short_head(head.begin(), head.begin() + 40);
  CHECK(decode(short_head, body.bytes).err().message == "frame rejected: header part of 40 bytes, not 56");
  const std::span<const std::byte> cut(body.bytes.data(), body.bytes.size() - 4);
  CHECK(decode(head, cut).err().message ==
        "frame rejected: payload length 64 does not match the 60 bytes after the header");
}

TEST_CASE(
    "the checksum timed apart: serialize then seal is encode_payload, and checksum_matches is the decoder's check",
    "[protocols][codec]") {
  const auto values = sample_values(257);
  for (const auto& p : {dense_payload(values), sparse_payload(257, {0, 9, 256}, {1.f, -2.f, 3.f})}) {
    auto e = serialize_payload(p);
    CHECK(e.crc == 0);
    seal_payload(e);
    const auto whole = encode_payload(p);
    CHECK(e.bytes == whole.bytes);
    CHECK(e.crc == whole.crc);
  }
  const auto body = encode_payload(dense_payload(values));
  const auto head = encode_header(sample_header(), body);
  CHECK(checksum_matches(head, body.bytes));
  auto flipped = body.bytes;
  flipped[100] ^= std::byte{4};
  CHECK_FALSE(checksum_matches(head, flipped));
  auto bad_head = head;
  bad_head[20] ^= std::byte{1};  // the round
  CHECK_FALSE(checksum_matches(bad_head, body.bytes));
  CHECK_FALSE(checksum_matches(std::span<const std::byte>(head).first(40), body.bytes));
  // Told the checksum was checked, the decoder still makes every other check.
  const decode_limits checked{.checksum_checked = true};
  CHECK(decode(head, body.bytes, checked)->body.dense() == values);
  auto nan = body.bytes;
  const float inf = std::numeric_limits<float>::infinity();
  std::memcpy(nan.data() + 8, &inf, 4);
  CHECK(decode(head, nan, checked).err().message == "frame rejected: non-finite value at index 2");
  const std::span<const std::byte> cut(body.bytes.data(), body.bytes.size() - 4);
  CHECK(decode(head, cut, checked).err().message ==
        "frame rejected: payload length 1028 does not match the 1024 bytes after the header");
}
