// tests/chat/program/options_test.cc: the server's command line.
#include <doctest/doctest.h>

#include <string>
#include <vector>

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
        CHECK(c.deflate.level == 6);
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
