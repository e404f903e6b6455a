#pragma once

// Checkpoints: a model's parameters and statistics buffers under PyTorch's
// state_dict names (so `model.load_state_dict(safetensors.torch.load_file(f))`
// works on the same architecture after dropping the "optimizer." entries),
// the optimizer's momentum buffers as "optimizer.momentum_buffer.<name>",
// and the training position in the metadata.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "murmur/common/result.hpp"
#include "murmur/nn/model.hpp"
#include "murmur/nn/optimizer.hpp"
#include "murmur/nn/safetensors.hpp"

namespace murmur::nn {

struct training_position {
  std::int64_t epoch = 0;  // epochs completed
  std::int64_t step = 0;   // optimizer steps taken
  std::uint64_t seed = 0;
};

// What a caller saves next to the model (a decentralized agent's protocol
// state): tensors whose names start with a prefix the model's do not use,
// and metadata.
struct checkpoint_extra {
  std::vector<safetensor_view> tensors;
  std::map<std::string, std::string> metadata;
};

// `opt` may be null (weights only).
common::status save_checkpoint(const std::string& path, model& m, const sgd* opt, const training_position& pos,
                               const checkpoint_extra& extra = {});

// Loads into `m` (and `opt`, when given and the file has its state). Checks
// the file is of the same model (name, input shape, classes, every tensor's
// name and shape) before changing anything: on error `m` is untouched.
// Tensors named `extra_prefix`... are left out of the check and, with the
// metadata, handed to `extra` (when given).
common::result<training_position> load_checkpoint(const std::string& path, model& m, sgd* opt,
                                                  const std::string& extra_prefix = "",
                                                  safetensors_file* extra = nullptr);

}  // namespace murmur::nn
