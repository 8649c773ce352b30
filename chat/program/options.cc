// chat/program/options.cc: the flag table (every flag, its help and its setter, built from the
// value parsers of option_values.h), --help and the environment. Layer: chat/program/.
#include "chat/program/options.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <cstdint>
#include <algorithm>
#include <functional>
#include <thread>
#include <string_view>
#include <vector>

#include "chat/jwt.h"
#include "chat/names.h"
#include "chat/program/config_file.h"
#include "chat/program/option_values.h"

namespace epws::chat {
namespace {

using Setter = std::function<std::string(std::string_view, Options&)>;

struct Flag {
    std::string_view name;
    std::string_view arg;   // shown in --help
    std::string_view help;  // includes the default
    Setter set;             // returns "" or what is wrong with the value
};

template <class T>
Setter size_flag(T ws::ServerConfig::*field, uint64_t lo, uint64_t hi) {
    return [=](std::string_view v, Options& c) {
        uint64_t n = 0;
        std::string e = parse_size(v, lo, hi, n);
        if (e.empty()) c.*field = static_cast<T>(n);
        return e;
    };
}

Setter seconds_flag(uint32_t ws::ServerConfig::*field) {
    return [=](std::string_view v, Options& c) { return parse_seconds(v, 86400, c.*field); };
}

// A chat setting: a size into a field of ChatConfig.
template <class T>
Setter chat_size(T ChatConfig::*field, uint64_t lo, uint64_t hi) {
    return [=](std::string_view v, Options& c) {
        uint64_t n = 0;
        std::string e = parse_size(v, lo, hi, n);
        if (e.empty()) c.chat.*field = static_cast<T>(n);
        return e;
    };
}

Setter presence_names_flag() {
    return [](std::string_view v, Options& c) {
        uint64_t n = 0;
        std::string e = parse_size(v, 1, 10000, n);
        if (e.empty()) c.chat.protocol.max_presence_names = n;
        return e;
    };
}

const std::vector<Flag>& flags() {
    using C = Options;
    static const std::vector<Flag> table = {
        {"--host", "ADDR", "numeric IPv4 or IPv6 address to listen on (default 127.0.0.1)",
         [](std::string_view v, C& c) { return parse_host(v, c.host); }},
        {"--port", "N", "TCP port of ws:// and http://, 0 for any free one, off for none "
         "(default 8080)",
         [](std::string_view v, C& c) {
             if (v == "off") {
                 c.plain = false;
                 return std::string();
             }
             c.plain = true;
             return size_flag(&C::port, 0, 65535)(v, c);
         }},
        {"--tls-port", "N", "TCP port of wss:// and https://, 0 for any free one, with "
         "--tls-cert (default 8443)",
         [](std::string_view v, C& c) {
             uint64_t n = 0;
             std::string e = parse_size(v, 0, 65535, n);
             if (e.empty()) c.tls_port = static_cast<uint16_t>(n), c.tls_port_set = true;
             return e;
         }},
        {"--tls-cert", "PATH", "PEM certificate chain (Let's Encrypt: fullchain.pem) for "
         "--tls-port; repeat with --tls-key for more names, chosen by SNI (first: the default)",
         [](std::string_view v, C& c) { c.tls_certs.emplace_back(v); return std::string(); }},
        {"--tls-key", "PATH", "PEM private key of the --tls-cert at the same position "
         "(Let's Encrypt: privkey.pem); SIGHUP reloads every pair",
         [](std::string_view v, C& c) { c.tls_keys.emplace_back(v); return std::string(); }},
        {"--threads", "N", "event loops, each with its own SO_REUSEPORT listener (default: the "
         "number of cores, here ", size_flag(&C::threads, 1, 256)},
        {"--max-header-bytes", "N", "request line + headers, over it: 431 (default 8192)",
         [](std::string_view v, C& c) {
             uint64_t n = 0;
             std::string e = parse_size(v, 256, 64 << 10, n);
             if (e.empty()) c.http.max_header_bytes = n;
             return e;
         }},
        {"--max-headers", "N", "header fields per request, over it: 431 (default 100)",
         [](std::string_view v, C& c) {
             uint64_t n = 0;
             std::string e = parse_size(v, 1, 10000, n);
             if (e.empty()) c.http.max_headers = n;
             return e;
         }},
        {"--max-message-bytes", "N", "one message, over it: close 1009 (default 16m)",
         [](std::string_view v, C& c) {
             uint64_t n = 0;
             std::string e = parse_size(v, 1, 1ull << 30, n);
             if (e.empty()) c.reader.max_message_bytes = n;
             return e;
         }},
        {"--max-fragments", "N", "frames per message, over it: close 1009 (default 1048576)",
         [](std::string_view v, C& c) {
             uint64_t n = 0;
             std::string e = parse_size(v, 1, UINT32_MAX, n);
             if (e.empty()) c.reader.max_fragments = static_cast<uint32_t>(n);
             return e;
         }},
        {"--max-output-bytes", "N", "queued for a peer that does not read, over it: close 1008 "
         "(default 32m)", size_flag(&C::max_output_bytes, 64 << 10, UINT32_MAX)},
        {"--max-total-output-bytes", "N", "unsent output of every peer together (copies; a "
         "broadcast waits by reference and counts once in its own memory), over it: the peers "
         "holding the most are reset (default 0: a quarter of memory)",
         size_flag(&C::max_total_output_bytes, 0, uint64_t{1} << 50)},
        {"--max-connections", "N", "open sockets, over it: 503 (default 100000)",
         size_flag(&C::max_connections, 1, 10000000)},
        {"--max-connections-per-ip", "N", "open sockets from one IPv4 address or IPv6 /64, over "
         "it: 503 with Retry-After; 0 = no cap (default 1024)",
         size_flag(&C::max_connections_per_ip, 0, 10000000)},
        {"--handshake-timeout", "SECONDS", "to receive a complete request head (default 10)",
         seconds_flag(&C::handshake_timeout_ms)},
        {"--idle-timeout", "SECONDS", "no bytes from a WebSocket peer: close 1001; 0 = never "
         "(default 120)", seconds_flag(&C::idle_timeout_ms)},
        {"--close-timeout", "SECONDS", "to wait for the peer's close frame and FIN (default 5)",
         seconds_flag(&C::close_timeout_ms)},
        {"--send-timeout", "SECONDS", "queued output the peer reads none of for this long: reset; "
         "while it reads any, no other timeout cuts it; 0 = the other timeouts decide (default 60)",
         seconds_flag(&C::send_timeout_ms)},
        {"--subprotocols", "LIST", "comma-separated Sec-WebSocket-Protocol values to accept, in "
         "preference order (default none)",
         [](std::string_view v, C& c) { c.handshake.subprotocols = split_list(v); return std::string(); }},
        {"--deflate", "MODE", "permessage-deflate: off, shared (no context takeover: each message "
         "compressed and inflated in one libdeflate call, no per-connection state) or dedicated "
         "(per-connection zlib window) (default shared)",
         [](std::string_view v, C& c) {
             if (v == "off") c.deflate.mode = ws::DeflateMode::kOff;
             else if (v == "shared") c.deflate.mode = ws::DeflateMode::kShared;
             else if (v == "dedicated") c.deflate.mode = ws::DeflateMode::kDedicated;
             else return std::string("expects off, shared or dedicated");
             return std::string();
         }},
        {"--deflate-level", "N", "compression level 0..9, for libdeflate and zlib alike; 6 packs 2-4% tighter at 3x the CPU (default 1)",
         [](std::string_view v, C& c) { return small_int(v, 0, 9, c.deflate.level); }},
        {"--deflate-window-bits", "N", "LZ77 window 9..15 of our compressor and the most we let a "
         "client use in dedicated mode (default 15)",
         [](std::string_view v, C& c) { return small_int(v, 9, 15, c.deflate.window_bits); }},
        {"--deflate-mem-level", "N", "zlib memLevel 1..9 of our compressors (default 8)",
         [](std::string_view v, C& c) { return small_int(v, 1, 9, c.deflate.mem_level); }},
        {"--deflate-threshold", "N", "messages shorter than this are sent uncompressed (default 64)",
         [](std::string_view v, C& c) {
             uint64_t n = 0;
             std::string e = parse_size(v, 0, UINT32_MAX, n);
             if (e.empty()) c.deflate.threshold = static_cast<uint32_t>(n);
             return e;
         }},
        {"--allowed-origins", "LIST", "comma-separated Origin values allowed to upgrade; others "
         "get 403 (default any)",
         [](std::string_view v, C& c) { c.handshake.allowed_origins = split_list(v); return std::string(); }},
        {"--jwt-secret", "SECRET", "HS256 secret for /chat tokens (visible in ps: prefer the "
         "file or EPWS_JWT_SECRET)",
         [](std::string_view v, C& c) {
             std::string e = secret_problem(v);
             if (e.empty()) c.chat.jwt_secret = std::string(v);
             return e;
         }},
        {"--jwt-secret-file", "PATH", "HS256 secret for /chat tokens, read from a file (also "
         "EPWS_JWT_SECRET); none: open development mode trusting ?username=",
         [](std::string_view v, C& c) { return read_secret(std::string(v), c.chat.jwt_secret); }},
        {"--admin-token", "TOKEN", "bearer token that may read every connection in GET "
         "/api/connections (visible in ps: prefer the file or EPWS_ADMIN_TOKEN); default none",
         [](std::string_view v, C& c) {
             std::string e = check_admin_token(v);
             if (e.empty()) c.chat.admin_token = std::string(v);
             return e;
         }},
        {"--admin-token-file", "PATH", "the admin token, read from a file (also EPWS_ADMIN_TOKEN)",
         [](std::string_view v, C& c) {
             std::string token;
             std::string e = read_secret(std::string(v), token);
             if (e.empty()) e = check_admin_token(token);
             if (e.empty()) c.chat.admin_token = token;
             return e;
         }},
        {"--history", "N", "messages kept per room for since and history (default 1000)",
         chat_size(&ChatConfig::history, 0, 1000000)},
        {"--max-rooms", "N", "rooms in the whole server (default 1024)",
         chat_size(&ChatConfig::max_rooms, 1, 1000000)},
        {"--room-idle-ttl", "SECONDS", "an empty room is forgotten (name, history) after it; a "
         "later join makes it anew with a new epoch (default 300)",
         [](std::string_view v, C& c) { return parse_seconds(v, 86400, c.chat.room_idle_ttl_ms); }},
        {"--room-create-rate", "PER_SECOND", "rooms one user may create per second, a token "
         "bucket; over it: error create_rate_limited (default 0.1)",
         [](std::string_view v, C& c) { return parse_rate(v, c.chat.room_create_rate); }},
        {"--room-create-burst", "N", "that bucket's size (default 10)",
         [](std::string_view v, C& c) { return parse_rate(v, c.chat.room_create_burst); }},
        {"--presence-max-names", "N", "names in a presence reply or notice; the rest are "
         "counted and paged with who after (default 100)",
         presence_names_flag()},
        {"--rooms-per-connection", "N", "rooms one connection may join (default 32)",
         chat_size(&ChatConfig::rooms_per_connection, 1, 100000)},
        {"--connections-per-user", "N", "open /chat connections per user, over it: 429 (default 16)",
         chat_size(&ChatConfig::connections_per_user, 1, 1000000)},
        {"--rate", "PER_SECOND", "chat messages per second per connection, a token bucket; "
         "over it: error rate_limited (default 5)",
         [](std::string_view v, C& c) { return parse_rate(v, c.chat.rate_per_second); }},
        {"--burst", "N", "the token bucket's size (default 20)",
         [](std::string_view v, C& c) { return parse_rate(v, c.chat.rate_burst); }},
        {"--rate-close-after", "N", "messages refused for the rate in a row, after which the "
         "next one refused closes the connection with 1008; 0 = never (default 100)",
         chat_size(&ChatConfig::rate_close_after, 0, 1000000)},
        {"--slow-consumer-bytes", "N", "unsent output past which a /chat connection is skipped "
         "and later sent a gap event (default 1m)",
         chat_size(&ChatConfig::slow_consumer_bytes, 1024, UINT32_MAX)},
        {"--ping-interval", "SECONDS", "server pings to /chat connections; 0 = none (default 25)",
         [](std::string_view v, C& c) { return parse_seconds(v, 86400, c.chat.ping_interval_ms); }},
        {"--web-root", "DIR", "the browser client's files, served for GET paths no endpoint "
         "claims (default " EPWS_WEB_ROOT ")",
         [](std::string_view v, C& c) { return parse_web_root(v, c.web_root); }},
        {"--drain-seconds", "SECONDS", "on SIGTERM, close the WebSockets with 1001 spread over "
         "this long (new upgrades get 503, /healthz 503); 0 = all at once (default 0)",
         [](std::string_view v, C& c) { return parse_seconds(v, 3600, c.drain_ms); }},
        {"--metrics-port", "N", "also serve GET /metrics on 127.0.0.1:N, for a scraper that "
         "should not reach the public port; 0 = none (default 0)",
         [](std::string_view v, C& c) {
             uint64_t n = 0;
             std::string e = parse_size(v, 0, 65535, n);
             if (e.empty()) c.metrics_port = static_cast<uint16_t>(n);
             return e;
         }},
        {"--log-level", "LEVEL", "error, warn, info or debug (closes are logged at debug) "
         "(default info)",
         [](std::string_view v, C& c) {
             return net::parse_log_level(v, c.log_level) ? std::string()
                                                         : std::string("expects error, warn, info or debug");
         }},
        {"--log-format", "FORMAT", "text (one 'epws: TIME LEVEL EVENT key=value' line) or json "
         "(one object a line) (default text)",
         [](std::string_view v, C& c) {
             if (v == "text") c.log_format = net::LogFormat::kText;
             else if (v == "json") c.log_format = net::LogFormat::kJson;
             else return std::string("expects text or json");
             return std::string();
         }},
        {"--ring-capacity", "N", "entries in the broadcast ring between loops, a power of two "
         "(default 65536)",
         [](std::string_view v, C& c) {
             uint64_t n = 0;
             std::string e = parse_size(v, 16, 1u << 24, n);
             if (e.empty() && (n & (n - 1)) != 0) e = "must be a power of two";
             if (e.empty()) c.chat.ring_capacity = n;
             return e;
         }},
        {"--redis", "URL", "share rooms with other nodes through Redis: "
         "redis://[user:password@]host[:port][/db] (docs/redis.md; default: none, in memory)",
         [](std::string_view v, C& c) {
             std::string e;
             if (!c.redis_cluster.empty()) return std::string("excludes --redis-cluster");
             if (!parse_redis_url(v, c.redis, e)) return e;
             c.redis_enabled = true;
             return std::string();
         }},
        {"--redis-cluster", "SEEDS", "the same through a Redis Cluster (Redis 7, sharded pub/sub): "
         "seed nodes [redis://][user:password@]host:port[,host:port...] that answer CLUSTER SLOTS "
         "(docs/redis.md, Redis Cluster; default: none)",
         [](std::string_view v, C& c) {
             std::string e;
             if (c.redis_enabled && c.redis_cluster.empty()) return std::string("excludes --redis");
             if (!parse_cluster_seeds(v, c.redis_cluster, e)) return e;
             c.redis = c.redis_cluster.front();
             c.redis_enabled = true;
             return std::string();
         }},
        {"--redis-timeout", "SECONDS", "a Redis command unanswered for this long: Redis counts as "
         "down and the node reconnects (default 2)",
         [](std::string_view v, C& c) {
             std::string e = parse_seconds(v, 3600, c.redis_timeout_ms);
             if (e.empty() && c.redis_timeout_ms == 0) e = "must be more than 0";
             return e;
         }},
        {"--redis-presence-ttl", "SECONDS", "a node's room members expire from Redis unless it "
         "refreshes them (every third of this), so a crashed node's users leave presence within "
         "it (default 10)",
         [](std::string_view v, C& c) {
             std::string e = parse_seconds(v, 3600, c.redis_presence_ttl_ms);
             if (e.empty() && c.redis_presence_ttl_ms < 300) e = "must be at least 0.3";
             return e;
         }},
        {"--trace-connection", "ID", "explain every byte of connection ID on stderr, as "
         "epws-cat --trace does; ID counts the connections the process admits, from 1 (the "
         "first client after start is 1); lines start with [conn ID]; a stderr slower than the "
         "traffic drops lines, counted, and never slows the server (default none)",
         [](std::string_view v, C& c) {
             uint64_t n = 0;
             auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
             if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n == 0)
                 return std::string("expects a connection id, a whole number from 1 (the Nth "
                                    "connection this process admits)");
             c.trace_connection = n;
             return std::string();
         }},
        {"--trace-user", "NAME", "the same for every connection, to any path, whose request "
         "carries user NAME (?username= or the token's sub), from that request on; at most 16 "
         "traced at once per loop (default none)",
         [](std::string_view v, C& c) {
             if (!is_valid_user_name(v))
                 return std::string("expects a user name as the chat accepts them (1 to 32 "
                                    "characters of UTF-8, no controls, no blank at either end)");
             c.trace_user = std::string(v);
             return std::string();
         }},
    };
    return table;
}

}  // namespace

