#pragma once

// What the actor tests share: a transport that keeps every frame for the
// test to deliver (or not), and a tiny in-memory data set.

#include <vector>

#include "murmur/actors/transport.hpp"
#include "murmur/common/rng.hpp"
#include "murmur/nn/dataset.hpp"

namespace murmur::actors {

// Keeps the frames agents send; the test decides what arrives.
class held_transport final : public transport {
 public:
  struct sent_frame {
    std::int64_t from, to;
    std::vector<std::byte> bytes;
  };
  bool send_parts(std::int64_t from, std::int64_t to, frame_parts frame) override {
    std::vector<std::byte> bytes(frame.header.begin(), frame.header.end());
    bytes.insert(bytes.end(), frame.payload.begin(), frame.payload.end());
    frames.push_back({from, to, std::move(bytes)});
    return true;
  }
  void close() override {}
  std::vector<sent_frame> frames;
};

// Received bytes as the transport hands them over: `bytes` owned by the message.
inline wire_bytes owned_wire(std::vector<std::byte> bytes) {
  auto owned = std::make_shared<const std::vector<std::byte>>(std::move(bytes));
  return {owned, std::span<const std::byte>(*owned), {}};
}

// 64 random 4x4 one-channel images of two alternating classes, reproducible from `seed`.
inline nn::dataset tiny_data(std::uint64_t seed) {
  nn::dataset d;
  d.name = "tiny";
  d.channels = 1;
  d.height = d.width = 4;
  d.classes = 2;
  common::rng gen(seed);
  for (int i = 0; i < 64; ++i) {
    d.labels.push_back(static_cast<std::int32_t>(i % 2));
    for (int k = 0; k < 16; ++k) d.images.push_back(static_cast<std::uint8_t>(gen.uniform_int(256)));
  }
  d.mean = {127.f};
  d.stddev = {73.f};
  return d;
}

}  // namespace murmur::actors
