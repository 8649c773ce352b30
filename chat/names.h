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
// included); no control characters (C0, DEL, C1), no noncharacters and no hidden code points
// (is_hidden) anywhere, except the zero-width joiner and emoji variation selectors inside an emoji
// sequence (see hidden_here); no whitespace at either end (inside, "Ada Lovelace" is fine). So
// "alice" followed by U+200B, U+00AD or a tag character is not a name: it would display as "alice".
bool is_valid_user_name(std::string_view name, size_t max_code_points = kMaxUserNameCodePoints);

// A room name: 1..max_bytes bytes of valid UTF-8. ASCII characters must be letters, digits, '-',
// '_' or '.'; any other character must be non-ASCII and not whitespace, a control, a hidden code
// point (is_hidden; emoji sequences keep their joiners), a noncharacter or a slash look-alike.
// So "lobby", "rust-lang.de", "日本語" and "café" are rooms; "a b", "a/b" and "" are not.
bool is_valid_room_name(std::string_view name, size_t max_bytes = kMaxRoomNameBytes);

// Decodes the code point at s[i] and advances i past it. s must be valid UTF-8 (check first with
// ws::is_valid_utf8) and i < s.size().
char32_t next_code_point(std::string_view s, size_t& i);

// C0 controls, DEL and C1 controls (U+0000..U+001F, U+007F..U+009F).
bool is_control(char32_t cp);
// Unicode's White_Space property (PropList.txt), controls among them included.
bool is_space(char32_t cp);
// Unicode's Default_Ignorable_Code_Point property (DerivedCoreProperties.txt) together with
// General_Category=Cf (format characters), Unicode 14.0: code points that render as nothing yet
// change how the text around them is shown or compared (zero-width space and joiners, soft
// hyphen, word joiner, bidirectional controls, BOM, variation selectors, tag characters, the
// Hangul fillers U+115F, U+1160, U+3164, U+FFA0, CGJ U+034F, ALM U+061C).
bool is_ignorable_or_format(char32_t cp);
// Characters that are neither but still draw as blank space of a letter's width: the Hangul
// fillers and U+2800 BRAILLE PATTERN BLANK.
bool is_invisible_filler(char32_t cp);
// is_ignorable_or_format or is_invisible_filler: what no name may hold and what makes no text
// visible.
bool is_hidden(char32_t cp);
// Whether cp, between prev and next (0 at either end of the string), hides something: true for
// every hidden code point except U+200D ZERO WIDTH JOINER between two emoji ("👩‍💻") and the
// variation selectors U+FE0E/U+FE0F right after an emoji or before the keycap U+20E3 ("1️⃣"),
// which only choose how an emoji is drawn (Unicode's emoji sequences).
bool hidden_here(char32_t prev, char32_t cp, char32_t next);
// Unicode's Extended_Pictographic property (emoji-data.txt, Unicode 14.0).
bool is_extended_pictographic(char32_t cp);
// Unicode noncharacters (U+FDD0..U+FDEF and the last two code points of every plane).
bool is_noncharacter(char32_t cp);

} // namespace epws::chat
