#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "murmur/nn/checkpoint.hpp"
#include "murmur/nn/safetensors.hpp"
#include "nn/temp_dir.hpp"

using namespace murmur;
using namespace murmur::nn;

namespace {

std::unique_ptr<model> make(const std::string& name, std::uint64_t seed, std::int64_t classes = 10) {
  auto m = build_model({.name = name, .input = {1, 12, 12}, .classes = classes});
  REQUIRE(m.ok());
  (*m)->init(seed);
  return std::move(*m);
}

std::vector<float> snapshot(model& m) { return {m.parameters().begin(), m.parameters().end()}; }

}  // namespace

TEST_CASE("a checkpoint round-trips parameters, statistics, momentum and position", "[nn][checkpoint]") {
  test::temp_dir dir;
  const auto path = dir / "ck.safetensors";
  auto a = make("resnet20", 1);
  sgd opt_a(a->parameters().size(), {.momentum = 0.9});
  for (const auto& e : a->store().parameter_entries())
    for (std::size_t i = 0; i < e.numel; ++i)
      opt_a.momentum_buffer()[e.offset + i] = 0.001f * static_cast<float>(i % 100);
  a->store().buffers()[3] = 7.5f;
  a->store().counters()[0] = 42;
  REQUIRE(save_checkpoint(path, *a, &opt_a, {.epoch = 3, .step = 300, .seed = 9}).ok());
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  auto b = make("resnet20", 2);
  sgd opt_b(b->parameters().size(), {.momentum = 0.9});
  REQUIRE(snapshot(*a) != snapshot(*b));
  auto pos = load_checkpoint(path, *b, &opt_b);
  REQUIRE(pos.ok());
  CHECK(pos->epoch == 3);
  CHECK(pos->step == 300);
  CHECK(pos->seed == 9);
  CHECK(snapshot(*a) == snapshot(*b));
  CHECK(b->store().buffers()[3] == 7.5f);
  CHECK(b->store().counters()[0] == 42);
  CHECK(std::equal(opt_a.momentum_buffer().begin(), opt_a.momentum_buffer().end(), opt_b.momentum_buffer().begin()));
}

TEST_CASE("checkpoint tensors carry PyTorch's state_dict names and shapes", "[nn][checkpoint]") {
  test::temp_dir dir;
  auto m = make("lenet5", 1);
  REQUIRE(save_checkpoint(dir / "l.safetensors", *m, nullptr, {}).ok());
  auto f = read_safetensors(dir / "l.safetensors");
  REQUIRE(f.ok());
  CHECK(f->tensors.at("conv1.weight").shape == dims{6, 1, 5, 5});
  CHECK(f->tensors.at("conv2.bias").shape == dims{16});
  CHECK(f->tensors.at("fc1.weight").shape == dims{120, 16});  // 12x12 input: 16 channels of 1x1
  CHECK(f->tensors.at("fc3.bias").shape == dims{10});
  CHECK(f->metadata.at("format") == "pt");
  CHECK(f->tensors.size() == 10);
}

TEST_CASE("bad checkpoints are rejected and leave the model untouched", "[nn][checkpoint]") {
  test::temp_dir dir;
  const auto path = dir / "ck.safetensors";
  auto m = make("lenet5", 1);
  REQUIRE(save_checkpoint(path, *m, nullptr, {.epoch = 1}).ok());
  auto target = make("lenet5", 2);
  const auto before = snapshot(*target);
  const auto expect_rejected = [&](const std::string& file, const std::string& fragment) {
    auto r = load_checkpoint(file, *target, nullptr);
    REQUIRE_FALSE(r.ok());
    INFO(r.err().message);
    CHECK(r.err().message.find(fragment) != std::string::npos);
    CHECK(snapshot(*target) == before);
  };
  SECTION("truncated at every length") {
    const auto size = std::filesystem::file_size(path);
    for (auto cut :
         {std::uintmax_t{0}, std::uintmax_t{5}, std::uintmax_t{8}, std::uintmax_t{100}, size / 2, size - 1}) {
      const auto t = dir / "t.safetensors";
      std::filesystem::copy_file(path, t, std::filesystem::copy_options::overwrite_existing);
      std::filesystem::resize_file(t, cut);
      auto r = load_checkpoint(t, *target, nullptr);
      CHECK_FALSE(r.ok());
    }
    CHECK(snapshot(*target) == before);
  }
  SECTION("of another model") {
    auto other = make("mlp", 1);
    REQUIRE(save_checkpoint(dir / "mlp.safetensors", *other, nullptr, {}).ok());
    expect_rejected(dir / "mlp.safetensors", "of model 'mlp', not 'lenet5'");
  }
  SECTION("of the same model for another class count") {
    auto other = make("lenet5", 1, 5);
    REQUIRE(save_checkpoint(dir / "l5.safetensors", *other, nullptr, {}).ok());
    expect_rejected(dir / "l5.safetensors", "classes");
  }
  SECTION("with a corrupt header") {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12);
    f.write("}}}}", 4);
    f.close();
    expect_rejected(path, "ck.safetensors");
  }
  SECTION("missing") { expect_rejected(dir / "none.safetensors", "no such file"); }
}

TEST_CASE("safetensors parsing rejects overlapping and out-of-range data", "[nn][checkpoint]") {
  const auto image = [](const std::string& header, std::size_t data_bytes) {
    std::vector<std::byte> b(8 + header.size() + data_bytes);
    for (int i = 0; i < 8; ++i) b[i] = static_cast<std::byte>((header.size() >> (8 * i)) & 0xff);
    std::memcpy(b.data() + 8, header.data(), header.size());
    return b;
  };
  CHECK(parse_safetensors(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8), "x").ok());
  CHECK_FALSE(parse_safetensors(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", 8), "x").ok());
  CHECK_FALSE(parse_safetensors(image(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "x").ok());
  CHECK_FALSE(parse_safetensors(image(R"({"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", 8), "x").ok());
  CHECK_FALSE(parse_safetensors(image(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "x").ok());
  CHECK_FALSE(parse_safetensors(image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                      8),
                                "x")
                  .ok());
  CHECK_FALSE(parse_safetensors(image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8), "x").ok());
  CHECK_FALSE(parse_safetensors(image("[1,2,3]", 0), "x").ok());
}
