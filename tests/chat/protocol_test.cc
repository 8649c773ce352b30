// tests/chat/protocol_test.cc: the chat protocol codec: every client message type, every way to
// get one wrong, the name rules, and every server event read back by simdjson.
#include "chat/protocol.h"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace epws::chat;

namespace {

// The parser travels with its result: msg's views point into it.
struct Parsed {
    std::unique_ptr<ProtocolParser> parser;
    ParseResult result;
    ClientMessage msg;
};

// A fresh parser per call keeps each check independent; reuse has its own test.
Parsed parse(std::string_view frame, const ProtocolLimits& limits = {}) {
    Parsed r{std::make_unique<ProtocolParser>(limits), {}, {}};
    r.result = r.parser->parse(frame, r.msg);
    return r;
}

ProtocolErrorCode error_of(std::string_view frame) { return parse(frame).result.error; }

std::string_view field_of(std::string_view frame) { return parse(frame).result.field; }

// The string value of `key` in the JSON object `json`, read by simdjson.
std::string read_string(const std::string& json, const char* key) {
    simdjson::dom::parser p;
    std::string_view s;
    if (p.parse(json)[key].get_string().get(s)) return "<missing>";
    return std::string(s);
}

} // namespace

TEST_SUITE("chat/protocol") {

    TEST_CASE("every client message type parses with its fields") {
        Parsed j = parse(R"({"type":"join","room":"lobby","since":41,"id":"req-1"})");
        REQUIRE(j.result.ok());
        CHECK(j.msg.type == MessageType::kJoin);
        CHECK(j.msg.room == "lobby");
        CHECK(j.msg.since == 41u);
        CHECK(j.msg.id.kind == RequestId::Kind::kString);
        CHECK(j.msg.id.text == "req-1");

        Parsed l = parse(R"({"type":"leave","room":"café"})");
        REQUIRE(l.result.ok());
        CHECK(l.msg.type == MessageType::kLeave);
        CHECK(l.msg.room == "café");
        CHECK(l.msg.id.kind == RequestId::Kind::kNone);

        Parsed s = parse(R"({"type":"say","room":"lobby","text":"hello\nworld","id":7})");
        REQUIRE(s.result.ok());
        CHECK(s.msg.type == MessageType::kSay);
        CHECK(s.msg.text == "hello\nworld");
        CHECK(s.msg.id.kind == RequestId::Kind::kNumber);
        CHECK(s.msg.id.number == 7);

        Parsed d = parse(R"({"type":"dm","to":"名前","text":"hi 🙂"})");
        REQUIRE(d.result.ok());
        CHECK(d.msg.type == MessageType::kDm);
        CHECK(d.msg.to == "名前");
        CHECK(d.msg.text == "hi 🙂");

        Parsed w = parse(R"({"type":"who","room":"lobby"})");
        REQUIRE(w.result.ok());
        CHECK(w.msg.type == MessageType::kWho);

        Parsed r = parse(R"({"type":"rooms"})");
        REQUIRE(r.result.ok());
        CHECK(r.msg.type == MessageType::kRooms);

        Parsed p = parse(R"({"type":"ping","id":9007199254740991})");
        REQUIRE(p.result.ok());
        CHECK(p.msg.type == MessageType::kPing);
        CHECK(p.msg.id.number == kMaxSafeInteger);
    }

    TEST_CASE("join without since has no since; since 0 asks for everything kept") {
        CHECK_FALSE(parse(R"({"type":"join","room":"lobby"})").msg.since.has_value());
        CHECK(parse(R"({"type":"join","room":"lobby","since":0})").msg.since == 0u);
    }

    TEST_CASE("history takes from, an optional to and a limit defaulting to the maximum") {
        Parsed h = parse(R"({"type":"history","room":"lobby","from":10})");
        REQUIRE(h.result.ok());
        CHECK(h.msg.type == MessageType::kHistory);
        CHECK(h.msg.from == 10);
        CHECK_FALSE(h.msg.until.has_value());
        CHECK(h.msg.limit == 100);

        Parsed h2 = parse(R"({"type":"history","room":"lobby","from":10,"to":10,"limit":5})");
        REQUIRE(h2.result.ok());
        CHECK(h2.msg.until == 10u);
        CHECK(h2.msg.limit == 5);

        CHECK(error_of(R"({"type":"history","room":"lobby"})") == ProtocolErrorCode::kMissingField);
        CHECK(field_of(R"({"type":"history","room":"lobby"})") == "from");
        CHECK(error_of(R"({"type":"history","room":"lobby","from":10,"to":9})") ==
              ProtocolErrorCode::kBadRange);
        CHECK(error_of(R"({"type":"history","room":"lobby","from":1,"limit":0})") ==
              ProtocolErrorCode::kBadRange);
        CHECK(error_of(R"({"type":"history","room":"lobby","from":1,"limit":101})") ==
              ProtocolErrorCode::kNumberOutOfRange);
        CHECK(error_of(R"({"type":"history","room":"lobby","from":1,"to":"2"})") ==
              ProtocolErrorCode::kWrongType);
    }

    TEST_CASE("who takes an optional after (a user name) and a limit up to the presence cap") {
        Parsed w = parse(R"({"type":"who","room":"lobby"})");
        REQUIRE(w.result.ok());
        CHECK(w.msg.after.empty());
        CHECK(w.msg.limit == 100);
        Parsed w2 = parse(R"({"type":"who","room":"lobby","after":"bob","limit":10})");
        REQUIRE(w2.result.ok());
        CHECK(w2.msg.after == "bob");
        CHECK(w2.msg.limit == 10);
        CHECK(error_of(R"({"type":"who","room":"lobby","limit":0})") == ProtocolErrorCode::kBadRange);
        CHECK(error_of(R"({"type":"who","room":"lobby","limit":101})") ==
              ProtocolErrorCode::kNumberOutOfRange);
        CHECK(error_of(R"({"type":"who","room":"lobby","after":5})") == ProtocolErrorCode::kWrongType);
        CHECK(error_of(R"({"type":"who","room":"lobby","after":""})") == ProtocolErrorCode::kBadUserName);
        CHECK(field_of(R"({"type":"who","room":"lobby","after":" x"})") == "after");
        CHECK(error_of(R"({"type":"who","room":"lobby","after":"a","after":"b"})") ==
              ProtocolErrorCode::kDuplicateField);
    }

    TEST_CASE("join takes an optional epoch beside since") {
        Parsed j = parse(R"({"type":"join","room":"dev","since":4,"epoch":123})");
        REQUIRE(j.result.ok());
        CHECK(j.msg.since == 4u);
        CHECK(j.msg.epoch == 123u);
        Parsed old = parse(R"({"type":"join","room":"dev","since":4})");
        REQUIRE(old.result.ok());
        CHECK_FALSE(old.msg.epoch.has_value());
        CHECK(error_of(R"({"type":"join","room":"dev","epoch":-1})") ==
              ProtocolErrorCode::kNumberOutOfRange);
        CHECK(error_of(R"({"type":"join","room":"dev","epoch":"1"})") == ProtocolErrorCode::kWrongType);
    }

    TEST_CASE("unknown fields are ignored, whatever their type") {
        Parsed s =
            parse(R"({"x":[1,{"y":null}],"type":"say","room":"r","text":"t","to":5,"z":1.5})");
        REQUIRE(s.result.ok());
        CHECK(s.msg.text == "t");
        CHECK(s.msg.to.empty()); // "to" is not a say field, so its wrong type does not matter
        CHECK(error_of(R"({"type":"ping","extra":1,"extra":2})") == ProtocolErrorCode::kNone);
    }

    TEST_CASE("a known field given twice is refused rather than guessed at") {
        CHECK(error_of(R"({"type":"ping","type":"ping"})") == ProtocolErrorCode::kDuplicateField);
        CHECK(field_of(R"({"type":"say","room":"a","room":"b","text":"t"})") == "room");
        CHECK(error_of(R"({"type":"ping","id":1,"id":2})") == ProtocolErrorCode::kDuplicateField);
        // Escapes do not hide a duplicate: "\u0074ype" is "type".
        CHECK(error_of(R"({"type":"ping","\u0074ype":"ping"})") ==
              ProtocolErrorCode::kDuplicateField);
    }

    TEST_CASE("text that is not JSON, or not one complete JSON value, is bad_json") {
        const std::string_view bad[] = {
            "",
            " ",
            "{",
            "}",
            R"({"type":"ping")",
            R"({"type":"ping"}})",
            R"({"type":"ping"} x)",
            R"({"type":"ping",})",
            R"({'type':'ping'})",
            R"({type:"ping"})",
            "{\"type\":\"pi\nng\"}",
            R"({"type":"ping"}{"type":"ping"})",
            R"({"type":nul})",
            R"({"a":tru})",
            "\xef\xbb\xbf{}",
        };
        for (std::string_view frame : bad) {
            CAPTURE(frame);
            CHECK(error_of(frame) == ProtocolErrorCode::kBadJson);
        }
    }

    TEST_CASE("every proper prefix of a valid message is refused, never half-read") {
        const std::string_view full = R"({"type":"say","room":"lobby","text":"hi","id":"x"})";
        REQUIRE(error_of(full) == ProtocolErrorCode::kNone);
        for (size_t n = 0; n < full.size(); ++n) {
            CAPTURE(n);
            CHECK(error_of(full.substr(0, n)) != ProtocolErrorCode::kNone);
        }
    }

    TEST_CASE("JSON values other than objects are not_object") {
        for (std::string_view frame :
             {"[]", "[{\"type\":\"ping\"}]", "\"ping\"", "42", "null", "true"}) {
            CAPTURE(frame);
            CHECK(error_of(frame) == ProtocolErrorCode::kNotObject);
        }
    }

    TEST_CASE("a missing, mistyped or unknown type has its own error") {
        CHECK(error_of("{}") == ProtocolErrorCode::kMissingType);
        CHECK(error_of(R"({"room":"lobby"})") == ProtocolErrorCode::kMissingType);
        CHECK(error_of(R"({"type":1})") == ProtocolErrorCode::kWrongType);
        CHECK(error_of(R"({"type":null})") == ProtocolErrorCode::kWrongType);
        CHECK(error_of(R"({"type":"shout"})") == ProtocolErrorCode::kUnknownType);
        CHECK(error_of(R"({"type":"SAY"})") == ProtocolErrorCode::kUnknownType);
        CHECK(error_of(R"({"type":"say "})") == ProtocolErrorCode::kUnknownType);
        CHECK(error_of(R"({"type":""})") == ProtocolErrorCode::kUnknownType);
    }

    TEST_CASE("each type's required fields are named when missing or mistyped") {
        struct Case {
            std::string_view frame;
            ProtocolErrorCode error;
            std::string_view field;
        };
        const Case cases[] = {
            {R"({"type":"join"})", ProtocolErrorCode::kMissingField, "room"},
            {R"({"type":"leave"})", ProtocolErrorCode::kMissingField, "room"},
            {R"({"type":"who"})", ProtocolErrorCode::kMissingField, "room"},
            {R"({"type":"say","room":"r"})", ProtocolErrorCode::kMissingField, "text"},
            {R"({"type":"say","text":"t"})", ProtocolErrorCode::kMissingField, "room"},
            {R"({"type":"dm","text":"t"})", ProtocolErrorCode::kMissingField, "to"},
            {R"({"type":"dm","to":"bob"})", ProtocolErrorCode::kMissingField, "text"},
            {R"({"type":"join","room":5})", ProtocolErrorCode::kWrongType, "room"},
            {R"({"type":"join","room":["lobby"]})", ProtocolErrorCode::kWrongType, "room"},
            {R"({"type":"say","room":"r","text":null})", ProtocolErrorCode::kWrongType, "text"},
            {R"({"type":"say","room":"r","text":{"t":1}})", ProtocolErrorCode::kWrongType, "text"},
            {R"({"type":"dm","to":true,"text":"t"})", ProtocolErrorCode::kWrongType, "to"},
            {R"({"type":"join","room":"r","since":"5"})", ProtocolErrorCode::kWrongType, "since"},
            {R"({"type":"ping","id":true})", ProtocolErrorCode::kWrongType, "id"},
            {R"({"type":"ping","id":null})", ProtocolErrorCode::kWrongType, "id"},
        };
        for (const Case& c : cases) {
            CAPTURE(c.frame);
            Parsed p = parse(c.frame);
            CHECK(p.result.error == c.error);
            CHECK(p.result.field == c.field);
        }
    }

    TEST_CASE("integers must be written as integers from 0 to 2^53 - 1") {
        const std::pair<std::string_view, ProtocolErrorCode> cases[] = {
            {"0", ProtocolErrorCode::kNone},
            {"9007199254740991", ProtocolErrorCode::kNone},
            {"9007199254740992", ProtocolErrorCode::kNumberOutOfRange},
            {"9223372036854775807", ProtocolErrorCode::kNumberOutOfRange},
            {"18446744073709551615", ProtocolErrorCode::kNumberOutOfRange},
            {"18446744073709551616", ProtocolErrorCode::kBadNumber},
            {"123456789012345678901234567890", ProtocolErrorCode::kBadNumber},
            {"-1", ProtocolErrorCode::kNumberOutOfRange},
            {"-0", ProtocolErrorCode::kNone},
            {"1.5", ProtocolErrorCode::kNotInteger},
            {"1.0", ProtocolErrorCode::kNotInteger},
            {"1e2", ProtocolErrorCode::kNotInteger},
            {"-1.5", ProtocolErrorCode::kNotInteger},
            {"1e400", ProtocolErrorCode::kBadNumber},
            {"-1e400", ProtocolErrorCode::kBadNumber},
            {"01", ProtocolErrorCode::kBadNumber},
            {"1.", ProtocolErrorCode::kBadNumber},
            {"+1", ProtocolErrorCode::kBadJson},
            {"NaN", ProtocolErrorCode::kBadJson},
            {"Infinity", ProtocolErrorCode::kBadJson},
        };
        for (const auto& [number, expected] : cases) {
            const std::string frame =
                R"({"type":"join","room":"r","since":)" + std::string(number) + "}";
            CAPTURE(frame);
            const ProtocolErrorCode e = error_of(frame);
            // simdjson reports some malformed numbers as structural errors; either means bad input.
            if (expected == ProtocolErrorCode::kBadNumber) {
                CHECK((e == ProtocolErrorCode::kBadNumber || e == ProtocolErrorCode::kBadJson));
            } else {
                CHECK(e == expected);
            }
        }
    }

    TEST_CASE("request ids are short strings or safe integers, and errors still carry them") {
        CHECK(parse(R"({"type":"ping","id":""})").msg.id.kind == RequestId::Kind::kString);
        const std::string id64(64, 'x');
        CHECK(error_of(R"({"type":"ping","id":")" + id64 + "\"}") == ProtocolErrorCode::kNone);
        CHECK(error_of(R"({"type":"ping","id":")" + id64 + "x\"}") == ProtocolErrorCode::kBadId);
        CHECK(error_of(R"({"type":"ping","id":-3})") == ProtocolErrorCode::kNumberOutOfRange);
        CHECK(error_of(R"({"type":"ping","id":2.5})") == ProtocolErrorCode::kNotInteger);

        Parsed p = parse(R"({"type":"say","room":"lobby","text":"","id":"abc"})");
        CHECK(p.result.error == ProtocolErrorCode::kTextEmpty);
        CHECK(p.msg.id.text == "abc");
        Parsed q = parse(R"({"type":"nope","id":12})");
        CHECK(q.result.error == ProtocolErrorCode::kUnknownType);
        CHECK(q.msg.id.number == 12);
    }

    TEST_CASE("a duplicate field's error echoes the id wherever it stands, unless it is the id") {
        Parsed after = parse(R"({"type":"say","room":"a","room":"b","text":"x","id":8})");
        CHECK(after.result.error == ProtocolErrorCode::kDuplicateField);
        CHECK(after.result.field == "room");
        CHECK(after.msg.id.kind == RequestId::Kind::kNumber);
        CHECK(after.msg.id.number == 8);
        Parsed before = parse(R"({"id":"m-1","type":"ping","type":"ping"})");
        CHECK(before.result.error == ProtocolErrorCode::kDuplicateField);
        CHECK(before.msg.id.text == "m-1");
        // The first duplicate is the one named, even with a second one after it.
        CHECK(field_of(R"({"text":1,"text":2,"room":1,"room":2,"id":3})") == "text");
        Parsed two_ids = parse(R"({"type":"ping","id":1,"id":2})");
        CHECK(two_ids.result.error == ProtocolErrorCode::kDuplicateField);
        CHECK(two_ids.result.field == "id");
        CHECK(two_ids.msg.id.kind == RequestId::Kind::kNone);
        // An id that is itself bad is not echoed; the duplicate is still the error.
        Parsed bad_id = parse(R"({"type":"ping","type":"ping","id":-1})");
        CHECK(bad_id.result.error == ProtocolErrorCode::kDuplicateField);
        CHECK(bad_id.msg.id.kind == RequestId::Kind::kNone);
    }

    TEST_CASE("errors found before the frame is one JSON object carry no id, as documented") {
        const std::string big =
            R"({"type":"ping","id":1,"pad":")" + std::string(17000, 'x') + "\"}";
        const std::string not_utf8 = "{\"type\":\"ping\",\"id\":1,\"t\":\"\xff\"}";
        const std::pair<std::string_view, ProtocolErrorCode> cases[] = {
            {R"({"type":"ping","id":1,"text":"\ud800"})", ProtocolErrorCode::kBadEscape},
            {R"({"type":"ping","id":1,"since":01})", ProtocolErrorCode::kBadNumber},
            {R"({"type":"ping","id":1} x)", ProtocolErrorCode::kBadJson},
            {not_utf8, ProtocolErrorCode::kInvalidUtf8},
            {R"([{"type":"ping","id":1}])", ProtocolErrorCode::kNotObject},
            {big, ProtocolErrorCode::kTooLarge},
        };
        for (const auto& [frame, code] : cases) {
            Parsed p = parse(frame);
            CAPTURE(error_code_string(code));
            CHECK(p.result.error == code);
            CHECK(p.msg.id.kind == RequestId::Kind::kNone);
        }
    }

    TEST_CASE("invalid escapes and unpaired surrogates are refused; real pairs decode") {
        for (std::string_view s : {R"(\ud800)", R"(\udc00)", R"(\ud800\u0041)", R"(\udbff)",
                                   R"(x\ud83d)", R"(\x41)", R"(\u12)", R"(\u12G4)", R"(\')"}) {
            const std::string frame =
                R"({"type":"say","room":"r","text":")" + std::string(s) + "\"}";
            CAPTURE(frame);
            CHECK(error_of(frame) == ProtocolErrorCode::kBadEscape);
        }
        Parsed ok = parse(R"({"type":"say","room":"r","text":"\ud83d\ude42 \u00e9\/\"\\"})");
        REQUIRE(ok.result.ok());
        CHECK(ok.msg.text == "🙂 é/\"\\");
    }

    TEST_CASE("raw bytes that are not UTF-8 are invalid_utf8") {
        const std::string_view bad[] = {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                        "\xe2\x82"};
        for (std::string_view b : bad) {
            const std::string frame =
                R"({"type":"say","room":"r","text":")" + std::string(b) + "\"}";
            CHECK(error_of(frame) == ProtocolErrorCode::kInvalidUtf8);
        }
    }

    TEST_CASE("text must have something visible, fit the limit and hold no control characters") {
        const std::pair<std::string_view, ProtocolErrorCode> cases[] = {
            {"", ProtocolErrorCode::kTextEmpty},
            {" ", ProtocolErrorCode::kTextEmpty},
            {R"( \n\t )", ProtocolErrorCode::kTextEmpty},
            {R"(\u3000\u00a0)", ProtocolErrorCode::kTextEmpty},
            {R"(\u200b)", ProtocolErrorCode::kTextEmpty},
            // Hidden code points and blank fillers alone draw nothing (chat/names.h is_hidden).
            {R"(\u3164)", ProtocolErrorCode::kTextEmpty},
            {R"(\u3164\u3164\u3164)", ProtocolErrorCode::kTextEmpty},
            {R"(\u2800\u2800)", ProtocolErrorCode::kTextEmpty},
            {R"(\u115f\u1160 \uffa0)", ProtocolErrorCode::kTextEmpty},
            {R"(\u200d\u200c\u2060\u00ad\u034f\u061c\ufeff)", ProtocolErrorCode::kTextEmpty},
            {R"(\udb40\udc41\udb40\udc7f)", ProtocolErrorCode::kTextEmpty},  // tag characters
            {R"(\ufe0f\n\u3000)", ProtocolErrorCode::kTextEmpty},
            {R"(\u3164x)", ProtocolErrorCode::kNone},
            {R"(\u2801)", ProtocolErrorCode::kNone},  // a braille dot is visible
            {R"(  padded  )", ProtocolErrorCode::kNone},
            {R"(line\nline\ttab)", ProtocolErrorCode::kNone},
            {R"(a\u0000b)", ProtocolErrorCode::kControlCharacters},
            {R"(a\rb)", ProtocolErrorCode::kControlCharacters},
            {R"(\u001b[31mred)", ProtocolErrorCode::kControlCharacters},
            {R"(a\u007f)", ProtocolErrorCode::kControlCharacters},
            {R"(a\u0085)", ProtocolErrorCode::kControlCharacters},
            {R"(a\u009f)", ProtocolErrorCode::kControlCharacters},
            {R"(😀)", ProtocolErrorCode::kNone},
        };
        for (const auto& [text, expected] : cases) {
            const std::string frame =
                R"({"type":"say","room":"r","text":")" + std::string(text) + "\"}";
            CAPTURE(frame);
            CHECK(error_of(frame) == expected);
            const std::string dm =
                R"({"type":"dm","to":"bob","text":")" + std::string(text) + "\"}";
            CHECK(error_of(dm) == expected);
        }
    }

    TEST_CASE("text length is counted in UTF-8 bytes after unescaping") {
        const std::string at_limit(4096, 'a');
        CHECK(error_of(R"({"type":"say","room":"r","text":")" + at_limit + "\"}") ==
              ProtocolErrorCode::kNone);
        CHECK(error_of(R"({"type":"say","room":"r","text":")" + at_limit + "a\"}") ==
              ProtocolErrorCode::kTextTooLong);
        std::string cjk; // 1366 × 3 bytes = 4098 > 4096
        for (int i = 0; i < 1366; ++i)
            cjk += "語";
        CHECK(error_of(R"({"type":"say","room":"r","text":")" + cjk + "\"}") ==
              ProtocolErrorCode::kTextTooLong);
        std::string escaped; // 1024 × "\u00e9" is 6144 bytes on the wire, 2048 after unescaping
        for (int i = 0; i < 1024; ++i)
            escaped += R"(\u00e9)";
        CHECK(error_of(R"({"type":"say","room":"r","text":")" + escaped + "\"}") ==
              ProtocolErrorCode::kNone);
    }

    TEST_CASE("frames over the size limit are refused before parsing") {
        ProtocolLimits small;
        small.max_frame_bytes = 64;
        small.max_text_bytes = 60;
        std::string frame = R"({"type":"say","room":"r","text":")";
        frame += std::string(64 - frame.size() - 2, 'a') + "\"}";
        REQUIRE(frame.size() == 64);
        CHECK(parse(frame, small).result.error == ProtocolErrorCode::kNone);
        frame.insert(frame.size() - 2, "a");
        CHECK(parse(frame, small).result.error == ProtocolErrorCode::kTooLarge);
        CHECK(error_of(std::string(16 * 1024 + 1, ' ')) == ProtocolErrorCode::kTooLarge);
    }

    TEST_CASE("nesting up to 16 levels, the top-level object included, is accepted; 17 is not") {
        const auto nested = [](int arrays) {
            std::string s = R"({"type":"ping","x":)";
            s += std::string(static_cast<size_t>(arrays), '[');
            s += std::string(static_cast<size_t>(arrays), ']');
            return s + "}";
        };
        CHECK(error_of(nested(15)) == ProtocolErrorCode::kNone);
        CHECK(error_of(nested(16)) == ProtocolErrorCode::kBadJson);
        CHECK(error_of(nested(1000)) == ProtocolErrorCode::kBadJson);
    }

    TEST_CASE("malformed JSON inside an ignored field is still bad_json") {
        CHECK(error_of(R"({"type":"ping","x":[1,}})") == ProtocolErrorCode::kBadJson);
        CHECK(error_of(R"({"type":"ping","x":{"a"}})") == ProtocolErrorCode::kBadJson);
        CHECK(error_of(R"({"type":"ping","x":"\ud800"})") == ProtocolErrorCode::kBadEscape);
    }

    TEST_CASE("room names: ASCII letters, digits and -_. or non-ASCII letters, 1 to 64 bytes") {
        const std::string_view good[] = {
            "lobby",
            "a",
            "Rust-Lang.de",
            "under_score",
            "日本語",
            "café",
            "Ελληνικά",
            "emoji🙂",
            "...",
            std::string_view("0123456789012345678901234567890123456789012345678901234567890123")};
        for (std::string_view r : good) {
            CAPTURE(r);
            CHECK(is_valid_room_name(r));
            CHECK(error_of(R"({"type":"join","room":")" + std::string(r) + "\"}") ==
                  ProtocolErrorCode::kNone);
        }
        const std::string_view bad[] = {
            "",
            "a b",
            "a/b",
            "a\\b",
            "#general",
            "a:b",
            "a@b",
            "tab\there",
            "nl\n",
            "a\u3000b",
            "a\u00a0b",
            "a\u200bb",
            "a\u202eb",
            "a\u2215b",
            "a\uff0fb",
            "\xef\xbf\xbe",
            "a\xc2\x85",
            std::string_view("a\0b", 3),
            "01234567890123456789012345678901234567890123456789012345678901234",
            "\xff",
        };
        for (std::string_view r : bad) {
            CAPTURE(r);
            CHECK_FALSE(is_valid_room_name(r));
        }
        CHECK(error_of(R"({"type":"join","room":"a b"})") == ProtocolErrorCode::kBadRoomName);
        CHECK(error_of(R"({"type":"join","room":""})") == ProtocolErrorCode::kBadRoomName);
        CHECK(error_of(R"({"type":"join","room":"a\u0000"})") == ProtocolErrorCode::kBadRoomName);
    }

    TEST_CASE("user names: 1 to 32 code points of any script, no controls, no outer whitespace") {
        const std::string_view good[] = {
            "alice",
            "Ada Lovelace",
            "名前",
            "🙂",
            "👩‍💻",
            "x",
            "O'Brien",
            "a.b@c",
            "李小龍 Bruce",
            "12345678901234567890123456789012",
            "語語語語語語語語語語語語語語語語語語語語語語語語語語語語語語語語"};
        for (std::string_view u : good) {
            CAPTURE(u);
            CHECK(is_valid_user_name(u));
        }
        const std::string_view bad[] = {
            "",
            " alice",
            "alice ",
            "\u3000alice",
            "alice\u00a0",
            "a\tb",
            "a\nb",
            "a\x7f",
            "a\u202eb",
            "a\u2066b",
            "\xef\xbb\xbf"
            "bob",
            "123456789012345678901234567890123",
            "語語語語語語語語語語語語語語語語語語語語語語語語語語語語語語語語語",
            "\xc3",
            std::string_view("a\0b", 3),
        };
        for (std::string_view u : bad) {
            CAPTURE(u);
            CHECK_FALSE(is_valid_user_name(u));
        }
        CHECK(error_of(R"({"type":"dm","to":" bob","text":"x"})") ==
              ProtocolErrorCode::kBadUserName);
    }

    TEST_CASE("a reused parser does not let one message's fields leak into the next") {
        ProtocolParser p;
        ClientMessage m;
        REQUIRE(p.parse(R"({"type":"say","room":"lobby","text":"first","id":1})", m).ok());
        CHECK(m.text == "first");
        REQUIRE(p.parse(R"({"type":"join","room":"other"})", m).ok());
        CHECK(m.room == "other");
        CHECK(m.text.empty());
        CHECK(m.id.kind == RequestId::Kind::kNone);
        CHECK_FALSE(p.parse("nope", m).ok());
        CHECK(m.room.empty());
    }

    TEST_CASE("every error has a distinct snake_case code and a reason") {
        std::set<std::string_view> codes;
        for (size_t i = 0; i < kProtocolErrorCodeCount; ++i) {
            const auto e = static_cast<ProtocolErrorCode>(i);
            const std::string_view code = error_code_string(e);
            CAPTURE(code);
            CHECK(codes.insert(code).second);
            CHECK_FALSE(error_reason(e).empty());
            CHECK(code.find_first_not_of("abcdefghijklmnopqrstuvwxyz_0123456789") ==
                  std::string_view::npos);
        }
        CHECK(error_code_string(ProtocolErrorCode::kBadJson) == "bad_json");
        CHECK(error_code_string(ProtocolErrorCode::kRateLimited) == "rate_limited");
        CHECK(error_code_string(ProtocolErrorCode::kUnknownType) == "unknown_type");
        CHECK(error_code_string(ProtocolErrorCode::kCreateRateLimited) == "create_rate_limited");
        CHECK(error_code_string(ProtocolErrorCode::kInternal) == "internal");
    }

    TEST_CASE("encoders write the exact documented JSON") {
        std::string out;
        const std::string_view rooms[] = {"lobby", "dev"};
        encode_welcome(out, "alice", rooms, 1700000000000, 7);
        CHECK(out == R"({"type":"welcome","user":"alice","rooms":["lobby","dev"],)"
                     R"("server_time":1700000000000,"connection_id":7})");
        out.clear();
        encode_message(out, "lobby", 42, "alice", "hi \"bob\"", 1700000000123);
        CHECK(
            out ==
            R"({"type":"message","room":"lobby","seq":42,"from":"alice","text":"hi \"bob\"","ts":1700000000123})");
        out.clear();
        encode_dm(out, "alice", "bob", "psst", 5);
        CHECK(out == R"({"type":"dm","from":"alice","to":"bob","text":"psst","ts":5})");
        out.clear();
        encode_join(out, "lobby", "bob", 6);
        CHECK(out == R"({"type":"join","room":"lobby","user":"bob","ts":6})");
        out.clear();
        encode_leave(out, "lobby", "bob", 7);
        CHECK(out == R"({"type":"leave","room":"lobby","user":"bob","ts":7})");
        out.clear();
        const std::string_view users[] = {"alice", "bob"};
        encode_presence(out, "lobby", users, {2, false, 77}, RequestId::of("w1"));
        CHECK(out == R"({"type":"presence","room":"lobby","users":["alice","bob"],"count":2,)"
                     R"("more":false,"epoch":77,"id":"w1"})");
        out.clear();
        encode_presence(out, "big", users, {5000, true, 9}, RequestId::none());
        CHECK(out == R"({"type":"presence","room":"big","users":["alice","bob"],"count":5000,)"
                     R"("more":true,"epoch":9})");
        out.clear();
        encode_presence(out, "empty", {}, {}, RequestId::none());  // no such room: no epoch
        CHECK(out == R"({"type":"presence","room":"empty","users":[],"count":0,"more":false})");
        out.clear();
        const std::string_view left[] = {"carol"};
        encode_presence_change(out, "lobby", users, left, 0, 41, 8);
        CHECK(out == R"({"type":"presence_change","room":"lobby","joined":["alice","bob"],)"
                     R"("left":["carol"],"count":41,"ts":8})");
        out.clear();
        encode_presence_change(out, "lobby", {}, left, 250, 41, 8);
        CHECK(out == R"({"type":"presence_change","room":"lobby","left":["carol"],)"
                     R"("omitted":250,"count":41,"ts":8})");
    }

    TEST_CASE("history, gap, pong, rooms and error events encode their optional parts") {
        std::string m1, m2, out;
        encode_message(m1, "lobby", 1, "a", "x", 10);
        encode_message(m2, "lobby", 2, "b", "y", 11);
        const std::string_view msgs[] = {m1, m2};
        encode_history(out, "lobby", msgs, 1, 2, RequestId::of(uint64_t{3}));
        CHECK(out == R"({"type":"history","room":"lobby","messages":[)" + m1 + "," + m2 +
                         R"(],"from":1,"to":2,"id":3})");
        out.clear();
        encode_history(out, "lobby", {}, 5, 9, RequestId::none());
        CHECK(out == R"({"type":"history","room":"lobby","messages":[],"from":5,"to":9})");
        out.clear();
        encode_gap(out, "lobby", 3, 8, GapReason::kSlowConsumer);
        CHECK(out == R"({"type":"gap","room":"lobby","from":3,"to":8,"reason":"slow_consumer"})");
        out.clear();
        encode_gap(out, "lobby", 1, 2, GapReason::kHistory);
        CHECK(out == R"({"type":"gap","room":"lobby","from":1,"to":2,"reason":"history"})");
        out.clear();
        encode_gap(out, "dev", 42, kMaxSafeInteger, GapReason::kExpired, 5);
        CHECK(out == R"({"type":"gap","room":"dev","from":42,"to":9007199254740991,)"
                     R"("reason":"expired","epoch":5})");
        out.clear();
        encode_pong(out, RequestId::of("p"), 99);
        CHECK(out == R"({"type":"pong","id":"p","ts":99})");
        out.clear();
        encode_pong(out, RequestId::none(), 99);
        CHECK(out == R"({"type":"pong","ts":99})");
        out.clear();
        const RoomSummary rooms[] = {{"lobby", 3}, {"dev", 1}};
        encode_rooms(out, rooms, RequestId::none());
        CHECK(
            out ==
            R"({"type":"rooms","rooms":[{"name":"lobby","members":3},{"name":"dev","members":1}]})");
        out.clear();
        encode_error(out, ProtocolErrorCode::kMissingField, RequestId::of(uint64_t{7}), "room");
        CHECK(
            out ==
            R"({"type":"error","code":"missing_field","reason":"a required field is missing","field":"room","id":7})");
        out.clear();
        encode_error(out, ProtocolErrorCode::kRateLimited, RequestId::none());
        CHECK(
            out ==
            R"({"type":"error","code":"rate_limited","reason":"too many messages; this one was dropped"})");
    }

    TEST_CASE("the escaping table matches JSON.stringify for every ASCII byte") {
        for (int c = 0; c < 0x80; ++c) {
            std::string out;
            append_json_string(out, std::string(1, static_cast<char>(c)));
            std::string want;
            switch (c) {
            case '"':
                want = R"("\"")";
                break;
            case '\\':
                want = R"("\\")";
                break;
            case '\b':
                want = R"("\b")";
                break;
            case '\f':
                want = R"("\f")";
                break;
            case '\n':
                want = R"("\n")";
                break;
            case '\r':
                want = R"("\r")";
                break;
            case '\t':
                want = R"("\t")";
                break;
            default:
                if (c < 0x20) {
                    char buf[16];
                    std::snprintf(buf, sizeof buf, "\"\\u%04x\"", c);
                    want = buf;
                } else {
                    want = std::string("\"") + static_cast<char>(c) + "\"";
                }
            }
            CAPTURE(c);
            CHECK(out == want);
        }
        std::string out;
        append_json_string(out, "é語🙂\u2028/");
        CHECK(out == "\"é語🙂\u2028/\""); // non-ASCII and '/' pass through as they are
    }

    TEST_CASE("encoded strings read back byte for byte through an independent JSON parser") {
        std::vector<std::string> samples = {"",
                                            "plain",
                                            "quote\" back\\slash",
                                            "名前🙂",
                                            std::string("nul\0inside", 10),
                                            "\x7f\u0085\u2028"};
        std::string all_controls;
        for (int c = 0; c < 0x20; ++c)
            all_controls += static_cast<char>(c);
        samples.push_back(all_controls);
        for (const std::string& s : samples) {
            std::string out;
            encode_message(out, "lobby", 1, "alice", s, 2);
            CAPTURE(out);
            CHECK(read_string(out, "text") == s);
            CHECK(read_string(out, "type") == "message");
        }
    }

    TEST_CASE("a say parsed, encoded as a message and parsed back keeps its text") {
        ProtocolParser p;
        ClientMessage m;
        REQUIRE(p.parse(R"({"type":"say","room":"日本","text":"a\"b\\c\n\u00e9\ud83d\ude42"})", m)
                    .ok());
        std::string out;
        encode_message(out, m.room, 1, "bob", m.text, 3);
        CHECK(read_string(out, "text") == "a\"b\\c\né🙂");
        CHECK(read_string(out, "room") == "日本");
    }

    TEST_CASE("encoding into a warm buffer does not reallocate") {
        std::string out;
        out.reserve(256);
        const char* data = out.data();
        for (int i = 0; i < 100; ++i) {
            out.clear();
            encode_message(out, "lobby", static_cast<uint64_t>(i), "alice", "hello there", 123);
        }
        CHECK(out.data() == data);
    }
}
