// tests/chat/names_test.cc: hidden code points in user and room names (chat/names.cc): the
// Default_Ignorable_Code_Point and Cf table, the blank fillers, and the emoji exceptions.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "chat/names.h"

using namespace epws::chat;

namespace {

// cp as UTF-8.
std::string utf8(char32_t cp) {
    std::string out;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return out;
}

} // namespace

TEST_SUITE("chat/names") {

    TEST_CASE("every range of the Default_Ignorable and Cf table is hidden at both ends") {
        // Unicode 14.0, DerivedCoreProperties.txt (Default_Ignorable_Code_Point) and
        // UnicodeData.txt (Cf): the first and last code point of each merged range, and the
        // neighbours just outside it, which are neither.
        struct Case {
            char32_t first, last;
        };
        const Case ranges[] = {
            {0x00AD, 0x00AD},   {0x034F, 0x034F},   {0x0600, 0x0605},   {0x061C, 0x061C},
            {0x06DD, 0x06DD},   {0x070F, 0x070F},   {0x0890, 0x0891},   {0x08E2, 0x08E2},
            {0x115F, 0x1160},   {0x17B4, 0x17B5},   {0x180B, 0x180F},   {0x200B, 0x200F},
            {0x202A, 0x202E},   {0x2060, 0x206F},   {0x3164, 0x3164},   {0xFE00, 0xFE0F},
            {0xFEFF, 0xFEFF},   {0xFFA0, 0xFFA0},   {0xFFF0, 0xFFFB},   {0x110BD, 0x110BD},
            {0x110CD, 0x110CD}, {0x13430, 0x13438}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
            {0xE0000, 0xE0FFF},
        };
        for (const Case& r : ranges) {
            CAPTURE(static_cast<uint32_t>(r.first));
            CHECK(is_ignorable_or_format(r.first));
            CHECK(is_ignorable_or_format(r.last));
            CHECK(is_ignorable_or_format((r.first + r.last) / 2));
            CHECK_FALSE(is_ignorable_or_format(r.first - 1));
            CHECK_FALSE(is_ignorable_or_format(r.last + 1));
        }
        CHECK_FALSE(is_ignorable_or_format(0));
        CHECK_FALSE(is_ignorable_or_format(0x10FFFF));
    }

    TEST_CASE("the code points named in issue 13 and the fillers are hidden; letters are not") {
        const std::pair<char32_t, bool> cases[] = {
            {0x200B, true},  {0x200C, true},  {0x200D, true},  {0x2060, true},  {0x00AD, true},
            {0x034F, true},  {0x061C, true},  {0xE0041, true}, {0xE007F, true}, {0xE0001, true},
            {0x3164, true},  {0x115F, true},  {0x1160, true},  {0xFFA0, true},  {0x2800, true},
            {0xFEFF, true},  {0x202E, true},  {0x2066, true},  {0xFE0F, true},  {0xE0100, true},
            {'a', false},    {0x00E9, false}, {0x3042, false}, {0x2801, false}, {0x1F642, false},
            {0x3000, false}, {0x0301, false}, {0x20E3, false}, {0x1F3FB, false},
        };
        for (const auto& [cp, hidden] : cases) {
            CAPTURE(static_cast<uint32_t>(cp));
            CHECK(is_hidden(cp) == hidden);
        }
        CHECK(is_invisible_filler(0x2800));
        CHECK_FALSE(is_ignorable_or_format(0x2800));  // not in either property: a filler
    }

    TEST_CASE("alice followed or split by any hidden code point is not a user name") {
        const char32_t hidden[] = {0x200B, 0x200C, 0x200D, 0x2060, 0x00AD, 0x034F, 0x061C,
                                   0xE0041, 0xE0001, 0xE007F, 0x3164, 0x115F, 0x1160, 0xFFA0,
                                   0x2800, 0xFE0F, 0xFE0E, 0xFE00, 0xE0100, 0x180E, 0x17B4,
                                   0xFFF9, 0x1D173, 0x0600};
        REQUIRE(is_valid_user_name("alice"));
        for (char32_t cp : hidden) {
            CAPTURE(static_cast<uint32_t>(cp));
            CHECK_FALSE(is_valid_user_name("alice" + utf8(cp)));
            CHECK_FALSE(is_valid_user_name(utf8(cp) + "alice"));
            CHECK_FALSE(is_valid_user_name("ali" + utf8(cp) + "ce"));
            CHECK_FALSE(is_valid_user_name(utf8(cp)));
            CHECK_FALSE(is_valid_room_name("lobby" + utf8(cp)));
            CHECK_FALSE(is_valid_room_name("lo" + utf8(cp) + "bby"));
        }
    }

    TEST_CASE("emoji keep their joiners and presentation selectors, nothing else does") {
        const std::pair<std::string_view, bool> names[] = {
            {"👩‍💻", true},                 // woman, ZWJ, laptop
            {"👩🏽‍💻", true},                // with a skin tone before the ZWJ
            {"🏳️‍🌈", true},                // flag, VS16, ZWJ, rainbow
            {"❤️", true},                   // heart, VS16
            {"❤️‍🔥", true},                 // heart, VS16, ZWJ, fire
            {"1️⃣", true},                   // keycap: digit, VS16, U+20E3
            {"👩‍💻 dev", true},
            {"alice\u200d\U0001F4BB", false},  // a ZWJ after a letter
            {"\U0001F469\u200d", false},       // a ZWJ at the end
            {"\u200d\U0001F4BB", false},       // a ZWJ at the start
            {"\U0001F469\u200d\u200d\U0001F4BB", false},
            {"\U0001F469\u200dx", false},      // ZWJ before a letter
            {"a\ufe0f", false},                // VS16 after a letter
            {"\u2764\ufe0f\ufe0f", false},     // two selectors
            {"1\ufe0f", false},                // a keycap base without the keycap
            {"\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", false},
        };
        for (const auto& [name, ok] : names) {
            CAPTURE(name);
            CHECK(is_valid_user_name(name) == ok);
            if (name.find(' ') == std::string_view::npos) CHECK(is_valid_room_name(name) == ok);
        }
    }

    TEST_CASE("hidden_here looks at the neighbours only for the joiner and the selectors") {
        CHECK_FALSE(hidden_here(0x1F469, 0x200D, 0x1F4BB));
        CHECK(hidden_here('a', 0x200D, 0x1F4BB));
        CHECK(hidden_here(0x1F469, 0x200D, 0));
        CHECK_FALSE(hidden_here(0x2764, 0xFE0F, 0));
        CHECK_FALSE(hidden_here('#', 0xFE0F, 0x20E3));
        CHECK(hidden_here(0x1F469, 0x200B, 0x1F4BB));  // ZWSP is hidden whatever surrounds it
        CHECK_FALSE(hidden_here(0, 'a', 0));
    }
}
