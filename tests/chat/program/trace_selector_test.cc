// tests/chat/program/trace_selector_test.cc: which connections --trace-connection and
// --trace-user choose (chat/program/trace_selector.h), and the flags' checks.
#include <doctest/doctest.h>

#include <ctime>
#include <string>
#include <vector>

#include "chat/jwt.h"
#include "chat/program/options.h"
#include "chat/program/trace_selector.h"

using namespace epws;

namespace {

ws::HttpRequest request_with(std::string_view query) {
    ws::HttpRequest r;
    r.method = "GET";
    r.path = "/echo";
    r.query = query;
    return r;
}

std::string set(std::string_view name, std::string_view value, chat::Options& c) {
    return chat::set_option(name, value, c);
}

}  // namespace

TEST_SUITE("chat/program/trace_selector") {
    TEST_CASE("tracing is off by default and no connection or request is chosen") {
        chat::Options c;
        CHECK_FALSE(chat::tracing_enabled(c));
        chat::TraceSelector s(c);
        CHECK_FALSE(s.at_accept(1));
        CHECK_FALSE(s.at_request(request_with("username=alice")));
    }

    TEST_CASE("--trace-connection chooses that id only, at accept") {
        chat::Options c;
        CHECK(set("trace-connection", "3", c) == "");
        CHECK(chat::tracing_enabled(c));
        chat::TraceSelector s(c);
        CHECK_FALSE(s.at_accept(2));
        CHECK(s.at_accept(3));
        CHECK_FALSE(s.at_accept(4));
        CHECK_FALSE(s.at_request(request_with("username=alice")));
    }

    TEST_CASE("--trace-user chooses requests carrying the user, open mode") {
        chat::Options c;
        CHECK(set("trace-user", "alice", c) == "");
        chat::TraceSelector s(c);
        CHECK_FALSE(s.at_accept(1));
        CHECK(s.at_request(request_with("username=alice")));
        CHECK(s.at_request(request_with("room=x&username=%61lice")));  // percent-decoded
        CHECK_FALSE(s.at_request(request_with("username=alicea")));
        CHECK_FALSE(s.at_request(request_with("user=alice")));
        CHECK_FALSE(s.at_request(request_with("")));
    }

    TEST_CASE("with a JWT secret the token's sub is the user, and a claimed username too") {
        chat::Options c;
        c.chat.jwt_secret = "0123456789abcdef0123456789abcdef";
        CHECK(set("trace-user", "bob", c) == "");
        chat::TraceSelector s(c);
        int64_t now = std::time(nullptr);
        auto bob = chat::mint_jwt(c.chat.jwt_secret, "bob", 3600, now);
        auto carol = chat::mint_jwt(c.chat.jwt_secret, "carol", 3600, now);
        REQUIRE(bob);
        REQUIRE(carol);
        std::string q_bob = "token=" + *bob, q_carol = "token=" + *carol;
        CHECK(s.at_request(request_with(q_bob)));
        CHECK_FALSE(s.at_request(request_with(q_carol)));
        // A refused attempt naming bob (no valid token) is traced too: that is what one debugs.
        CHECK(s.at_request(request_with("username=bob&token=garbage")));
    }

    TEST_CASE("bad values are refused with the reason") {
        chat::Options c;
        CHECK(set("trace-connection", "0", c).find("from 1") != std::string::npos);
        CHECK(set("trace-connection", "-1", c) != "");
        CHECK(set("trace-connection", "12x", c) != "");
        CHECK(set("trace-connection", "", c) != "");
        CHECK(set("trace-connection", "99999999999999999999999", c) != "");
        CHECK(set("trace-user", "", c).find("user name") != std::string::npos);
        CHECK(set("trace-user", " alice", c) != "");
        CHECK(set("trace-user", std::string(33, 'a'), c) != "");
        CHECK(c.trace_connection == 0);
        CHECK(c.trace_user.empty());
    }
}
