// chat/names.cc: user and room name rules. Layer: chat/. See names.h for the rules themselves.
#include "chat/names.h"

#include <cstdint>

#include "ws/utf8.h"

namespace epws::chat {

namespace {

bool valid_utf8(std::string_view s) {
    return ws::is_valid_utf8(reinterpret_cast<const std::byte*>(s.data()), s.size());
}

bool is_ascii_room_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

// Characters that read as '/' to a person: a room named "a∕b" should not pass for a path.
bool is_slash_lookalike(char32_t cp) {
    return cp == 0x2044 || cp == 0x2215 || cp == 0x29F8 || cp == 0xFF0F;
}

// A code point range [first, last], for the property tables below.
struct Range {
    char32_t first, last;
};

// Default_Ignorable_Code_Point (DerivedCoreProperties.txt) united with General_Category=Cf
// (UnicodeData.txt), Unicode 14.0, sorted and merged; generated with Perl's Unicode::UCD
// (prop_invlist of both properties). tests/chat/names_test.cc checks each range's ends and
// neighbours; tests/integration/test_hardening.py every Cf code point Python's unicodedata knows.
constexpr Range kIgnorableOrFormat[] = {
    {0x00AD, 0x00AD},   {0x034F, 0x034F},   {0x0600, 0x0605},   {0x061C, 0x061C},
    {0x06DD, 0x06DD},   {0x070F, 0x070F},   {0x0890, 0x0891},   {0x08E2, 0x08E2},
    {0x115F, 0x1160},   {0x17B4, 0x17B5},   {0x180B, 0x180F},   {0x200B, 0x200F},
    {0x202A, 0x202E},   {0x2060, 0x206F},   {0x3164, 0x3164},   {0xFE00, 0xFE0F},
    {0xFEFF, 0xFEFF},   {0xFFA0, 0xFFA0},   {0xFFF0, 0xFFFB},   {0x110BD, 0x110BD},
    {0x110CD, 0x110CD}, {0x13430, 0x13438}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
    {0xE0000, 0xE0FFF},
};

// Extended_Pictographic (emoji-data.txt), Unicode 14.0, generated the same way.
constexpr Range kExtendedPictographic[] = {
    {0x00A9, 0x00A9},   {0x00AE, 0x00AE},   {0x203C, 0x203C},   {0x2049, 0x2049},
    {0x2122, 0x2122},   {0x2139, 0x2139},   {0x2194, 0x2199},   {0x21A9, 0x21AA},
    {0x231A, 0x231B},   {0x2328, 0x2328},   {0x2388, 0x2388},   {0x23CF, 0x23CF},
    {0x23E9, 0x23F3},   {0x23F8, 0x23FA},   {0x24C2, 0x24C2},   {0x25AA, 0x25AB},
    {0x25B6, 0x25B6},   {0x25C0, 0x25C0},   {0x25FB, 0x25FE},   {0x2600, 0x2605},
    {0x2607, 0x2612},   {0x2614, 0x2685},   {0x2690, 0x2705},   {0x2708, 0x2712},
    {0x2714, 0x2714},   {0x2716, 0x2716},   {0x271D, 0x271D},   {0x2721, 0x2721},
    {0x2728, 0x2728},   {0x2733, 0x2734},   {0x2744, 0x2744},   {0x2747, 0x2747},
    {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},   {0x2757, 0x2757},
    {0x2763, 0x2767},   {0x2795, 0x2797},   {0x27A1, 0x27A1},   {0x27B0, 0x27B0},
    {0x27BF, 0x27BF},   {0x2934, 0x2935},   {0x2B05, 0x2B07},   {0x2B1B, 0x2B1C},
    {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x3030, 0x3030},   {0x303D, 0x303D},
    {0x3297, 0x3297},   {0x3299, 0x3299},   {0x1F000, 0x1F0FF}, {0x1F10D, 0x1F10F},
    {0x1F12F, 0x1F12F}, {0x1F16C, 0x1F171}, {0x1F17E, 0x1F17F}, {0x1F18E, 0x1F18E},
    {0x1F191, 0x1F19A}, {0x1F1AD, 0x1F1E5}, {0x1F201, 0x1F20F}, {0x1F21A, 0x1F21A},
    {0x1F22F, 0x1F22F}, {0x1F232, 0x1F23A}, {0x1F23C, 0x1F23F}, {0x1F249, 0x1F3FA},
    {0x1F400, 0x1F53D}, {0x1F546, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F774, 0x1F77F},
    {0x1F7D5, 0x1F7FF}, {0x1F80C, 0x1F80F}, {0x1F848, 0x1F84F}, {0x1F85A, 0x1F85F},
    {0x1F888, 0x1F88F}, {0x1F8AE, 0x1F8FF}, {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945},
    {0x1F947, 0x1FAFF}, {0x1FC00, 0x1FFFD},
};

template <size_t N>
bool in_table(const Range (&table)[N], char32_t cp) {
    // Binary search for the first range ending at or after cp.
    size_t lo = 0, hi = N;
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (table[mid].last < cp) lo = mid + 1;
        else hi = mid;
    }
    return lo < N && table[lo].first <= cp;
}

constexpr char32_t kZeroWidthJoiner = 0x200D;
constexpr char32_t kKeycap = 0x20E3;  // COMBINING ENCLOSING KEYCAP

bool is_emoji_modifier(char32_t cp) { return cp >= 0x1F3FB && cp <= 0x1F3FF; }  // skin tones

// Walks s (valid UTF-8) calling f(prev, cp, next) for every code point, 0 beyond either end;
// stops at the first call returning false and returns false then.
template <class F>
bool each_code_point(std::string_view s, F f) {
    if (s.empty()) return true;
    size_t i = 0;
    char32_t prev = 0;
    char32_t cp = next_code_point(s, i);
    while (true) {
        const bool at_end = i >= s.size();
        const char32_t next = at_end ? 0 : next_code_point(s, i);
        if (!f(prev, cp, next)) return false;
        if (at_end) return true;
        prev = cp;
        cp = next;
    }
}

} // namespace

