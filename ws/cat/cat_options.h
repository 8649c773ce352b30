// ws/cat/cat_options.h: epws-cat's command line, its stdin commands (/ping, /close) and its exit
// statuses. Layer: the epws-cat program (ws/cat/). Pure apart from reading --file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "ws/client_connection.h"
#include "ws/url.h"

namespace epws::cat {

// Exit statuses. A close handshake that completed gives 0 for 1000 and code - 1000 for
// 1001..1015 (so 1 = going away, 2 = protocol error, 5 = no code given); other codes 30.
inline constexpr int kExitOtherCode = 30;
inline constexpr int kExitUsage = 64;      // bad flags
inline constexpr int kExitBadUrl = 65;     // a URL that does not parse
inline constexpr int kExitConnect = 66;    // name resolution, TCP connect
inline constexpr int kExitRefused = 67;    // the server answered the upgrade with a non-101
inline constexpr int kExitHandshake = 68;  // a 101 that fails RFC 6455 §4.1's checks
inline constexpr int kExitTimeout = 69;    // the handshake or the close took too long
inline constexpr int kExitDropped = 70;    // TCP ended without a close handshake (1006)
inline constexpr int kExitProtocol = 71;   // the server broke RFC 6455; we closed with 1002/1007..
inline constexpr int kExitTls = 72;        // wss://: the certificate failed verification, or TLS

// The ping epws-cat sends at the end of its input; its pong starts the close.
inline constexpr std::string_view kEofPing = "epws-cat: end of input";

struct CatOptions {
    std::string url_text;
    ws::WsUrl url;
    ws::ClientConfig client;  // host, target, headers, subprotocols, deflate offer, timeouts
    bool binary = false;      // lines (and --file) go out as binary messages
    bool trace = false;
    bool file_given = false;
    std::string file_data;    // --file's content, sent as one message once open
    bool read_stdin = true;   // false with --file unless --stdin too
    // wss:// only: whom to trust (empty: the system's CA store), or nobody checked at all.
    std::string ca_file;
    bool insecure = false;
};

enum class CatParse : uint8_t { kRun, kHelp, kError };

// Parses argv into out; on kError, err says what is wrong ("bad URL ..." for a URL, which the
// caller turns into kExitBadUrl).
CatParse parse_cat_options(int argc, char** argv, CatOptions& out, std::string& err);
std::string cat_usage();

enum class CommandKind : uint8_t { kSend, kPing, kClose, kError };
struct Command {
    CommandKind kind = CommandKind::kSend;
    std::string text;    // the message, the ping payload, the close reason or the error
    uint16_t code = 1000;
};

// One line of input: "/ping [text]", "/close [code [reason]]", "//x" sends "/x", any other
// "/word" is an error (so a mistyped command is not sent); everything else is a message.
Command parse_command(std::string_view line);

// Prints how the connection ended to out and returns the exit status for it.
int describe_end(const ws::ClientConnection& c, uint16_t code, ws::ClientFailure failure,
                 const CatOptions& options, std::FILE* out);

}  // namespace epws::cat
