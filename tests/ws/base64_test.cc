// tests/ws/base64_test.cc: strict base64 over OpenSSL, against RFC 4648 §10's vectors and the
// malformed inputs a Sec-WebSocket-Key might carry.
#include "ws/base64.h"

#include <doctest/doctest.h>

#include <array>
#include <string>

using namespace epws::ws;

namespace {

std::span<const std::byte> bytes_of(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::optional<std::string> decode(std::string_view in) {
    std::array<std::byte, 64> buf;
    std::optional<size_t> n = base64_decode(in, buf);
    if (!n) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(buf.data()), *n);
}

}  // namespace

TEST_SUITE("ws/base64") {

TEST_CASE("the RFC 4648 test vectors encode and decode both ways") {
    const std::pair<std::string_view, std::string_view> vectors[] = {
        {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        const std::string_view in = plain;  // clang 14 cannot capture a structured binding
        CAPTURE(in);
        CHECK(base64_encode(bytes_of(in)) == encoded);
        CHECK(decode(encoded) == std::string(in));
    }
}

TEST_CASE("decoding refuses bad length, bad characters, misplaced padding and whitespace") {
    const std::string_view bad[] = {
        "Zg=", "Zg", "Z", "Zm9vY", "Zg==Zg==", "Z===", "====", "Zm9v\n", " Zm9v", "Zm 9v",
        "Zm9 ", "Zm9-", "Zm9_", "Zm=v", "=m9v",
    };
    for (std::string_view in : bad) {
        CAPTURE(in);
        CHECK_FALSE(decode(in).has_value());
    }
}

TEST_CASE("encoding and decoding refuse output buffers that are too small") {
    std::array<char, 8> exact{};  // "Zm9vYmFy" needs 8 chars plus OpenSSL's NUL
    CHECK_FALSE(base64_encode(bytes_of("foobar"), exact).has_value());
    std::array<char, 9> enough{};
    CHECK(base64_encode(bytes_of("foobar"), enough) == 8);
    // "Zg==" decodes to 1 byte, but OpenSSL writes 3 (padding included).
    std::array<std::byte, 2> small;
    CHECK_FALSE(base64_decode("Zg==", small).has_value());
    std::array<std::byte, 3> room;
    CHECK(base64_decode("Zg==", room) == 1);
}

}  // TEST_SUITE
