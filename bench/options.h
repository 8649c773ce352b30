// bench/options.h: the command line of epws-bench: scenario, load shape, bounds, output.
// Layer: bench/. Every run is bounded: a duration cap and loopback-only targets.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace epws::bench {

enum class Scenario : uint8_t { kEcho, kBroadcast, kConnect, kIdle, kChat };

// How system calls are counted (--syscalls): auto tries perf, then strace.
enum class SyscallChoice : uint8_t { kAuto, kPerf, kStrace, kOff };

// Which chat protocol the chat scenario speaks (--dialect): epws's (docs/chat-protocol.md) or
// Socket.IO's events over Engine.IO 4 (bench/peers/socketio/server.js).
enum class ChatDialect : uint8_t { kEpws, kSocketIo };

// What echo payloads look like (--payload): chat-like words, or bytes deflate cannot shrink.
enum class PayloadKind : uint8_t { kCompressible, kRandom };

struct Options {
    Scenario scenario = Scenario::kEcho;
    std::string host = "127.0.0.1";  // always inside 127.0.0.0/8 (checked)
    uint16_t port = 8080;
    std::string path;                // default per scenario: /echo, /broadcast or /chat
    pid_t server_pid = 0;            // 0: no server figures (a warning says so)
    std::string label = "epws";      // the server's name in reports
    uint32_t connections = 100;      // echo/connect: clients; broadcast: subscribers; idle: count;
                                     // chat: users
    uint32_t size = 20;              // payload bytes (chat: say text bytes, default 64)
    uint32_t depth = 16;             // messages in flight per connection (echo, fast broadcast)
    double duration_s = 5;           // measured window
    double warmup_s = 1;             // excluded from every figure
    uint64_t messages = 0;           // echo: end the window after this many (0: duration only)
    bool binary = false;             // binary frames instead of text
    bool deflate = false;            // offer permessage-deflate (client_max_window_bits)
    bool deflate_no_context = false; // also offer both no-context-takeover parameters
    PayloadKind payload = PayloadKind::kCompressible;  // echo payload content
    uint32_t publishers = 1;         // broadcast
    double rate = 0;                 // broadcast: messages/s over all publishers, 0: as fast as
                                     // possible; chat: messages/s per user (0: 1)
    uint32_t rooms = 10;             // chat: users are spread over this many rooms
    ChatDialect dialect = ChatDialect::kEpws;  // chat: the protocol spoken
    uint32_t speakers = 0;           // chat: users 0..N-1 say, the others only listen (0: all)
    std::vector<uint16_t> ports;     // chat: nodes of one cluster (--ports): speakers on the
                                     // first when some only listen, the rest round-robin
    uint32_t sources = 0;            // spread over 127.0.0.1..N (0: let the kernel choose)
    double hold_s = 2;               // idle: how long connections stay open before measuring
    int client_cpu = -1;             // --cpu C[,S]: pin ourselves to C ...
    int server_cpu = -1;             // ... and the server's threads to S
    std::string json_path;           // append one JSON line per run here ("-": stdout)
    bool quiet = false;              // no progress line even on a terminal
    SyscallChoice syscalls = SyscallChoice::kAuto;  // the server's system calls per operation
    bool tls = false;                // wss:// URL
    bool insecure = false;           // --insecure: accept any certificate (benchmarks only)
    std::string ca_file;             // --ca: trusted CAs for wss:// (default: the system's)
    std::string tls_name;            // --tls-name: SNI and the name to verify (default: host)
};

// Parses argv (without argv[0]). On error returns false with one readable line in err.
bool parse_options(const std::vector<std::string>& args, Options& out, std::string& err);
// The --help text.
std::string usage();
const char* scenario_name(Scenario s);

}  // namespace epws::bench
