// tests/chat/program/options_test.cc: the server's command line.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "chat/jwt.h"
#include "chat/program/options.h"

using namespace epws;

namespace {
chat::ParseOutcome parse(std::vector<const char*> args, chat::Options& c, std::string& err) {
    args.insert(args.begin(), "epws");
    return chat::parse_options(static_cast<int>(args.size()), args.data(), c, err);
}
}  // namespace

TEST_SUITE("chat/program/options") {
    TEST_CASE("no flags keeps the documented defaults") {
        chat::Options c;
        std::string err;
        CHECK(parse({}, c, err) == chat::ParseOutcome::kRun);
        CHECK(c.host == "127.0.0.1");
        CHECK(c.port == 8080);
        CHECK(c.http.max_header_bytes == 8192);
        CHECK(c.http.max_headers == 100);
        CHECK(c.reader.max_message_bytes == 16u << 20);
        CHECK(c.handshake_timeout_ms == 10000);
    }

    TEST_CASE("TLS flags pair certificates with keys in order, and --port off needs them") {
        chat::Options c;
        std::string err;
        REQUIRE(parse({"--tls-cert", "a.pem", "--tls-key", "a.key", "--tls-cert=b.pem", "--tls-key",
                       "b.key", "--tls-port", "0", "--port", "off"},
                      c, err) == chat::ParseOutcome::kRun);
        CHECK(c.tls_certs == std::vector<std::string>{"a.pem", "b.pem"});
        CHECK(c.tls_keys == std::vector<std::string>{"a.key", "b.key"});
        CHECK(c.tls_port == 0);
        CHECK_FALSE(c.plain);
        chat::Options d;
        CHECK(parse({"--tls-cert", "a.pem"}, d, err) == chat::ParseOutcome::kError);
        CHECK(err.find("pairs") != std::string::npos);
        chat::Options e;
        CHECK(parse({"--tls-port", "9443"}, e, err) == chat::ParseOutcome::kError);
        CHECK(err.find("--tls-port needs") != std::string::npos);
        chat::Options f;
        CHECK(parse({"--port", "off"}, f, err) == chat::ParseOutcome::kError);
        CHECK(err.find("nothing to listen on") != std::string::npos);
        chat::Options g;
        CHECK(parse({"--port", "offf"}, g, err) == chat::ParseOutcome::kError);
        CHECK(g.plain);
        CHECK(g.tls_port == 8443);  // the default when certificates are given
    }

    TEST_CASE("the room and presence limits have flags with their documented defaults") {
        chat::Options c;
        std::string err;
        CHECK(parse({}, c, err) == chat::ParseOutcome::kRun);
        CHECK(c.chat.room_idle_ttl_ms == 300000);
        CHECK(c.chat.room_create_rate == doctest::Approx(0.1));
        CHECK(c.chat.room_create_burst == doctest::Approx(10));
        CHECK(c.chat.protocol.max_presence_names == 100);
        REQUIRE(parse({"--room-idle-ttl", "0.5", "--room-create-rate", "2", "--room-create-burst=4",
                       "--presence-max-names", "20"},
                      c, err) == chat::ParseOutcome::kRun);
        CHECK(c.chat.room_idle_ttl_ms == 500);
        CHECK(c.chat.room_create_rate == doctest::Approx(2));
        CHECK(c.chat.room_create_burst == doctest::Approx(4));
        CHECK(c.chat.protocol.max_presence_names == 20);
        chat::Options d;
        CHECK(parse({"--presence-max-names", "0"}, d, err) == chat::ParseOutcome::kError);
        CHECK(parse({"--room-create-rate", "0"}, d, err) == chat::ParseOutcome::kError);
    }

    TEST_CASE("flags take a separate or an inline value, sizes take suffixes, times decimals") {
        chat::Options c;
        std::string err;
        REQUIRE(parse({"--port", "0", "--max-message-bytes=2m", "--handshake-timeout", "0.5",
                       "--subprotocols", "chat,superchat"},
                      c, err) == chat::ParseOutcome::kRun);
        CHECK(c.port == 0);
        CHECK(c.reader.max_message_bytes == 2u << 20);
        CHECK(c.handshake_timeout_ms == 500);
        CHECK(c.handshake.subprotocols == std::vector<std::string>{"chat", "superchat"});
    }

    TEST_CASE("a bad value is one error line naming the flag") {
        chat::Options c;
        std::string err;
        CHECK(parse({"--port", "70000"}, c, err) == chat::ParseOutcome::kError);
        CHECK(err.find("--port") != std::string::npos);
        CHECK(parse({"--idle-timeout", "soon"}, c, err) == chat::ParseOutcome::kError);
        CHECK(err.find("--idle-timeout") != std::string::npos);
        CHECK(parse({"--max-headers"}, c, err) == chat::ParseOutcome::kError);
        CHECK(err.find("needs a value") != std::string::npos);
        CHECK(parse({"--bogus"}, c, err) == chat::ParseOutcome::kError);
        CHECK(err.find("unknown option '--bogus'") != std::string::npos);
    }

    TEST_CASE("help lists every flag with its default") {
        chat::Options c;
        std::string err;
        CHECK(parse({"--help"}, c, err) == chat::ParseOutcome::kHelp);
        std::string text = chat::usage("epws");
        for (const char* flag : {"--host", "--port", "--threads", "--max-header-bytes", "--max-headers",
                                 "--max-message-bytes", "--max-fragments", "--max-output-bytes",
                                 "--max-connections", "--max-connections-per-ip", "--handshake-timeout", "--idle-timeout",
                                 "--close-timeout", "--subprotocols", "--allowed-origins"})
            CHECK_MESSAGE(text.find(flag) != std::string::npos, flag);
        CHECK(text.find("default 8192") != std::string::npos);
    }
}

