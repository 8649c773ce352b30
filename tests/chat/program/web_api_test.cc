// tests/chat/program/web_api_test.cc: GET /api/connections (one connection's JSON, id parsing, 400, 404,
// the capped list) and GET /api/whoami.
#include "chat/program/web_api.h"

#include <doctest/doctest.h>

#include <ctime>
#include <string>

#include "chat/jwt.h"

using namespace epws;
using namespace epws::chat;

namespace {

struct Api {
    ws::ServerConfig ws_config;
    ChatConfig chat;
    ws::ServerStats loop0, loop1;
    std::vector<const ws::ServerStats*> loops{&loop0, &loop1};
    ConnectionRegistry registry;

    ApiViewer everyone{true, true, {}, {}};

    ws::HttpReply get(std::string_view query, size_t answering_loop = 0) {
        return get_as(everyone, query, answering_loop);
    }
    ws::HttpReply get_as(const ApiViewer& viewer, std::string_view query, size_t loop = 0) {
        ws::HttpReply reply;
        api_connections(query, viewer, loop, ws_config, chat, loops, registry, reply);
        return reply;
    }
};

// A request carrying `query` and, when not empty, an Authorization header.
struct Request {
    std::string query, auth;
    Request(std::string q, std::string authorization = {})
        : query(std::move(q)), auth(std::move(authorization)) {}
    // Views into this object: valid while it lives.
    ws::HttpRequest req() const {
        ws::HttpRequest r;
        r.query = query;
        if (!auth.empty()) r.headers.push_back({"Authorization", auth});
        return r;
    }
};

bool contains(const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

TEST_SUITE("chat/program/web_api") {
    TEST_CASE("a connection is written with its counters in and out, ratios and round trip") {
        ConnectionView v;
        v.id = 42;
        v.loop = 1;
        v.user = "a\"b";
        v.opened_ms = 1700000000000;
        v.deflate.enabled = true;
        v.deflate.server_no_context_takeover = true;
        v.deflate.server_window_bits = 15;
        v.deflate.client_window_bits = 10;
        v.messages_in = 3;
        v.messages_out = 5;
        v.wire_bytes_in = 100;
        v.wire_bytes_out = 200;
        v.payload_bytes_in = 80;
        v.payload_bytes_out = 400;
        v.compressed_bytes_in = 80;
        v.compressed_bytes_out = 150;
        v.ping_rtt_us = 1234;
        std::string out;
        append_connection(out, v);
        CHECK(out ==
              R"({"id":42,"loop":1,"user":"a\"b","opened_ms":1700000000000,)"
              R"("permessage_deflate":{"server_no_context_takeover":true,)"
              R"("client_no_context_takeover":false,"server_max_window_bits":15,)"
              R"("client_max_window_bits":10},"messages":{"in":3,"out":5},)"
              R"("wire_bytes":{"in":100,"out":200},"payload_bytes":{"in":80,"out":400},)"
              R"("compressed_bytes":{"in":80,"out":150},)"
              R"("compression_ratio":{"in":1.000,"out":0.375},"ping_rtt_us":1234})");
    }

    TEST_CASE("no deflate, no payload yet and no pong yet are null, not zero") {
        ConnectionView v;
        v.id = 1;
        std::string out;
        append_connection(out, v);
        CHECK(contains(out, R"("permessage_deflate":null)"));
        CHECK(contains(out, R"("compression_ratio":{"in":null,"out":null})"));
        CHECK(contains(out, R"("ping_rtt_us":null})"));
    }

    TEST_CASE("connection ids are 1 to 20 decimal digits that fit in 64 bits") {
        uint64_t id = 0;
        CHECK(parse_connection_id("0", id));
        CHECK(id == 0);
        CHECK(parse_connection_id("42", id));
        CHECK(id == 42);
        CHECK(parse_connection_id("18446744073709551615", id));
        CHECK(id == UINT64_MAX);
        CHECK(parse_connection_id("00000000000000000001", id));
        CHECK(id == 1);
        for (std::string_view bad : {"", "18446744073709551616", "99999999999999999999",
                                     "000000000000000000001", "-1", "+1", " 1", "1 ", "0x10",
                                     "1e3", "1.0", "%31", "abc"}) {
            CAPTURE(bad);
            uint64_t untouched = 7;
            CHECK_FALSE(parse_connection_id(bad, untouched));
            CHECK(untouched == 7);
        }
    }

    TEST_CASE("?id= finds a connection of any loop; the answer names both loops") {
        Api api;
        ws::ConnectionStats* s = nullptr;
        uint64_t id = api.registry.add(1, "alice", {}, 5, s);
        ++s->messages_in;
        ws::HttpReply r = api.get("id=" + std::to_string(id), 0);
        CHECK(r.status == 200);
        CHECK(r.content_type == "application/json");
        CHECK(contains(r.extra_headers, "Cache-Control: no-store\r\n"));
        CHECK(r.body.starts_with(R"({"loop":0,"config":)"));
        CHECK(contains(r.body, R"(,"connection":{"id":1,"loop":1,"user":"alice",)"));
        CHECK(contains(r.body, R"("messages":{"in":1,"out":0})"));
        CHECK(r.body.ends_with("}}\n"));
        CHECK_FALSE(contains(r.body, R"("connections")"));
    }

    TEST_CASE("an unknown or closed id is 404 and a malformed one 400, as JSON") {
        Api api;
        ws::ConnectionStats* s = nullptr;
        uint64_t id = api.registry.add(0, "bob", {}, 0, s);
        api.registry.remove(id);
        ws::HttpReply r = api.get("id=" + std::to_string(id));
        CHECK(r.status == 404);
        CHECK(r.body == R"({"error":"not_found","reason":"no open /chat connection has this id"})"
                        "\n");
        CHECK(contains(r.extra_headers, "Cache-Control: no-store\r\n"));
        CHECK(api.get("id=999").status == 404);
        for (std::string_view q : {"id=", "id=abc", "id=-1", "id=18446744073709551616",
                                   "id=1%32", "x=1&id=1x"}) {
            CAPTURE(q);
            ws::HttpReply bad = api.get(q);
            CHECK(bad.status == 400);
            CHECK(contains(bad.body, R"("error":"bad_id")"));
        }
    }

    TEST_CASE("without an id, the oldest 100 connections of every loop and the total") {
        Api api;
        ws::ConnectionStats* s = nullptr;
        for (int i = 0; i < 150; ++i) api.registry.add(static_cast<uint32_t>(i % 2), "u", {}, 0, s);
        ws::HttpReply r = api.get("");
        CHECK(r.status == 200);
        CHECK(contains(r.body, R"("connections_total":150,"connections":[{"id":1,"loop":0,)"));
        CHECK(contains(r.body, R"({"id":100,"loop":1,)"));
        CHECK_FALSE(contains(r.body, R"({"id":101,)"));
        size_t objects = 0;
        for (size_t at = 0; (at = r.body.find(R"({"id":)", at)) != std::string::npos; ++at) ++objects;
        CHECK(objects == kMaxListedConnections);
        ConnectionRegistry empty;
        ws::HttpReply none;
        api_connections("", api.everyone, 1, api.ws_config, api.chat, api.loops, empty, none);
        CHECK(contains(none.body, R"("connections_total":0,"connections":[]})"));
    }

    TEST_CASE("whoami in open mode accepts a valid name and refuses a bad one with 401") {
        ChatConfig config;
        ws::HttpReply ok;
        whoami(config, "username=alice", ok);
        CHECK(ok.status == 200);
        CHECK(ok.body.starts_with(R"({"user":"alice","mode":"open","instance":")"));
        ws::HttpReply bad;
        whoami(config, "username=", bad);
        CHECK(bad.status == 401);
        CHECK(contains(bad.body, R"("error":"bad_user")"));
    }

    TEST_CASE("with a JWT secret the list needs a token and shows only its user's connections") {
        Api api;
        api.chat.jwt_secret = "a secret of sixteen bytes or more";
        ws::ConnectionStats* s = nullptr;
        uint64_t alice = api.registry.add(0, "alice", {}, 0, s);
        uint64_t bob = api.registry.add(1, "bob", {}, 0, s);
        api.registry.add(1, "alice", {}, 0, s);
        const int64_t now = std::time(nullptr);
        std::string token = *mint_jwt(api.chat.jwt_secret, "alice", 3600, now);

        for (const Request& anonymous : {Request(""), Request("token="), Request("", "Basic eA=="),
                                         Request("token=x.y.z"), Request("", "Bearer x.y.z")}) {
            ApiViewer v = api_viewer(api.chat, anonymous.req(), now);
            CHECK_FALSE(v.allowed);
            ws::HttpReply r = api.get_as(v, "");
            CHECK(r.status == 401);
            CHECK(contains(r.body, R"("error":"unauthorized")"));
            CHECK(contains(r.extra_headers, "WWW-Authenticate: Bearer"));
            CHECK_FALSE(contains(r.body, "alice"));
        }
        for (const Request& ok : {Request("token=" + token), Request("", "Bearer " + token),
                                  Request("", "bearer " + token)}) {
            ApiViewer v = api_viewer(api.chat, ok.req(), now);
            REQUIRE(v.allowed);
            CHECK_FALSE(v.all);
            CHECK(v.user == "alice");
            ws::HttpReply r = api.get_as(v, "");
            CHECK(r.status == 200);
            CHECK(contains(r.body, R"("connections_total":2,)"));
            CHECK_FALSE(contains(r.body, "bob"));
            CHECK(api.get_as(v, "id=" + std::to_string(alice)).status == 200);
            // Another user's connection is not told apart from a closed one.
            ws::HttpReply other = api.get_as(v, "id=" + std::to_string(bob));
            CHECK(other.status == 404);
            CHECK_FALSE(contains(other.body, "bob"));
        }
        std::string expired = *mint_jwt(api.chat.jwt_secret, "alice", 10, now - 100);
        CHECK_FALSE(api_viewer(api.chat, Request("token=" + expired).req(), now).allowed);
    }

    TEST_CASE("the admin token sees every connection; without a secret it is the only key") {
        Api api;
        api.chat.jwt_secret = "a secret of sixteen bytes or more";
        api.chat.admin_token = "admin-token-0123456789";
        ws::ConnectionStats* s = nullptr;
        api.registry.add(0, "alice", {}, 0, s);
        uint64_t bob = api.registry.add(1, "bob", {}, 0, s);
        const int64_t now = std::time(nullptr);
        ApiViewer admin =
            api_viewer(api.chat, Request("", "Bearer admin-token-0123456789").req(), now);
        CHECK((admin.allowed && admin.all));
        ws::HttpReply r = api.get_as(admin, "");
        CHECK(contains(r.body, R"("connections_total":2,)"));
        CHECK(api.get_as(admin, "id=" + std::to_string(bob)).status == 200);
        for (const char* near : {"Bearer admin-token-012345678", "Bearer admin-token-01234567890",
                                 "Bearer admin-token-0123456788"}) {
            CAPTURE(near);
            CHECK_FALSE(api_viewer(api.chat, Request("", near).req(), now).allowed);
        }

        api.chat.jwt_secret.clear();  // open mode with an admin token: only the admin
        CHECK_FALSE(api_viewer(api.chat, Request("").req(), now).allowed);
        CHECK(api_viewer(api.chat, Request("token=admin-token-0123456789").req(), now).all);
        api.chat.admin_token.clear();  // open mode without one: everything, as before
        ApiViewer open = api_viewer(api.chat, Request("").req(), now);
        CHECK((open.allowed && open.all));
    }

    TEST_CASE("whoami and the handshake share one check: an empty username with a token is none") {
        ChatConfig config;
        config.jwt_secret = "a secret of sixteen bytes or more";
        std::string token = *mint_jwt(config.jwt_secret, "alice", 3600, std::time(nullptr));
        for (std::string q : {"token=" + token, "username=&token=" + token,
                              "username=alice&token=" + token}) {
            CAPTURE(q);
            ws::HttpReply r;
            whoami(config, q, r);
            CHECK(r.status == 200);
            CHECK(r.body.starts_with(R"({"user":"alice","mode":"jwt","exp":)"));
        }
        ws::HttpReply mismatch;
        whoami(config, "username=bob&token=" + token, mismatch);
        CHECK(mismatch.status == 401);
        CHECK(contains(mismatch.body, R"("error":"username_mismatch")"));
        ws::HttpReply none;
        whoami(config, "username=alice&token=", none);
        CHECK(none.status == 401);
        CHECK(contains(none.body, R"("reason":"a token is required")"));
    }
}
