// chat/program/reload.cc: which settings a SIGHUP may change. Layer: chat/program/.
#include "chat/program/reload.h"

#include <cstdio>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace epws::chat {

// For the table's comparison (chat/redis/redis_url.h defines none).
bool operator==(const RedisUrl& a, const RedisUrl& b) {
    return a.user == b.user && a.password == b.password && a.host == b.host && a.port == b.port &&
           a.db == b.db;
}

namespace {

template <class T>
uint64_t to_number(const T& v) {
    if constexpr (std::is_integral_v<T>) return static_cast<uint64_t>(v);
    else return 0;
}

struct Field {
    const char* flag;
    bool reloadable;
    std::function<bool(const Options&, const Options&)> same;
    std::function<void(const Options&, Options&)> copy;
    std::function<std::string(const Options&)> show;
};

std::string to_text(const std::string& s) { return s; }
// The address only: a password never reaches the log.
std::string to_text(const RedisUrl& u) { return u.host.empty() ? "(none)" : u.host + ":" + std::to_string(u.port); }
std::string to_text(const std::vector<RedisUrl>& v) {
    std::string out;
    for (const RedisUrl& u : v) out += (out.empty() ? "" : ",") + to_text(u);
    return out.empty() ? "(none)" : out;
}
std::string to_text(const std::vector<std::string>& v) {
    std::string out;
    for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
    return out.empty() ? "(none)" : out;
}
std::string to_text(double d) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", d);
    return buf;
}
std::string to_text(net::LogLevel l) { return std::string(net::log_level_name(l)); }
std::string to_text(net::LogFormat f) { return f == net::LogFormat::kJson ? "json" : "text"; }
std::string to_text(ws::DeflateMode m) {
    return m == ws::DeflateMode::kOff ? "off" : m == ws::DeflateMode::kShared ? "shared" : "dedicated";
}
template <class T>
std::string to_text(T n) requires std::is_integral_v<T> {
    return std::to_string(n);
}

// get(o) -> a reference to the field in o, const or not. ms: milliseconds shown as seconds.
template <class Get>
Field field(const char* flag, bool reloadable, bool ms, Get get) {
    return {flag, reloadable,
            [get](const Options& a, const Options& b) { return get(a) == get(b); },
            [get](const Options& from, Options& into) { get(into) = get(from); },
            [get, ms, flag](const Options& o) -> std::string {
                if (std::strcmp(flag, "jwt-secret") == 0 || std::strcmp(flag, "admin-token") == 0)
                    return to_text(get(o)).empty() ? "(none)" : "(set)";
                if (std::strcmp(flag, "allowed-origins") == 0 && to_text(get(o)) == "(none)") return "(any)";
                if (ms) return to_text(static_cast<double>(to_number(get(o))) / 1000.0) + "s";
                return to_text(get(o));
            }};
}

