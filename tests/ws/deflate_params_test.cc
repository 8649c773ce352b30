// tests/ws/deflate_params_test.cc: unit tests for ws/deflate_params.cc, the permessage-deflate
// negotiation (RFC 7692 §5, §7.1). Layer: tests/. Tables: offer -> answer, per server mode.
#include "ws/deflate_params.h"

#include <doctest/doctest.h>

#include <string>

using epws::ws::DeflateConfig;
using epws::ws::DeflateMode;
using epws::ws::DeflateParams;
using epws::ws::ExtensionOffer;
using epws::ws::OfferParse;

namespace {

struct Row {
    const char* offer;
    const char* answer; // "" = declined (no compression, the handshake still succeeds)
};

void check_table(const DeflateConfig& config, const Row* rows, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        std::string answer = "stale";
        DeflateParams p = epws::ws::negotiate_deflate(rows[i].offer, config, answer);
        CAPTURE(rows[i].offer);
        CHECK(answer == rows[i].answer);
        CHECK(bool(p.enabled) == !answer.empty());
    }
}

DeflateConfig config(DeflateMode mode, uint8_t window_bits = 15) {
    DeflateConfig c;
    c.mode = mode;
    c.window_bits = window_bits;
    return c;
}

constexpr const char* kShared =
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

} // namespace