std::vector<std::string_view> option_names() {
    std::vector<std::string_view> out;
    for (const Flag& f : flags()) out.push_back(f.name.substr(2));
    return out;
}

std::string set_option(std::string_view name, std::string_view value, Options& config) {
    for (const Flag& f : flags())
        if (f.name.substr(2) == name) return f.set(value, config);
    return "unknown key (every flag of --help is a key, without its dashes)";
}

std::string check_admin_token(std::string_view v) {
    // It travels in an Authorization header, so only characters a header value carries as-is.
    if (v.size() < 16) return "the admin token must be at least 16 bytes";
    for (char ch : v)
        if (ch < 0x21 || ch > 0x7E) return "the admin token must be visible ASCII (no spaces)";
    return "";
}

ParseOutcome parse_options(int argc, const char* const* argv, Options& config,
                           std::string& err) {
    // The file first, whatever its place among the flags: every flag given overrides it.
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") return ParseOutcome::kHelp;
        if (arg == "--check-config") config.check_config = true;
        if (arg.substr(0, 9) == "--config=") config.config_path = std::string(arg.substr(9));
        if (arg == "--config") {
            if (i + 1 >= argc) {
                err = "--config needs a value (FILE)";
                return ParseOutcome::kError;
            }
            config.config_path = argv[++i];
        }
    }
    if (!config.config_path.empty()) {
        err = load_config_file(config.config_path, config);
        if (!err.empty()) return ParseOutcome::kError;
    }
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--check-config") continue;
        if (arg == "--config") {
            ++i;
            continue;
        }
        if (arg.substr(0, 9) == "--config=") continue;
        std::string_view value;
        bool inline_value = false;
        if (size_t eq = arg.find('='); eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            inline_value = true;
        }
        const Flag* flag = nullptr;
        for (const Flag& f : flags())
            if (f.name == arg) flag = &f;
        if (flag == nullptr) {
            err = "unknown option '" + std::string(arg) + "' (see --help)";
            return ParseOutcome::kError;
        }
        if (!inline_value) {
            if (i + 1 >= argc) {
                err = std::string(arg) + " needs a value (" + std::string(flag->arg) + ")";
                return ParseOutcome::kError;
            }
            value = argv[++i];
        }
        if (std::string e = flag->set(value, config); !e.empty()) {
            err = std::string(arg) + " '" + std::string(value) + "': " + e;
            return ParseOutcome::kError;
        }
    }
    if (config.tls_certs.size() != config.tls_keys.size()) {
        err = "--tls-cert and --tls-key come in pairs (" + std::to_string(config.tls_certs.size()) +
              " certificates, " + std::to_string(config.tls_keys.size()) + " keys)";
        return ParseOutcome::kError;
    }
    if (config.tls_port_set && config.tls_certs.empty()) {
        err = "--tls-port needs --tls-cert and --tls-key";
        return ParseOutcome::kError;
    }
    if (!config.plain && config.tls_certs.empty()) {
        err = "--port off leaves nothing to listen on (add --tls-cert and --tls-key)";
        return ParseOutcome::kError;
    }
    return ParseOutcome::kRun;
}

