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

bool forbidden_anywhere_in_user_name(char32_t cp) {
    // Bidi controls could make "alice" display as someone else; tabs and newlines would break
    // every client's user list.
    return is_control(cp) || is_noncharacter(cp) || cp == 0xFEFF ||
           (cp >= 0x200E && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
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

bool is_invisible_format(char32_t cp) {
    return cp == 0xAD || cp == 0x061C || cp == 0x180E || (cp >= 0x200B && cp <= 0x200C) ||
           (cp >= 0x200E && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB);
}

bool is_noncharacter(char32_t cp) {
    return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
}

bool is_valid_user_name(std::string_view name, size_t max_code_points) {
    if (name.empty() || !valid_utf8(name)) return false;
    size_t count = 0;
    char32_t first = 0;
    char32_t last = 0;
    for (size_t i = 0; i < name.size();) {
        const char32_t cp = next_code_point(name, i);
        if (++count > max_code_points || forbidden_anywhere_in_user_name(cp)) return false;
        if (count == 1) first = cp;
        last = cp;
    }
    return !is_space(first) && !is_space(last);
}

bool is_valid_room_name(std::string_view name, size_t max_bytes) {
    if (name.empty() || name.size() > max_bytes || !valid_utf8(name)) return false;
    for (size_t i = 0; i < name.size();) {
        if (static_cast<uint8_t>(name[i]) < 0x80) {
            if (!is_ascii_room_char(name[i])) return false;
            ++i;
            continue;
        }
        const char32_t cp = next_code_point(name, i);
        if (is_control(cp) || is_space(cp) || is_invisible_format(cp) || is_noncharacter(cp) ||
            is_slash_lookalike(cp)) {
            return false;
        }
    }
    return true;
}

} // namespace epws::chat
