// chat/names.h: the rules for user and room names, shared by the chat protocol codec, JWT
// subjects and the /chat URL. Layer: chat/. Pure functions of their input; no I/O, no allocation.
#pragma once

#include <cstddef>
#include <string_view>

namespace epws::chat {

// Defaults; ProtocolLimits (chat/protocol.h) carries the values a server actually uses.
inline constexpr size_t kMaxUserNameCodePoints = 32;
inline constexpr size_t kMaxRoomNameBytes = 64;

// A user name: 1..max_code_points code points of valid UTF-8 (any script, CJK and emoji
// included, with their joiners and variation selectors); no control characters (C0, DEL, C1), no
// bidirectional controls, BOM or noncharacters anywhere; no whitespace at either end (inside,
// "Ada Lovelace" is fine).
bool is_valid_user_name(std::string_view name, size_t max_code_points = kMaxUserNameCodePoints);

// A room name: 1..max_bytes bytes of valid UTF-8. ASCII characters must be letters, digits, '-',
// '_' or '.'; any other character must be non-ASCII and not whitespace, a control, an invisible
// format character (zero-width, bidi, soft hyphen, BOM), a noncharacter or a slash look-alike.
// So "lobby", "rust-lang.de", "日本語" and "café" are rooms; "a b", "a/b" and "" are not.
bool is_valid_room_name(std::string_view name, size_t max_bytes = kMaxRoomNameBytes);

// Decodes the code point at s[i] and advances i past it. s must be valid UTF-8 (check first with
// ws::is_valid_utf8) and i < s.size().
char32_t next_code_point(std::string_view s, size_t& i);

// C0 controls, DEL and C1 controls (U+0000..U+001F, U+007F..U+009F).
bool is_control(char32_t cp);
// Unicode's White_Space property (PropList.txt), controls among them included.
bool is_space(char32_t cp);
// Characters that render as nothing yet change how text around them is shown or compared:
// bidirectional controls, zero-width space, soft hyphen, word joiner, BOM. Not ZWJ (U+200D),
// which emoji sequences need.
bool is_invisible_format(char32_t cp);
// Unicode noncharacters (U+FDD0..U+FDEF and the last two code points of every plane).
bool is_noncharacter(char32_t cp);

} // namespace epws::chat
