// tests/chat/program/drain_test.cc: the pace of a drain (chat/program/drain.h).
#include "chat/program/drain.h"

#include <doctest/doctest.h>

using epws::chat::PacedDrain;

TEST_SUITE("chat/program/drain") {
    TEST_CASE("a drain closes no more than its share in any second and all by the deadline") {
        PacedDrain d;
        d.start(1000, 100, 10000);  // 100 connections over 10 s: 10 a second
        size_t per_second[11] = {};
        for (uint64_t t = 1000; t <= 11000; t += 7) {
            size_t n = d.due(t);
            d.closed(n);
            per_second[(t - 1000) / 1000] += n;
        }
        size_t sum = 0;
        for (size_t s : per_second) {
            CHECK(s <= 11);  // the share, plus one for rounding up at a second's edge
            sum += s;
        }
        CHECK(sum == 100);
        CHECK(d.due(20000) == 0);
    }
    TEST_CASE("a drain of zero seconds closes everything at once") {
        PacedDrain d;
        d.start(5, 42, 0);
        CHECK(d.due(5) == 42);
        CHECK(d.over(5));
    }
    TEST_CASE("the wait until the next close is bounded") {
        PacedDrain d;
        d.start(0, 3, 30000);
        CHECK(d.wait_ms(0) == 250);
        PacedDrain many;
        many.start(0, 100000, 1000);
        CHECK(many.wait_ms(0) == 1);
        CHECK(many.wait_ms(1000) == 0);
    }
}