#define EPWS_FIELD(flag, reloadable, member) \
    field(flag, reloadable, std::string_view(#member).ends_with("_ms"), \
          [](auto& o) -> auto& { return o.member; })

const std::vector<Field>& fields() {
    // Not reloadable: what is bound at start (addresses, loops, the ring, the rooms table and
    // its caps, the users table), what connections keep an index into (subprotocols), the
    // compression settings the zlib streams were made with, and the static files' root.
    static const std::vector<Field> table = {
        EPWS_FIELD("host", false, host),
        EPWS_FIELD("port", false, port),
        EPWS_FIELD("port-enabled", false, plain),  // --port off
        EPWS_FIELD("tls-port", false, tls_port),
        EPWS_FIELD("tls-cert", false, tls_certs),  // the files: their contents reload (SIGHUP)
        EPWS_FIELD("tls-key", false, tls_keys),
        EPWS_FIELD("max-total-output-bytes", false, max_total_output_bytes),
        EPWS_FIELD("threads", false, threads),
        EPWS_FIELD("metrics-port", false, metrics_port),
        EPWS_FIELD("web-root", false, web_root),
        EPWS_FIELD("subprotocols", false, handshake.subprotocols),
        EPWS_FIELD("max-headers", false, http.max_headers),
        EPWS_FIELD("max-connections-per-ip", false, max_connections_per_ip),
        EPWS_FIELD("deflate", false, deflate.mode),
        EPWS_FIELD("deflate-level", false, deflate.level),
        EPWS_FIELD("deflate-window-bits", false, deflate.window_bits),
        EPWS_FIELD("deflate-mem-level", false, deflate.mem_level),
        EPWS_FIELD("deflate-threshold", false, deflate.threshold),
        EPWS_FIELD("history", false, chat.history),
        EPWS_FIELD("max-rooms", false, chat.max_rooms),
        EPWS_FIELD("connections-per-user", false, chat.connections_per_user),
        EPWS_FIELD("ring-capacity", false, chat.ring_capacity),
        EPWS_FIELD("presence-max-names", false, chat.protocol.max_presence_names),
        EPWS_FIELD("room-idle-ttl", false, chat.room_idle_ttl_ms),
        EPWS_FIELD("room-create-rate", false, chat.room_create_rate),
        EPWS_FIELD("room-create-burst", false, chat.room_create_burst),
        EPWS_FIELD("redis-enabled", false, redis_enabled),
        EPWS_FIELD("redis", false, redis),
        EPWS_FIELD("redis-cluster", false, redis_cluster),
        EPWS_FIELD("redis-timeout", false, redis_timeout_ms),
        EPWS_FIELD("redis-presence-ttl", false, redis_presence_ttl_ms),
        EPWS_FIELD("trace-connection", false, trace_connection),  // the writer starts with them
        EPWS_FIELD("trace-user", false, trace_user),
        // Reloadable: read at each use.
        EPWS_FIELD("max-header-bytes", true, http.max_header_bytes),
        EPWS_FIELD("max-message-bytes", true, reader.max_message_bytes),
        EPWS_FIELD("max-fragments", true, reader.max_fragments),
        EPWS_FIELD("max-output-bytes", true, max_output_bytes),
        EPWS_FIELD("max-connections", true, max_connections),
        EPWS_FIELD("handshake-timeout", true, handshake_timeout_ms),
        EPWS_FIELD("idle-timeout", true, idle_timeout_ms),
        EPWS_FIELD("close-timeout", true, close_timeout_ms),
        EPWS_FIELD("send-timeout", true, send_timeout_ms),
        EPWS_FIELD("allowed-origins", true, handshake.allowed_origins),
        EPWS_FIELD("jwt-secret", true, chat.jwt_secret),
        EPWS_FIELD("admin-token", true, chat.admin_token),
        EPWS_FIELD("rooms-per-connection", true, chat.rooms_per_connection),
        EPWS_FIELD("rate", true, chat.rate_per_second),
        EPWS_FIELD("burst", true, chat.rate_burst),
        EPWS_FIELD("rate-close-after", true, chat.rate_close_after),
        EPWS_FIELD("slow-consumer-bytes", true, chat.slow_consumer_bytes),
        EPWS_FIELD("ping-interval", true, chat.ping_interval_ms),
        EPWS_FIELD("drain-seconds", true, drain_ms),
        EPWS_FIELD("log-level", true, log_level),
        EPWS_FIELD("log-format", true, log_format),
    };
    return table;
}

#undef EPWS_FIELD

}  // namespace

ConfigDiff diff_config(const Options& from, const Options& to) {
    ConfigDiff d;
    for (const Field& f : fields())
        if (!f.same(from, to)) (f.reloadable ? d.applied : d.needs_restart).emplace_back(f.flag);
    return d;
}

std::vector<std::pair<std::string, std::string>> describe_config(const Options& o) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const Field& f : fields()) out.emplace_back(f.flag, f.show(o));
    return out;
}

void apply_reloadable(const Options& from, Options& into) {
    for (const Field& f : fields())
        if (f.reloadable) f.copy(from, into);
}

}  // namespace epws::chat
