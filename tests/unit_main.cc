// tests/unit_main.cc: the doctest runner for every unit suite under tests/.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
