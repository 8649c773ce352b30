// tests/ws/http/gzip_test.cc: gzip for HTTP responses: round trips, the RFC 1952 header, and the
// Accept-Encoding rules (q=0 refuses).
#include "ws/http/gzip.h"

#include <doctest/doctest.h>

#include <string>

using namespace epws::ws;

TEST_SUITE("ws/http/gzip") {

TEST_CASE("compressed text inflates back to itself and is a gzip member") {
    std::string text;
    for (int i = 0; i < 200; ++i) text += "<li class=\"msg\">hello, 世界 🙂</li>\n";
    auto z = gzip_compress(text);
    REQUIRE(z);
    CHECK(z->size() < text.size() / 4);
    // RFC 1952 §2.3.1: ID1 ID2 = 1f 8b, CM = 8 (deflate).
    CHECK(static_cast<unsigned char>((*z)[0]) == 0x1f);
    CHECK(static_cast<unsigned char>((*z)[1]) == 0x8b);
    CHECK((*z)[2] == 8);
    auto back = gzip_decompress(*z, 1 << 20);
    REQUIRE(back);
    CHECK(*back == text);
}

TEST_CASE("empty input and every level round-trip") {
    for (int level = 0; level <= 9; ++level) {
        auto z = gzip_compress("abcabcabc", level);
        REQUIRE(z);
        CHECK(gzip_decompress(*z, 100) == std::string("abcabcabc"));
    }
    auto e = gzip_compress("");
    REQUIRE(e);
    CHECK(gzip_decompress(*e, 10) == std::string());
}

TEST_CASE("corrupt, truncated, trailing and oversized input is refused") {
    auto z = gzip_compress(std::string(10000, 'a'));
    REQUIRE(z);
    CHECK_FALSE(gzip_decompress(z->substr(0, z->size() - 3), 1 << 20));
    CHECK_FALSE(gzip_decompress(*z + "x", 1 << 20));
    CHECK_FALSE(gzip_decompress(*z, 9999));  // a bomb stops at the limit
    std::string bad = *z;
    bad[bad.size() - 6] ^= 0x55;  // the CRC-32
    CHECK_FALSE(gzip_decompress(bad, 1 << 20));
    CHECK_FALSE(gzip_decompress("not gzip at all", 100));
}

TEST_CASE("Accept-Encoding: gzip when listed or covered by *, not when q=0") {
    CHECK(accepts_gzip("gzip"));
    CHECK(accepts_gzip("gzip, deflate, br"));
    CHECK(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
    CHECK(accepts_gzip("x-gzip"));
    CHECK(accepts_gzip("*"));
    CHECK(accepts_gzip("identity, *;q=0.1"));
    CHECK_FALSE(accepts_gzip(""));
    CHECK_FALSE(accepts_gzip("identity"));
    CHECK_FALSE(accepts_gzip("br, deflate"));
    CHECK_FALSE(accepts_gzip("gzip;q=0"));
    CHECK_FALSE(accepts_gzip("gzip;q=0.000"));
    CHECK_FALSE(accepts_gzip("*, gzip;q=0"));
    CHECK_FALSE(accepts_gzip("*;q=0"));
    CHECK_FALSE(accepts_gzip("gzip;q=2"));  // malformed q: not accepted
}

}  // TEST_SUITE
