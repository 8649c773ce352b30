// tests/bench/payload_test.cc: echo payloads and broadcast stamps, so corruption cannot pass.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "bench/payload.h"

using namespace epws::bench;

TEST_SUITE("bench/payload") {

TEST_CASE("echo payloads differ between messages and connections and are ASCII") {
    std::vector<std::byte> a(20), b(20), c(20);
    fill_echo_payload(a.data(), a.size(), 3, 41);
    fill_echo_payload(b.data(), b.size(), 3, 42);
    fill_echo_payload(c.data(), c.size(), 4, 41);
    CHECK(std::memcmp(a.data(), b.data(), 20) != 0);
    CHECK(std::memcmp(a.data(), c.data(), 20) != 0);
    for (std::byte x : a) CHECK(static_cast<unsigned char>(x) < 0x80);
}

TEST_CASE("echo payloads of every small size are deterministic") {
    for (size_t n = 0; n < 64; ++n) {
        std::vector<std::byte> a(n), b(n);
        fill_echo_payload(a.data(), n, 7, 1234);
        fill_echo_payload(b.data(), n, 7, 1234);
        CHECK(a == b);
    }
}

TEST_CASE("compressible and random payloads are deterministic, distinct and valid text") {
    for (PayloadKind kind : {PayloadKind::kCompressible, PayloadKind::kRandom}) {
        std::vector<std::byte> a(4096), b(4096), c(4096);
        fill_echo_payload(a.data(), a.size(), 1, 9, kind);
        fill_echo_payload(b.data(), b.size(), 1, 9, kind);
        fill_echo_payload(c.data(), c.size(), 1, 10, kind);
        CHECK(a == b);
        CHECK(a != c);
        for (std::byte x : a) {
            auto u = static_cast<unsigned char>(x);
            CHECK((u >= 0x20 && u < 0x7f));
        }
    }
}

TEST_CASE("random binary payloads use every byte value") {
    std::vector<std::byte> a(65536);
    fill_echo_payload(a.data(), a.size(), 2, 3, PayloadKind::kRandom, true);
    bool seen[256] = {};
    for (std::byte x : a) seen[static_cast<unsigned char>(x)] = true;
    int count = 0;
    for (bool s : seen) count += s;
    CHECK(count == 256);
}

TEST_CASE("a stamp reads back what was written") {
    std::vector<std::byte> p(100);
    write_stamp(p.data(), p.size(), Stamp{5, 123456789, 987654321012});
    Stamp s;
    REQUIRE(read_stamp(p, s));
    CHECK(s.publisher == 5);
    CHECK(s.seq == 123456789);
    CHECK(s.sent_ns == 987654321012);
}

TEST_CASE("a corrupted or truncated stamp is rejected") {
    std::vector<std::byte> p(64);
    write_stamp(p.data(), p.size(), Stamp{1, 2, 3});
    Stamp s;
    auto flipped = p;
    flipped[50] ^= std::byte{1};
    CHECK_FALSE(read_stamp(flipped, s));
    auto bad_hex = p;
    bad_hex[3] = std::byte{'z'};
    CHECK_FALSE(read_stamp(bad_hex, s));
    CHECK_FALSE(read_stamp(std::span(p).first(kStampBytes - 1), s));
}

}  // TEST_SUITE