char32_t next_code_point(std::string_view s, size_t& i) {
    const auto b0 = static_cast<uint8_t>(s[i]);
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    // Valid UTF-8 by precondition: the lead byte says how many continuation bytes follow.
    const size_t len = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : 2;
    char32_t cp = b0 & (0x7F >> len);
    for (size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
    i += len;
    return cp;
}

bool is_control(char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

bool is_space(char32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

bool is_ignorable_or_format(char32_t cp) { return in_table(kIgnorableOrFormat, cp); }

bool is_invisible_filler(char32_t cp) {
    return cp == 0x115F || cp == 0x1160 || cp == 0x2800 || cp == 0x3164 || cp == 0xFFA0;
}

bool is_hidden(char32_t cp) { return is_ignorable_or_format(cp) || is_invisible_filler(cp); }

bool is_extended_pictographic(char32_t cp) { return in_table(kExtendedPictographic, cp); }

bool hidden_here(char32_t prev, char32_t cp, char32_t next) {
    if (!is_hidden(cp)) return false;
    if (cp == kZeroWidthJoiner) {
        // An emoji ZWJ sequence joins emoji, each perhaps with its skin tone or presentation
        // selector: "👩🏽‍💻", "🏳️‍🌈". Between anything else the joiner only hides.
        const bool after_emoji =
            is_extended_pictographic(prev) || is_emoji_modifier(prev) || prev == 0xFE0F;
        return !(after_emoji && is_extended_pictographic(next));
    }
    if (cp == 0xFE0E || cp == 0xFE0F) {
        // A presentation selector (text or emoji style) follows an emoji character, or a keycap
        // base ('0'-'9', '#', '*') before U+20E3.
        const bool keycap_base = (prev >= '0' && prev <= '9') || prev == '#' || prev == '*';
        return !(is_extended_pictographic(prev) || (keycap_base && next == kKeycap));
    }
    return true;
}

bool is_noncharacter(char32_t cp) {
    return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
}

bool is_valid_user_name(std::string_view name, size_t max_code_points) {
    if (name.empty() || !valid_utf8(name)) return false;
    size_t count = 0;
    char32_t first = 0;
    char32_t last = 0;
    // Controls (tabs, newlines) would break every client's user list; hidden code points and
    // bidi controls (Cf) could make a name display as someone else's.
    const bool ok = each_code_point(name, [&](char32_t prev, char32_t cp, char32_t next) {
        if (++count > max_code_points || is_control(cp) || is_noncharacter(cp) ||
            hidden_here(prev, cp, next)) {
            return false;
        }
        if (count == 1) first = cp;
        last = cp;
        return true;
    });
    return ok && !is_space(first) && !is_space(last);
}

bool is_valid_room_name(std::string_view name, size_t max_bytes) {
    if (name.empty() || name.size() > max_bytes || !valid_utf8(name)) return false;
    return each_code_point(name, [](char32_t prev, char32_t cp, char32_t next) {
        if (cp < 0x80) return is_ascii_room_char(static_cast<char>(cp));
        return !(is_control(cp) || is_space(cp) || hidden_here(prev, cp, next) ||
                 is_noncharacter(cp) || is_slash_lookalike(cp));
    });
}

} // namespace epws::chat
