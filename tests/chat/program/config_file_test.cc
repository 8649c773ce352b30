// tests/chat/program/config_file_test.cc: the --config format (chat/program/config_file.h) and
// which settings a reload applies (chat/program/reload.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "chat/program/config_file.h"
#include "chat/program/reload.h"

using namespace epws;

TEST_SUITE("chat/program/config_file") {
    TEST_CASE("keys are flag names, values are checked as on the command line") {
        chat::Options c;
        std::string e = chat::apply_config_text(
            "f", "# c\n\n  port = 9000\nhost = \"::1\" # v6\nmax_message_bytes = 2m\n"
                 "allowed-origins = https://a.example,https://b.example\r\nrate = 0.5 # slow\n",
            c);
        CHECK(e == "");
        CHECK(c.port == 9000);
        CHECK(c.host == "::1");
        CHECK(c.reader.max_message_bytes == 2u << 20);
        CHECK(c.handshake.allowed_origins.size() == 2);
        CHECK(c.chat.rate_per_second == doctest::Approx(0.5));
    }

    TEST_CASE("a quoted value keeps a hash and resolves its two escapes") {
        chat::Options c;
        CHECK(chat::apply_config_text("f", "jwt-secret = \"0123456789 #b \\\"c\\\" \\\\d\"\n", c) == "");
        CHECK(c.chat.jwt_secret == "0123456789 #b \"c\" \\d");
    }

    TEST_CASE("each error names the file and the line") {
        chat::Options c;
        CHECK(chat::apply_config_text("f", "port = 1\nnope = 2\n", c).starts_with("f:2: "));
        CHECK(chat::apply_config_text("f", "\n\nport = 70000\n", c).starts_with("f:3: port"));
        CHECK(chat::apply_config_text("f", "port\n", c) == "f:1: expected 'key = value'");
        CHECK(chat::apply_config_text("f", "= 3\n", c).starts_with("f:1: a key is missing"));
        CHECK(chat::apply_config_text("f", "port =\n", c).starts_with("f:1: port: a value is missing"));
        CHECK(chat::apply_config_text("f", "host = \"a\" b\n", c).find("after the closing quote") != std::string::npos);
        CHECK(chat::apply_config_text("f", "host = \"a\\n\"\n", c).find("backslash") != std::string::npos);
        CHECK(chat::apply_config_text("f", "rate = 1\nrate = 2\n", c).starts_with("f:2: 'rate' is set twice"));
        CHECK(chat::apply_config_text("f", "check-config = 1\n", c).find("command line only") != std::string::npos);
        CHECK(chat::apply_config_text("f", "Port = 1\n", c).starts_with("f:1: 'Port' is not a key"));
    }

    TEST_CASE("every flag is in the reload table, as reloadable or as needing a restart") {
        // A new flag missing from chat/program/reload.cc would be silently ignored by SIGHUP.
        std::vector<std::string> known;
        for (const auto& [name, value] : chat::describe_config(chat::Options{})) known.push_back(name);
        for (std::string_view flag : chat::option_names()) {
            // A file flag sets the same setting as its plain one.
            std::string name(flag == "jwt-secret-file"     ? "jwt-secret"
                             : flag == "admin-token-file" ? "admin-token"
                                                          : flag);
            CAPTURE(name);
            CHECK(std::find(known.begin(), known.end(), name) != known.end());
        }
    }

    TEST_CASE("a reload applies the live settings and names the ones that need a restart") {
        chat::Options a, b;
        b.chat.rate_per_second = 9;
        b.chat.jwt_secret = "0123456789abcdef";
        b.port = 1;
        b.chat.history = 3;
        chat::ConfigDiff d = chat::diff_config(a, b);
        CHECK(d.applied == std::vector<std::string>{"jwt-secret", "rate"});
        CHECK(d.needs_restart == std::vector<std::string>{"port", "history"});
        chat::apply_reloadable(b, a);
        CHECK(a.chat.rate_per_second == 9);
        CHECK(a.chat.jwt_secret == "0123456789abcdef");
        CHECK(a.port == 8080);
        CHECK(a.chat.history == 1000);
    }
}
