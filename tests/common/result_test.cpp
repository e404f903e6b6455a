#include <catch2/catch.hpp>

#include <string>

#include "murmur/common/result.hpp"

using namespace murmur::common;

TEST_CASE("a result holds either a value or an error", "[common]") {
  result<int> good = 3;
  REQUIRE(good.ok());
  CHECK(*good == 3);
  result<int> bad = make_error(errc::corrupt, "file.bin: truncated");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == errc::corrupt);
  CHECK(bad.err().what() == "corrupt input: file.bin: truncated");
}

TEST_CASE("a status is ok by default and carries an error otherwise", "[common]") {
  status s;
  CHECK(s.ok());
  status f = make_error(errc::io, "disk full");
  CHECK_FALSE(f.ok());
  CHECK(f.err().message == "disk full");
}
