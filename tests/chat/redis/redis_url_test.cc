// tests/chat/redis/redis_url_test.cc: the --redis URL, accepted and refused.
#include <doctest/doctest.h>

#include <string>

#include "chat/redis/redis_url.h"

using namespace epws::chat;

namespace {

RedisUrl ok(const std::string& text) {
    RedisUrl u;
    std::string err;
    INFO(text);
    CHECK(parse_redis_url(text, u, err));
    CHECK(err.empty());
    return u;
}

std::string refused(const std::string& text) {
    RedisUrl u;
    std::string err;
    INFO(text);
    CHECK_FALSE(parse_redis_url(text, u, err));
    CHECK_FALSE(err.empty());
    return err;
}

}  // namespace

TEST_SUITE("chat/redis/redis_url") {
    TEST_CASE("a host alone takes the default port and database 0") {
        RedisUrl u = ok("redis://localhost");
        CHECK(u.host == "localhost");
        CHECK(u.port == 6379);
        CHECK(u.db == 0);
        CHECK(u.user.empty());
        CHECK(u.password.empty());
    }

    TEST_CASE("host, port and database are read") {
        RedisUrl u = ok("redis://127.0.0.1:16379/3");
        CHECK(u.host == "127.0.0.1");
        CHECK(u.port == 16379);
        CHECK(u.db == 3);
        CHECK(ok("redis://h:1/").db == 0);
    }

    TEST_CASE("user and password, percent-decoded, the userinfo ending at the last @") {
        RedisUrl u = ok("redis://app:s%3Acr%40t@db.example:6380");
        CHECK(u.user == "app");
        CHECK(u.password == "s:cr@t");
        CHECK(u.host == "db.example");
        RedisUrl raw = ok("redis://app:p@ss@h");  // a raw @ in the password
        CHECK(raw.password == "p@ss");
        CHECK(raw.host == "h");
        RedisUrl plus = ok("redis://app:a+b@h");  // '+' is not a space outside forms
        CHECK(plus.password == "a+b");
    }

    TEST_CASE("a password alone is AUTH with the default user") {
        RedisUrl u = ok("redis://:secret@h");
        CHECK(u.user.empty());
        CHECK(u.password == "secret");
    }

    TEST_CASE("IPv6 literals are written in brackets") {
        RedisUrl u = ok("redis://[::1]:7000");
        CHECK(u.host == "::1");
        CHECK(u.port == 7000);
        CHECK(ok("redis://[::1]").port == 6379);
        refused("redis://::1:7000");
        refused("redis://[::1");
        refused("redis://[::1]7000");
        refused("redis://[localhost]:1");
    }

    TEST_CASE("every malformed part is refused with a reason") {
        CHECK(refused("http://h:1").find("redis://") != std::string::npos);
        refused("rediss://h:1");
        refused("redis://");
        refused("redis://:1");
        CHECK(refused("redis://h:0").find("port") != std::string::npos);
        refused("redis://h:65536");
        refused("redis://h:");
        refused("redis://h:12x");
        refused("redis://h:-1");
        CHECK(refused("redis://h:1/x").find("database") != std::string::npos);
        refused("redis://h:1/-1");
        refused("redis://h:1/99999999999");
        refused("redis://user@h:1");  // a user without a password
        refused("redis://a:%zz@h");
        refused("redis://a:%4@h");
        refused("redis://h_1:1");
        refused("redis://h 1:1");
        refused("redis://" + std::string(1100, 'a'));
    }

    TEST_CASE("every prefix of a valid URL is accepted or refused, never read past its end") {
        const std::string full = "redis://u:p%40ss@[::1]:6380/2";
        for (size_t n = 0; n <= full.size(); ++n) {
            RedisUrl u;
            std::string err;
            bool accepted = parse_redis_url(full.substr(0, n), u, err);
            CHECK(accepted == err.empty());
        }
    }
}
