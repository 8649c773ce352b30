// tests/chat/program/token_main_test.cc: `epws token`: flags, durations, usage errors, and that what it
// prints verifies.
#include "chat/program/token_main.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "chat/jwt.h"

using namespace epws::chat;

namespace {

struct Run {
    int rc;
    std::string out, err;
};

Run run(std::vector<const char*> args, int64_t now = 1700000000) {
    args.insert(args.begin(), "token");
    Run r{0, {}, {}};
    r.rc = run_token_command(static_cast<int>(args.size()), args.data(), now, r.out, r.err);
    return r;
}

} // namespace

TEST_SUITE("chat/program/token_main") {

    TEST_CASE("it prints one token line that verifies for the user until the ttl runs out") {
        Run r = run({"--secret", "s3cret-0123456789", "--user", "alice", "--ttl", "30m"});
        REQUIRE(r.rc == 0);
        CHECK(r.err.empty());
        REQUIRE(r.out.size() > 1);
        CHECK(r.out.back() == '\n');
        const std::string token = r.out.substr(0, r.out.size() - 1);
        CHECK(token.find('\n') == std::string::npos);
        JwtResult v = verify_jwt(token, "s3cret-0123456789", 1700000000);
        REQUIRE(v.ok());
        CHECK(v.user == "alice");
        CHECK(v.exp == 1700000000 + 1800);
    }

    TEST_CASE("the ttl defaults to an hour and flags accept the --flag=value form") {
        Run r = run({"--secret=k-0123456789abcdef", "--user=名前 🙂"});
        REQUIRE(r.rc == 0);
        JwtResult v =
            verify_jwt(r.out.substr(0, r.out.size() - 1), "k-0123456789abcdef", 1700000000);
        CHECK(v.user == "名前 🙂");
        CHECK(v.exp == 1700000000 + kDefaultTokenTtl);
    }

    TEST_CASE("durations take seconds or a unit and refuse zero, junk and over a year") {
        CHECK(parse_ttl("3600") == 3600);
        CHECK(parse_ttl("90s") == 90);
        CHECK(parse_ttl("30m") == 1800);
        CHECK(parse_ttl("1h") == 3600);
        CHECK(parse_ttl("7d") == 7 * 86400);
        CHECK(parse_ttl("366d") == kMaxTokenTtl);
        for (std::string_view bad : {"", "0", "-5", "1x", "1hh", "h", " 1h", "1.5h", "367d",
                                     "99999999999999999999", "9223372036854775807d"}) {
            CAPTURE(bad);
            CHECK_FALSE(parse_ttl(bad).has_value());
        }
    }

    TEST_CASE("bad usage exits 2 with one line on stderr and nothing on stdout") {
        const std::vector<std::vector<const char*>> cases = {
            {},
            {"--user", "alice"},
            {"--secret", "", "--user", "alice"},
            {"--secret", "k-0123456789abcdef"},
            {"--secret", "k-0123456789abcdef", "--user", " alice"},
            {"--secret", "k-0123456789abcdef", "--user", "alice", "--ttl", "forever"},
            {"--secret", "k-0123456789abcdef", "--user", "alice", "--bogus"},
            {"--secret", "k-0123456789abcdef", "--user"},
            {"--secret", "s3cret", "--user", "alice"},
            {"alice"},
        };
        for (const auto& args : cases) {
            Run r = run(args);
            CAPTURE(r.err);
            CHECK(r.rc == 2);
            CHECK(r.out.empty());
            REQUIRE_FALSE(r.err.empty());
            CHECK(r.err.rfind("epws token: ", 0) == 0);
            CHECK(r.err.find('\n') == r.err.size() - 1);
        }
    }

    TEST_CASE("--help prints the usage on stdout and exits 0") {
        Run r = run({"--help"});
        CHECK(r.rc == 0);
        CHECK(r.out.rfind("usage: epws token", 0) == 0);
        CHECK(r.err.empty());
    }

    TEST_CASE("a secret the server would refuse at start-up is refused, with the server's reason") {
        Run r = run({"--secret", "s3cret", "--user", "alice"});
        CHECK(r.rc == 2);
        CHECK(r.out.empty());
        CHECK(r.err ==
              "epws token: --secret: the server would refuse it: " + secret_problem("s3cret") + "\n");
        CHECK(r.err.find("at least 16 bytes") != std::string::npos);
        CHECK(run({"--secret", "0123456789abcde", "--user", "alice"}).rc == 2); // 15 bytes
        CHECK(run({"--secret", "0123456789abcdef", "--user", "alice"}).rc == 0); // 16 bytes
        CHECK(run({"--help"}).out.find("at least " + std::to_string(kMinSecretBytes) + " bytes") !=
              std::string::npos);
    }
}
