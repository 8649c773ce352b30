// chat/program/token_main.h: the `epws token` subcommand, which mints an HS256 token for a user so that
// a client can connect to a server started with a secret. Layer: chat/ (the command line).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace epws::chat {

// `epws token --secret SECRET --user NAME [--ttl 1h|30m|3600]`: prints the token and a newline on
// stdout and returns 0; on bad usage prints one line on stderr and returns 2; --help prints the
// usage on stdout and returns 0. argv[0] is "token": main calls token_command(argc - 1, argv + 1).
int token_command(int argc, char** argv);

// The same, with the clock and the output streams passed in (for tests): appends the token line
// or the help to out and error lines to err.
int run_token_command(int argc, const char* const* argv, int64_t now, std::string& out,
                      std::string& err);

// A lifetime in seconds: digits with an optional unit s, m, h or d ("90", "30m", "1h", "7d").
// nullopt for anything else, for 0, and for more than kMaxTokenTtl.
std::optional<int64_t> parse_ttl(std::string_view text);

inline constexpr int64_t kDefaultTokenTtl = 3600;
inline constexpr int64_t kMaxTokenTtl = int64_t{366} * 24 * 3600; // a year: tokens are not keys

} // namespace epws::chat
