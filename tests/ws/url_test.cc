// tests/ws/url_test.cc: unit tests for ws/url.cc (ws:// and wss:// URLs, RFC 6455 §3).
// Layer: tests/.
#include "ws/url.h"

#include <doctest/doctest.h>

namespace {

using epws::ws::parse_ws_url;
using epws::ws::UrlError;
using epws::ws::WsUrl;

WsUrl ok(const char* url) {
    WsUrl u;
    REQUIRE(parse_ws_url(url, u) == UrlError::kNone);
    return u;
}

UrlError err(const char* url) {
    WsUrl u;
    return parse_ws_url(url, u);
}

}  // namespace

TEST_SUITE("ws/url") {
    TEST_CASE("a ws URL gives host, port, target and the Host header") {
        WsUrl u = ok("ws://127.0.0.1:8080/echo?x=1");
        CHECK_FALSE(u.secure);
        CHECK(u.host == "127.0.0.1");
        CHECK(u.port == 8080);
        CHECK(u.target == "/echo?x=1");
        CHECK(u.host_header == "127.0.0.1:8080");
    }

    TEST_CASE("the default ports are 80 and 443 and are left out of the Host header") {
        WsUrl a = ok("ws://Example.COM");
        CHECK(a.port == 80);
        CHECK(a.host == "example.com");
        CHECK(a.target == "/");
        CHECK(a.host_header == "example.com");
        WsUrl b = ok("WSS://example.com/chat");
        CHECK(b.secure);
        CHECK(b.port == 443);
        CHECK(b.host_header == "example.com");
        CHECK(ok("wss://example.com:80/").host_header == "example.com:80");
    }

    TEST_CASE("a query without a path gets the path slash") {
        CHECK(ok("ws://h?room=1").target == "/?room=1");
    }

    TEST_CASE("an IPv6 literal keeps its brackets in the Host header only") {
        WsUrl u = ok("ws://[::1]:9000/x");
        CHECK(u.host == "::1");
        CHECK(u.port == 9000);
        CHECK(u.host_header == "[::1]:9000");
        CHECK(ok("ws://[::1]").host_header == "[::1]");
    }

    TEST_CASE("each malformed URL is refused with its own cause") {
        CHECK(err("http://h/") == UrlError::kBadScheme);
        CHECK(err("h:80/") == UrlError::kBadScheme);
        CHECK(err("ws:///x") == UrlError::kNoHost);
        CHECK(err("ws://:80/") == UrlError::kNoHost);
        CHECK(err("ws://[::1/") == UrlError::kBadHost);
        CHECK(err("ws://[::1]x/") == UrlError::kBadHost);
        CHECK(err("ws://ho st/") == UrlError::kBadHost);
        CHECK(err("ws://h:/") == UrlError::kBadPort);
        CHECK(err("ws://h:0/") == UrlError::kBadPort);
        CHECK(err("ws://h:65536/") == UrlError::kBadPort);
        CHECK(err("ws://h:1x/") == UrlError::kBadPort);
        CHECK(err("ws://[::1]:/") == UrlError::kBadPort);
        CHECK(err("ws://h/#top") == UrlError::kFragment);
        CHECK(err("ws://u@h/") == UrlError::kUserInfo);
        CHECK(err("ws://h/a b") == UrlError::kBadTarget);
        CHECK(err("ws://h/a\r\nX: y") == UrlError::kBadTarget);
    }

    TEST_CASE("every port from 1 to 65535 parses and 0 does not") {
        for (unsigned p = 0; p <= 65536; ++p) {
            std::string url = "ws://h:" + std::to_string(p) + "/";
            WsUrl u;
            UrlError e = parse_ws_url(url, u);
            if (p >= 1 && p <= 65535) {
                REQUIRE(e == UrlError::kNone);
                REQUIRE(u.port == p);
            } else {
                REQUIRE(e == UrlError::kBadPort);
            }
        }
    }
}