std::string usage(const char* program) {
    std::string out = "Usage: " + std::string(program) + " [options]\n\n"
        "epws: a WebSocket server on an edge-triggered epoll loop.\n"
        "Endpoints: ws://HOST:PORT/chat?username=NAME&token=TOKEN speaks the chat protocol\n"
        "(docs/chat-protocol.md); ws://HOST:PORT/echo echoes every message;\n"
        "ws://HOST:PORT/broadcast sends each message to every /broadcast client, on any loop;\n"
        "GET /echo?message=TEXT answers TEXT; GET /healthz answers ok; GET /stats: counters;\n"
        "GET /inspect: a live frame inspector for learners; GET /api/whoami?username=&token=:\n"
        "the handshake's identity check (200 or 401); GET /api/connections[?id=N]: /chat\n"
        "connections as the server sees them; any other GET: the browser client from --web-root.\n"
        "SIGINT/SIGTERM: stop accepting, close every WebSocket with 1001 (paced over\n"
        "--drain-seconds), exit 0. GET /metrics: Prometheus metrics.\n"
        "With --tls-cert/--tls-key, the same on wss:// and https:// at --tls-port.\n"
        "SIGHUP: reread --config and the flags and apply what can change live; reload the\n"
        "certificates (open connections stay, new handshakes use the new ones).\n"
        "Exit status: 0 after a signal or --help; 2 for bad usage (an unknown flag, a bad\n"
        "value, a missing --web-root: one line on stderr); 1 when start-up fails (e.g. the\n"
        "port is taken). --check-config: 0 if the configuration is valid, else 1.\n"
        "Also: " + std::string(program) + " token --secret SECRET --user NAME [--ttl 1h] mints a token\n\n"
        "Options (also as --flag=value; sizes take k, m, g suffixes):\n";
    for (const Flag& f : flags()) {
        std::string left = "  " + std::string(f.name) + " " + std::string(f.arg);
        if (left.size() < 30) left.resize(30, ' ');
        out += left + " " + std::string(f.help);
        if (f.name == "--threads") out += std::to_string(std::max(1u, std::thread::hardware_concurrency())) + ")";
        out += "\n";
    }
    out += "  --config FILE                flags from FILE, one 'key = value' a line (the flag's\n"
           "                               name without dashes; # comments); flags given override it\n"
           "  --check-config               validate the flags and the file, say so, exit 0 or 1\n"
           "  --help                       this text\n";
    return out;
}

}  // namespace epws::chat
