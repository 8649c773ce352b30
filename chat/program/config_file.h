// chat/program/config_file.h: --config FILE, every flag from a file. Layer: chat/program/.
//
// The format is the plain-scalar subset of TOML (https://toml.io), one setting a line:
//
//     # comment
//     port = 8080
//     host = "0.0.0.0"           # a quoted string: \" and \\ are its only escapes
//     max-message-bytes = 1m     # a bare value runs to the end of the line or a " #"
//
// A key is a flag's name without its dashes; its value is checked exactly as on the command
// line. Why not a TOML library: every value goes through the flag table's own parser anyway
// (sizes with suffixes, seconds with decimals, lists), so typed values would be turned back
// into text; and Debian's only C++ one (libcpptoml-dev) has not been released since 2018.
#pragma once

#include <string>
#include <string_view>

#include "chat/program/options.h"

namespace epws::chat {

// Applies the settings of text (the contents of the file named name) to config, in order.
// "" or one line "NAME:LINE: what is wrong" (an unknown key, a bad value, a key given twice,
// a malformed line); config may then be partly applied.
std::string apply_config_text(std::string_view name, std::string_view text, Options& config);
// Reads path (at most 1 MiB) and applies it; the same errors, or "PATH: cannot read: why".
std::string load_config_file(const std::string& path, Options& config);

}  // namespace epws::chat
