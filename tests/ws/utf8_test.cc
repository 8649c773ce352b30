// tests/ws/utf8_test.cc: unit tests for ws/utf8.cc, the incremental UTF-8 validator.
// Layer: tests/. Hand-written Autobahn 6.x-style tables, then exhaustive sweeps checked against an
// oracle built by encoding every Unicode scalar value (independent of the DFA under test).
#include "ws/utf8.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

using epws::ws::Utf8Validator;
using Bytes = std::vector<std::byte>;

constexpr long kValid = -1;       // the whole input is valid
constexpr long kIncomplete = -2;  // no byte is invalid, but a sequence is left open at the end

Bytes bytes(std::string_view s) {
    Bytes out(s.size());
    if (!s.empty()) std::memcpy(out.data(), s.data(), s.size());
    return out;
}

// Feeds one byte at a time: the index of the byte at which feed first returns false, or
// kValid / kIncomplete.
long fail_index(const Bytes& in) {
    Utf8Validator v;
    for (size_t i = 0; i < in.size(); ++i) {
        if (!v.feed(&in[i], 1)) return static_cast<long>(i);
    }
    return v.complete() ? kValid : kIncomplete;
}

// Feeds in two pieces split at `cut`: feed must return false exactly for the piece that holds
// the first invalid byte, and the verdict must match the single-byte one.
void check_split(const Bytes& in, long want) {
    for (size_t cut = 0; cut <= in.size(); ++cut) {
        CAPTURE(cut);
        Utf8Validator v;
        const bool first = v.feed(in.data(), cut);
        CHECK(first == (want < 0 || static_cast<size_t>(want) >= cut));
        const bool second = v.feed(in.data() + cut, in.size() - cut);
        CHECK(second == (want < 0));
        if (want < 0) CHECK(v.complete() == (want == kValid));
    }
}

void check_case(std::string_view input, long want) {
    const Bytes in = bytes(input);
    CHECK(fail_index(in) == want);
    CHECK(epws::ws::is_valid_utf8(in.data(), in.size()) == (want == kValid));
    check_split(in, want);
}

std::string encode(uint32_t cp) {
    std::string s;
    auto put = [&s](uint32_t v) { s.push_back(static_cast<char>(static_cast<uint8_t>(v))); };
    if (cp < 0x80) {
        put(cp);
    } else if (cp < 0x800) {
        put(0xC0 | (cp >> 6));
        put(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        put(0xE0 | (cp >> 12));
        put(0x80 | ((cp >> 6) & 0x3F));
        put(0x80 | (cp & 0x3F));
    } else {
        put(0xF0 | (cp >> 18));
        put(0x80 | ((cp >> 12) & 0x3F));
        put(0x80 | ((cp >> 6) & 0x3F));
        put(0x80 | (cp & 0x3F));
    }
    return s;
}

// Every well-formed character encoding, and every proper prefix of one.
struct Oracle {
    std::unordered_set<std::string> whole;
    std::unordered_set<std::string> prefix;
    Oracle() {
        whole.reserve(1200000);
        for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
            if (cp >= 0xD800 && cp <= 0xDFFF) continue;  // surrogates are not scalar values
            const std::string s = encode(cp);
            whole.insert(s);
            for (size_t k = 1; k < s.size(); ++k) prefix.insert(s.substr(0, k));
        }
    }
    // The first index at which no well-formed text can continue what came before.
    long fail_index(const std::string& in) const {
        std::string open;
        for (size_t i = 0; i < in.size(); ++i) {
            open.push_back(in[i]);
            if (whole.count(open) != 0) {
                open.clear();
            } else if (prefix.count(open) == 0) {
                return static_cast<long>(i);
            }
        }
        return open.empty() ? kValid : kIncomplete;
    }
};

const Oracle& oracle() {
    static const Oracle o;
    return o;
}

long validator_fail_index(const std::string& s) { return fail_index(bytes(s)); }

}  // namespace

