#pragma once

// CAF's deterministic test DSL under Catch2 (STYLE.md): CAF's check macros
// become Catch2's before dsl.hpp is read, so a failed expectation fails the
// test instead of crashing it. Exactly one translation unit defines
// CAF_TEST_NO_MAIN and includes caf/test/unit_test_impl.hpp (caf_main.cpp).

#include <catch2/catch.hpp>

#include <caf/test/unit_test.hpp>

#undef CAF_CHECK
#undef CAF_CHECK_EQUAL
#undef CAF_REQUIRE
#undef CAF_REQUIRE_EQUAL
#undef CAF_FAIL
#undef CAF_MESSAGE
#define CAF_CHECK(...) CHECK((__VA_ARGS__))
#define CAF_CHECK_EQUAL(x, y) CHECK((x) == (y))
#define CAF_REQUIRE(...) REQUIRE((__VA_ARGS__))
#define CAF_REQUIRE_EQUAL(x, y) REQUIRE((x) == (y))
#define CAF_FAIL(msg) FAIL(msg)
#define CAF_MESSAGE(msg) UNSCOPED_INFO(msg)

#include <caf/test/dsl.hpp>
