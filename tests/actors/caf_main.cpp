// The one translation unit that carries CAF's unit-test engine (for
// test_coordinator_fixture), without its main: Catch2 owns main.
#define CAF_TEST_NO_MAIN
#include <caf/test/unit_test_impl.hpp>