TEST_SUITE("chat/program/options") {
    TEST_CASE("deflate flags choose the mode and bound level, window, memLevel and threshold") {
        chat::Options c;
        std::string err;
        CHECK(c.deflate.mode == ws::DeflateMode::kShared);  // browsers get compression by default
        CHECK(c.deflate.level == 1);
        CHECK(c.deflate.window_bits == 15);
        CHECK(c.deflate.mem_level == 8);
        CHECK(c.deflate.threshold == 64);
        REQUIRE(parse({"--deflate", "dedicated", "--deflate-level=1", "--deflate-window-bits", "10",
                       "--deflate-mem-level", "4", "--deflate-threshold", "1k"},
                      c, err) == chat::ParseOutcome::kRun);
        CHECK(c.deflate.mode == ws::DeflateMode::kDedicated);
        CHECK(c.deflate.level == 1);
        CHECK(c.deflate.window_bits == 10);
        CHECK(c.deflate.mem_level == 4);
        CHECK(c.deflate.threshold == 1024);
        REQUIRE(parse({"--deflate", "off"}, c, err) == chat::ParseOutcome::kRun);
        CHECK(c.deflate.mode == ws::DeflateMode::kOff);
        for (auto args : {std::vector<const char*>{"--deflate", "on"}, {"--deflate-level", "10"},
                          {"--deflate-window-bits", "8"}, {"--deflate-mem-level", "0"},
                          {"--deflate-threshold", "-1"}}) {
            CHECK(parse(args, c, err) == chat::ParseOutcome::kError);
            CHECK(err.find(args[0]) != std::string::npos);
        }
        std::string text = chat::usage("epws");
        for (const char* flag : {"--deflate ", "--deflate-level", "--deflate-window-bits",
                                 "--deflate-mem-level", "--deflate-threshold"})
            CHECK_MESSAGE(text.find(flag) != std::string::npos, flag);
        CHECK(text.find("(default shared)") != std::string::npos);
    }
}