TEST_SUITE("ws/deflate_params") {

    TEST_CASE(
        "offers are read with parameters with and without values, quoted values and empty items") {
        std::string_view rest =
            " , x-webkit-deflate-frame,permessage-deflate ;a; b = 1 ;c=\"q\\\"x,y\" ,";
        ExtensionOffer o;
        REQUIRE(epws::ws::next_offer(rest, o) == OfferParse::kOffer);
        CHECK(o.name == "x-webkit-deflate-frame");
        CHECK(o.count == 0);
        REQUIRE(epws::ws::next_offer(rest, o) == OfferParse::kOffer);
        CHECK(o.name == "permessage-deflate");
        REQUIRE(o.count == 3);
        CHECK((o.params[0].name == "a" && !o.params[0].has_value));
        CHECK((o.params[1].name == "b" && o.params[1].has_value && o.params[1].value == "1"));
        CHECK((o.params[2].name == "c" && o.params[2].quoted && o.params[2].value == "q\\\"x,y"));
        CHECK(epws::ws::next_offer(rest, o) == OfferParse::kEnd);
    }

    TEST_CASE("malformed headers are syntax errors") {
        for (const char* bad : {"permessage-deflate;", "permessage-deflate; =1",
                                "permessage-deflate; a=", "permessage-deflate; a=\"open",
                                "permessage-deflate x", ";a", "a;b=c d"}) {
            std::string_view rest = bad;
            ExtensionOffer o;
            OfferParse r = OfferParse::kOffer;
            while ((r = epws::ws::next_offer(rest, o)) == OfferParse::kOffer) {
            }
            CAPTURE(bad);
            CHECK(r == OfferParse::kSyntaxError);
        }
    }

    TEST_CASE("shared mode answers no context takeover both ways and honours every parameter") {
        const Row rows[] = {
            {"permessage-deflate", kShared},
            {"permessage-deflate; client_max_window_bits", kShared},
            {"permessage-deflate; client_max_window_bits=15", kShared},
            {"permessage-deflate; client_max_window_bits=10",
             "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
             "client_max_window_bits=10"},
            {"permessage-deflate; server_max_window_bits=10",
             "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
             "server_max_window_bits=10"},
            {"permessage-deflate; server_max_window_bits=8",
             "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
             "server_max_window_bits=8"},
            {"permessage-deflate; server_max_window_bits=\"9\"",
             "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
             "server_max_window_bits=9"},
            {"permessage-deflate; server_no_context_takeover", kShared},
            {"permessage-deflate; client_no_context_takeover", kShared},
            {"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
             "server_max_window_bits=15; client_max_window_bits",
             "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
             "server_max_window_bits=15"},
            {"PerMessage-Deflate", ""}, // extension tokens are compared exactly, as registered
        };
        check_table(config(DeflateMode::kShared), rows, std::size(rows));
    }

    TEST_CASE(
        "an offer with an unknown, duplicate, valueless or out-of-range parameter is declined") {
        const Row rows[] = {
            {"permessage-deflate; foo", ""},
            {"permessage-deflate; foo=1", ""},
            {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", ""},
            {"permessage-deflate; client_max_window_bits; client_max_window_bits=10", ""},
            {"permessage-deflate; server_no_context_takeover=1", ""},
            {"permessage-deflate; client_no_context_takeover=\"\"", ""},
            {"permessage-deflate; server_max_window_bits", ""},
            {"permessage-deflate; server_max_window_bits=7", ""},
            {"permessage-deflate; server_max_window_bits=16", ""},
            {"permessage-deflate; server_max_window_bits=08", ""},
            {"permessage-deflate; server_max_window_bits=1a", ""},
            {"permessage-deflate; client_max_window_bits=0", ""},
            {"permessage-deflate; client_max_window_bits=\"\"", ""},
            {"permessage-deflate; a; b; c; d; e; f; g; h; i", ""},
            {"", ""},
            {"x-webkit-deflate-frame", ""},
            {"permessage-deflate;", ""}, // syntax error: nothing is accepted
            {"permessage-deflate, permessage-deflate; a=\"", ""}, // ... even an earlier good offer
        };
        check_table(config(DeflateMode::kShared), rows, std::size(rows));
    }

    TEST_CASE("the first offer the server can honour wins, in the client's order") {
        const Row rows[] = {
            {"x-webkit-deflate-frame, permessage-deflate; client_max_window_bits", kShared},
            {"permessage-deflate; server_max_window_bits=7, permessage-deflate; "
             "server_max_window_bits=11",
             "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
             "server_max_window_bits=11"},
            {"permessage-deflate; x=\"a, b\", permessage-deflate", kShared}, // a quoted comma
            {"permessage-deflate; foo, permessage-deflate; bar", ""},
        };
        check_table(config(DeflateMode::kShared), rows, std::size(rows));
    }

    TEST_CASE("dedicated mode keeps context unless asked and bounds windows by its own") {
        const Row rows15[] = {
            {"permessage-deflate", "permessage-deflate"},
            {"permessage-deflate; client_max_window_bits",
             "permessage-deflate; client_max_window_bits=15"},
            {"permessage-deflate; server_no_context_takeover",
             "permessage-deflate; server_no_context_takeover"},
            {"permessage-deflate; client_no_context_takeover",
             "permessage-deflate; client_no_context_takeover"},
            {"permessage-deflate; server_max_window_bits=8",
             "permessage-deflate; server_max_window_bits=8"},
        };
        check_table(config(DeflateMode::kDedicated), rows15, std::size(rows15));
        const Row rows10[] = {
            {"permessage-deflate", "permessage-deflate"},
            {"permessage-deflate; client_max_window_bits",
             "permessage-deflate; client_max_window_bits=10"},
            {"permessage-deflate; client_max_window_bits=9",
             "permessage-deflate; client_max_window_bits=9"},
            {"permessage-deflate; client_max_window_bits=12; server_max_window_bits=12",
             "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10"},
        };
        check_table(config(DeflateMode::kDedicated, 10), rows10, std::size(rows10));
    }

    TEST_CASE("the agreed params say which window each side compresses with") {
        std::string answer;
        DeflateParams p = epws::ws::negotiate_deflate("permessage-deflate",
                                                      config(DeflateMode::kDedicated, 11), answer);
        CHECK(bool(p.enabled));
        CHECK(p.server_window_bits == 11); // not announced: our own choice (RFC 7692 §7.1.2.1)
        CHECK(p.client_window_bits == 15); // the client did not offer client_max_window_bits
        CHECK_FALSE(bool(p.server_no_context_takeover));
        CHECK_FALSE(bool(p.client_no_context_takeover));
        p = epws::ws::negotiate_deflate(
            "permessage-deflate; server_max_window_bits=8; client_max_window_bits=9",
            config(DeflateMode::kShared), answer);
        CHECK(p.server_window_bits == 8);
        CHECK(p.client_window_bits == 9);
        CHECK(bool(p.server_no_context_takeover));
        CHECK(bool(p.client_no_context_takeover));
    }

    TEST_CASE("off mode declines every offer") {
        std::string answer = "stale";
        CHECK_FALSE(
            epws::ws::negotiate_deflate("permessage-deflate", config(DeflateMode::kOff), answer)
                .enabled);
        CHECK(answer.empty());
    }

} // TEST_SUITE
