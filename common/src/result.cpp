#include "murmur/common/result.hpp"

namespace murmur::common {

const char* to_string(errc code) {
  switch (code) {
    case errc::invalid_argument:
      return "invalid argument";
    case errc::not_found:
      return "not found";
    case errc::io:
      return "i/o error";
    case errc::corrupt:
      return "corrupt input";
    case errc::mismatch:
      return "mismatch";
    case errc::unsupported:
      return "unsupported";
    case errc::internal:
      return "internal error";
  }
  return "unknown error";
}

std::string error::what() const { return std::string(to_string(code)) + ": " + message; }

}  // namespace murmur::common
