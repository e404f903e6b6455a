#pragma once

// Checkpoints: a model's parameters and statistics buffers under PyTorch's
// state_dict names (so `model.load_state_dict(safetensors.torch.load_file(f))`
// works on the same architecture after dropping the "optimizer." entries),
// the optimizer's momentum buffers as "optimizer.momentum_buffer.<name>",
// and the training position in the metadata.

#include <cstdint>
#include <string>

#include "murmur/common/result.hpp"
#include "murmur/nn/model.hpp"
#include "murmur/nn/optimizer.hpp"

namespace murmur::nn {

struct training_position {
  std::int64_t epoch = 0;  // epochs completed
  std::int64_t step = 0;   // optimizer steps taken
  std::uint64_t seed = 0;
};

// `opt` may be null (weights only).
common::status save_checkpoint(const std::string& path, model& m, const sgd* opt, const training_position& pos);

// Loads into `m` (and `opt`, when given and the file has its state). Checks
// the file is of the same model (name, input shape, classes, every tensor's
// name and shape) before changing anything: on error `m` is untouched.
common::result<training_position> load_checkpoint(const std::string& path, model& m, sgd* opt);

}  // namespace murmur::nn
