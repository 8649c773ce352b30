// tests/net/buffer_test.cc: the connection byte queue.
#include <doctest/doctest.h>

#include <string>

#include "net/buffer.h"

using epws::net::Buffer;

namespace {
const std::byte* bytes(const std::string& s) { return reinterpret_cast<const std::byte*>(s.data()); }
std::string text(Buffer& b) {
    auto r = b.readable();
    return {reinterpret_cast<const char*>(r.data()), r.size()};
}
}  // namespace

TEST_SUITE("net/buffer") {
    TEST_CASE("an empty buffer holds no memory") {
        Buffer b;
        CHECK(b.empty());
        CHECK(b.capacity() == 0);
    }

    TEST_CASE("bytes come out in the order they went in, across growth") {
        Buffer b;
        std::string all;
        for (int i = 0; i < 1000; ++i) {
            std::string piece = std::to_string(i) + ",";
            REQUIRE(b.append(bytes(piece), piece.size()));
            all += piece;
        }
        CHECK(text(b) == all);
    }

    TEST_CASE("consuming everything frees the storage") {
        Buffer b;
        std::string s(5000, 'x');
        b.append(bytes(s), s.size());
        CHECK(b.capacity() >= 5000);
        b.consume(4000);
        CHECK(b.size() == 1000);
        b.consume(1000);
        CHECK(b.empty());
        CHECK(b.capacity() == 0);
    }

    TEST_CASE("a partly consumed buffer slides its bytes instead of growing") {
        Buffer b;
        std::string s(200, 'a');
        b.append(bytes(s), s.size());
        size_t cap = b.capacity();
        b.consume(150);
        std::string more(100, 'b');
        b.append(bytes(more), more.size());
        CHECK(b.capacity() == cap);
        CHECK(text(b) == std::string(50, 'a') + std::string(100, 'b'));
    }
}
