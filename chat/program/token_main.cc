// chat/program/token_main.cc: `epws token`: parses its flags and mints with chat/jwt. Layer: chat/ (the
// command line). The only I/O is the final print in token_command().
#include "chat/program/token_main.h"

#include <charconv>
#include <cstdio>
#include <ctime>

#include "chat/jwt.h"
#include "chat/names.h"

namespace epws::chat {

namespace {

constexpr std::string_view kUsage =
    "usage: epws token --secret SECRET --user NAME [--ttl DURATION]\n"
    "\n"
    "Prints an HS256 JWT for NAME, signed with SECRET, for ws://HOST:PORT/chat?token=TOKEN.\n"
    "\n"
    "  --secret SECRET  the server's --jwt-secret, at least 16 bytes (note: visible to other\n"
    "                   local users in ps)\n"
    "  --user NAME      the user name (1..32 characters, no control characters, no outer spaces)\n"
    "  --ttl DURATION   lifetime: seconds, or a number with s, m, h or d (default 1h, at most "
    "366d)\n"
    "  --help           this text\n";

struct TokenArgs {
    std::optional<std::string_view> secret, user, ttl;
    bool help = false;
};

// Accepts "--flag value" and "--flag=value". Returns false with err set on bad usage.
bool parse_args(int argc, const char* const* argv, TokenArgs& args, std::string& err) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            args.help = true;
            continue;
        }
        std::optional<std::string_view> value;
        if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        }
        std::optional<std::string_view>* slot = arg == "--secret" ? &args.secret
                                                : arg == "--user" ? &args.user
                                                : arg == "--ttl"  ? &args.ttl
                                                                  : nullptr;
        if (!slot) {
            err = "epws token: unknown argument '" + std::string(arg) + "' (see --help)\n";
            return false;
        }
        if (!value) {
            if (i + 1 >= argc) {
                err = "epws token: " + std::string(arg) + " needs a value\n";
                return false;
            }
            value = argv[++i];
        }
        *slot = value;
    }
    return true;
}

int usage_error(std::string& err, std::string_view message) {
    err += "epws token: ";
    err += message;
    err += '\n';
    return 2;
}

} // namespace

std::optional<int64_t> parse_ttl(std::string_view text) {
    int64_t n = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc{} || ptr == text.data() || n <= 0) return std::nullopt;
    int64_t unit = 1;
    if (ptr != end) {
        if (ptr + 1 != end) return std::nullopt;
        switch (*ptr) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            return std::nullopt;
        }
    }
    if (n > kMaxTokenTtl / unit) return std::nullopt; // checked before multiplying
    return n * unit;
}

int run_token_command(int argc, const char* const* argv, int64_t now, std::string& out,
                      std::string& err) {
    TokenArgs args;
    if (!parse_args(argc, argv, args, err)) return 2;
    if (args.help) {
        out += kUsage;
        return 0;
    }
    if (!args.secret || args.secret->empty()) return usage_error(err, "--secret is required");
    // The server refuses this secret at start-up; a token signed with it could never be used.
    if (std::string e = secret_problem(*args.secret); !e.empty())
        return usage_error(err, "--secret: the server would refuse it: " + e);
    if (!args.user) return usage_error(err, "--user is required");
    if (!is_valid_user_name(*args.user)) {
        return usage_error(err, "--user: not a valid user name (1..32 characters, no control "
                                "characters, no leading or trailing spaces)");
    }
    int64_t ttl = kDefaultTokenTtl;
    if (args.ttl) {
        const std::optional<int64_t> parsed = parse_ttl(*args.ttl);
        if (!parsed) {
            return usage_error(err, "--ttl: expected a positive duration such as 3600, 30m, 1h "
                                    "or 7d, at most 366d, not '" +
                                        std::string(*args.ttl) + "'");
        }
        ttl = *parsed;
    }
    const std::optional<std::string> token = mint_jwt(*args.secret, *args.user, ttl, now);
    if (!token) {
        err += "epws token: signing failed (OpenSSL HMAC)\n";
        return 1;
    }
    out += *token;
    out += '\n';
    return 0;
}

int token_command(int argc, char** argv) {
    std::string out, err;
    const int rc =
        run_token_command(argc, argv, static_cast<int64_t>(std::time(nullptr)), out, err);
    std::fputs(out.c_str(), stdout);
    std::fputs(err.c_str(), stderr);
    return rc;
}

} // namespace epws::chat
