#pragma once

// The safetensors file format: an 8-byte little-endian header length, a JSON
// header naming each tensor's dtype, shape and byte range, then the raw
// little-endian data. Written atomically (temporary file, fsync, rename), so
// a crash never leaves a half-written file under the final name. Read with
// every field validated: a truncated or malformed file is an error, never a
// crash or a partial load.

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "murmur/common/result.hpp"
#include "murmur/nn/tensor.hpp"

namespace murmur::nn {

// A tensor to write: a view of bytes the caller keeps alive during the call.
struct safetensor_view {
  std::string name;
  dtype type;
  dims shape;
  std::span<const std::byte> data;  // REQUIRES: size == product(shape) * size_of(type)
};

struct safetensor {
  dtype type;
  dims shape;
  std::vector<std::byte> data;
};

struct safetensors_file {
  std::map<std::string, std::string> metadata;
  std::map<std::string, safetensor> tensors;
};

common::status write_safetensors(const std::string& path, const std::vector<safetensor_view>& tensors,
                                 const std::map<std::string, std::string>& metadata);
common::result<safetensors_file> read_safetensors(const std::string& path);
// Parses an in-memory image of a file (`origin` names it in errors).
common::result<safetensors_file> parse_safetensors(std::span<const std::byte> bytes, const std::string& origin);

}  // namespace murmur::nn