TEST_SUITE("chat/options") {
    TEST_CASE("--host takes a numeric IPv4 or IPv6 address, and anything else is bad usage") {
        chat::Options c;
        std::string err;
        for (const char* ok : {"127.0.0.1", "0.0.0.0", "::1", "::", "fe80::1"}) {
            CAPTURE(ok);
            CHECK(parse({"--host", ok}, c, err) == chat::ParseOutcome::kRun);
            CHECK(c.host == ok);
        }
        for (const char* bad : {"localhost", "", "127.0.0.256", "1.2.3", "::1::", "127.0.0.1 ",
                                "[::1]", "example.com"}) {
            CAPTURE(bad);
            CHECK(parse({"--host", bad}, c, err) == chat::ParseOutcome::kError);
            CHECK(err.find("--host") != std::string::npos);
            CHECK(err.find("numeric IPv4 or IPv6") != std::string::npos);
        }
        CHECK(c.host == "fe80::1");  // a refused value leaves the last good one
    }

    TEST_CASE("--web-root must name a directory that exists now") {
        chat::Options c;
        std::string err;
        CHECK(parse({"--web-root", "/nonexistent/epws-web"}, c, err) == chat::ParseOutcome::kError);
        CHECK(err.find("--web-root '/nonexistent/epws-web': cannot open: No such file or "
                       "directory") != std::string::npos);
        CHECK(parse({"--web-root", "/dev/null"}, c, err) == chat::ParseOutcome::kError);
        CHECK(err.find("is not a directory") != std::string::npos);
        CHECK(c.web_root == EPWS_WEB_ROOT);
        REQUIRE(parse({"--web-root=/"}, c, err) == chat::ParseOutcome::kRun);
        CHECK(c.web_root == "/");
    }

    TEST_CASE("a size that is not a number says what is accepted: digits and a k, m or g suffix") {
        chat::Options c;
        std::string err;
        for (const char* bad : {"1x", "16mb", "k", "", "1.5m", "-1"}) {
            CAPTURE(bad);
            CHECK(parse({"--max-message-bytes", bad}, c, err) == chat::ParseOutcome::kError);
            CHECK(err.find("--max-message-bytes") != std::string::npos);
            CHECK(err.find("whole number with an optional suffix k, m or g") != std::string::npos);
        }
        REQUIRE(parse({"--max-message-bytes", "64K"}, c, err) == chat::ParseOutcome::kRun);
        CHECK(c.reader.max_message_bytes == 64u << 10);
    }

    TEST_CASE("a JWT secret under 16 bytes is refused, by the same rule epws token applies") {
        chat::Options c;
        std::string err;
        CHECK(parse({"--jwt-secret", "s3cret"}, c, err) == chat::ParseOutcome::kError);
        CHECK(err.find("--jwt-secret 's3cret': " + chat::secret_problem("s3cret")) !=
              std::string::npos);
        CHECK(parse({"--jwt-secret", "0123456789abcde"}, c, err) == chat::ParseOutcome::kError);
        REQUIRE(parse({"--jwt-secret", "0123456789abcdef"}, c, err) == chat::ParseOutcome::kRun);
        CHECK(c.chat.jwt_secret == "0123456789abcdef");
        CHECK(chat::secret_problem("0123456789abcdef").empty());
        CHECK(chat::secret_problem("0123456789abcde").find("at least 16 bytes (it has 15)") !=
              std::string::npos);
    }

    TEST_CASE("help lists every HTTP endpoint and the exit status of bad usage") {
        std::string text = chat::usage("epws");
        for (const char* endpoint : {"/chat", "/echo", "/broadcast", "/healthz", "/stats",
                                     "/inspect", "/api/whoami", "/api/connections", "--web-root"})
            CHECK_MESSAGE(text.find(endpoint) != std::string::npos, endpoint);
        CHECK(text.find("2 for bad usage") != std::string::npos);
    }
}