TEST_SUITE("ws/utf8") {

TEST_CASE("valid text of every length class is accepted, whole and split anywhere") {
    check_case("", kValid);
    check_case("Hello-\xC2\xB5@\xC3\x9F\xC3\xB6\xC3\xA4\xC3\xBC\xC3\xA0\xC3\xA1-UTF-8!!", kValid);
    check_case("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5", kValid);  // Autobahn 6.2: kosme
    check_case("\x7F", kValid);
    check_case("\xC2\x80", kValid);               // U+0080, smallest 2-byte
    check_case("\xDF\xBF", kValid);               // U+07FF
    check_case("\xE0\xA0\x80", kValid);           // U+0800, smallest 3-byte
    check_case("\xED\x9F\xBF", kValid);           // U+D7FF, just below the surrogates
    check_case("\xEE\x80\x80", kValid);           // U+E000, just above them
    check_case("\xEF\xBF\xBF", kValid);           // U+FFFF (a noncharacter, still valid UTF-8)
    check_case("\xEF\xBF\xBE", kValid);           // U+FFFE
    check_case("\xF0\x90\x80\x80", kValid);       // U+10000, smallest 4-byte
    check_case("\xF4\x8F\xBF\xBF", kValid);       // U+10FFFF, the last code point
    check_case("0123456789abcdef\xF0\x9F\x98\x80" "0123456789abcdef", kValid);
}

TEST_CASE("invalid bytes fail at the exact offending byte, even mid-sequence") {
    // Overlong forms (Autobahn 6.8/6.9).
    check_case("\xC0\xAF", 0);
    check_case("\xC1\xBF", 0);
    check_case("\xE0\x80\xAF", 1);
    check_case("\xE0\x9F\xBF", 1);
    check_case("\xF0\x80\x80\xAF", 1);
    check_case("\xF0\x8F\xBF\xBF", 1);
    // Surrogates U+D800..U+DFFF (Autobahn 6.10/6.11).
    check_case("\xED\xA0\x80", 1);
    check_case("\xED\xAD\xBF", 1);
    check_case("\xED\xBF\xBF", 1);
    check_case("\xED\xA0\x80\xED\xB0\x80", 1);  // a surrogate pair encoded one by one (CESU-8)
    // Beyond U+10FFFF (Autobahn 6.3/6.12).
    check_case("\xF4\x90\x80\x80", 1);
    check_case("\xF5\x80\x80\x80", 0);
    check_case("\xF7\xBF\xBF\xBF", 0);
    // 5- and 6-byte forms (Autobahn 6.5/6.6).
    check_case("\xF8\x88\x80\x80\x80", 0);
    check_case("\xFB\xBF\xBF\xBF\xBF", 0);
    check_case("\xFC\x84\x80\x80\x80\x80", 0);
    check_case("\xFD\xBF\xBF\xBF\xBF\xBF", 0);
    check_case("\xFE", 0);
    check_case("\xFF", 0);
    // Lone continuation bytes and a lead byte followed by the wrong thing (Autobahn 6.13-6.17).
    check_case("\x80", 0);
    check_case("\xBF", 0);
    check_case("a\x80\xBF", 1);
    check_case("\xC2 ", 1);
    check_case("\xE1\x80 ", 2);
    check_case("\xF1\x80\x80 ", 3);
    check_case("\xC2\xC2\x80", 1);
    // Autobahn 6.3.1: kosme with a surrogate in the middle fails at the A0 after ED.
    check_case("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xED\xA0\x80\x65\x64\x69\x74\x65\x64",
               12);
    // After the ASCII fast path: the bad byte sits in the middle of an 8-byte word.
    check_case("abcdefghijklmno\xFFpqrstuvwxyz", 15);
}

TEST_CASE("a sequence cut short is incomplete at the end, and completes in the next feed") {
    const char* chars[] = {"\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF",
                           "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF"};
    for (const char* c : chars) {
        const std::string whole = std::string("ab") + c;
        CAPTURE(whole);
        for (size_t cut = 3; cut < whole.size(); ++cut) {
            check_case(whole.substr(0, cut), kIncomplete);
            Utf8Validator v;
            CHECK(v.feed(bytes(whole.substr(0, cut)).data(), cut));
            CHECK_FALSE(v.complete());  // a fragment may end here...
            const Bytes rest = bytes(whole.substr(cut));
            CHECK(v.feed(rest.data(), rest.size()));
            CHECK(v.complete());  // ...and the next one completes the character
        }
    }
}

TEST_CASE("after an invalid byte every feed fails until reset") {
    Utf8Validator v;
    const Bytes bad = bytes("\xFF");
    const Bytes good = bytes("ok");
    CHECK_FALSE(v.feed(bad.data(), 1));
    CHECK_FALSE(v.feed(good.data(), 2));
    CHECK_FALSE(v.complete());
    v.reset();
    CHECK(v.feed(good.data(), 2));
    CHECK(v.complete());
}

TEST_CASE("every Unicode scalar value is valid and every surrogate is invalid at byte 1") {
    for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        const std::string s = encode(cp);
        const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        const long got = validator_fail_index(s);
        if (got != (surrogate ? 1 : kValid)) {
            CAPTURE(cp);
            CHECK(got == (surrogate ? 1 : kValid));
        }
    }
}

TEST_CASE("every 1- and 2-byte input gives the oracle's verdict") {
    size_t mismatches = 0;
    for (int a = 0; a < 256; ++a) {
        const std::string one(1, static_cast<char>(a));
        if (validator_fail_index(one) != oracle().fail_index(one)) ++mismatches;
        for (int b = 0; b < 256; ++b) {
            const std::string two = {static_cast<char>(a), static_cast<char>(b)};
            if (validator_fail_index(two) != oracle().fail_index(two)) {
                CAPTURE(a);
                CAPTURE(b);
                CHECK(validator_fail_index(two) == oracle().fail_index(two));
                ++mismatches;
            }
        }
    }
    CHECK(mismatches == 0);
}

TEST_CASE("every 3-byte input after an interesting lead byte gives the oracle's verdict") {
    const int leads[] = {0x41, 0x80, 0xC2, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5};
    size_t mismatches = 0;
    for (const int a : leads) {
        for (int b = 0; b < 256; ++b) {
            for (int c = 0; c < 256; ++c) {
                const std::string s = {static_cast<char>(a), static_cast<char>(b),
                                       static_cast<char>(c)};
                const long want = oracle().fail_index(s);
                if (validator_fail_index(s) != want) {
                    CAPTURE(a);
                    CAPTURE(b);
                    CAPTURE(c);
                    CHECK(validator_fail_index(s) == want);
                    ++mismatches;
                }
            }
        }
    }
    CHECK(mismatches == 0);
}

TEST_CASE("4-byte inputs after F0, F3 and F4 give the oracle's verdict at every second byte") {
    size_t mismatches = 0;
    for (const int a : {0xF0, 0xF3, 0xF4}) {
        for (int b = 0x70; b < 0xD0; ++b) {
            for (const int c : {0x3F, 0x80, 0xBF, 0xC0}) {
                for (const int d : {0x00, 0x7F, 0x80, 0x9F, 0xBF, 0xC0, 0xFF}) {
                    const std::string s = {static_cast<char>(a), static_cast<char>(b),
                                           static_cast<char>(c), static_cast<char>(d)};
                    if (validator_fail_index(s) != oracle().fail_index(s)) ++mismatches;
                }
            }
        }
    }
    CHECK(mismatches == 0);
}

}  // TEST_SUITE
