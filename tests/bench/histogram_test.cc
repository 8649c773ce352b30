// tests/bench/histogram_test.cc: the latency histogram against inputs whose percentiles are known.
#include <doctest/doctest.h>

#include "bench/histogram.h"

using epws::bench::Histogram;

TEST_SUITE("bench/histogram") {

TEST_CASE("values below 128 are recorded exactly") {
    Histogram h;
    for (uint64_t v = 0; v < 128; ++v) h.record(v);
    CHECK(h.percentile(0.5) == 63);
    CHECK(h.percentile(1.0) == 127);
    CHECK(h.min() == 0);
    CHECK(h.count() == 128);
}

TEST_CASE("percentiles of 1..100000 are within 1/64 above the true value") {
    Histogram h;
    for (uint64_t v = 1; v <= 100000; ++v) h.record(v);
    for (double q : {0.5, 0.9, 0.99, 0.999}) {
        auto exact = static_cast<double>(q * 100000);
        auto got = static_cast<double>(h.percentile(q));
        CHECK(got >= exact);
        CHECK(got <= exact * (1 + 1.0 / 64));
    }
    CHECK(h.max() == 100000);
    CHECK(h.mean() == doctest::Approx(50000.5));
}

TEST_CASE("every value maps into a bucket whose range holds it") {
    for (uint64_t v : {uint64_t(0), uint64_t(127), uint64_t(128), uint64_t(129), uint64_t(1000),
                       uint64_t(123456789), uint64_t(1) << 40}) {
        size_t i = Histogram::index_of(v);
        CHECK(Histogram::highest_in_bucket(i) >= v);
        if (i > 0) CHECK(Histogram::highest_in_bucket(i - 1) < v);
    }
}

TEST_CASE("a single outlier shows in the max and the top percentile only") {
    Histogram h;
    for (int i = 0; i < 9999; ++i) h.record(1000);
    h.record(5000000);
    CHECK(h.percentile(0.99) <= 1000 * 65 / 64);
    CHECK(h.percentile(0.9999) <= 1000 * 65 / 64);
    CHECK(h.percentile(1.0) == 5000000);
    CHECK(h.max() == 5000000);
}

TEST_CASE("merging two histograms equals recording everything in one") {
    Histogram a, b, all;
    for (uint64_t v = 1; v < 5000; v += 7) (v % 2 ? a : b).record(v), all.record(v);
    a.merge(b);
    CHECK(a.count() == all.count());
    CHECK(a.percentile(0.9) == all.percentile(0.9));
    CHECK(a.max() == all.max());
    CHECK(a.min() == all.min());
}

TEST_CASE("an empty histogram reports zeros") {
    Histogram h;
    CHECK(h.percentile(0.99) == 0);
    CHECK(h.max() == 0);
    CHECK(h.min() == 0);
}

}  // TEST_SUITE
