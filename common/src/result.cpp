#include "murmur/common/result.hpp"

namespace murmur::common {

std::string error::what() const { return std::string(to_string(code)) + ": " + message; }

}  // namespace murmur::common
