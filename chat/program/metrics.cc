// chat/program/metrics.cc: the /metrics document. Names follow the Prometheus conventions:
// an epws_ prefix, base units in the name (_bytes, _seconds), _total on counters; the process
// metrics use the standard process_ names every Prometheus client library exports.
// Layer: chat/program/.
#include "chat/program/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string_view>

#include "chat/endpoints/chat_endpoint.h"
#include "net/connection.h"
#include "net/loop.h"

namespace epws::chat {
namespace {

using S = ws::ServerStats;

class Writer {
public:
    explicit Writer(std::string& out) : out_(out) {}
    // # HELP and # TYPE lines, once per family, before its samples.
    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += help;
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }
    // labels: already formatted, e.g. loop="0" (no braces), or empty.
    void sample(std::string_view name, std::string_view labels, uint64_t v) {
        head(name, labels);
        out_ += std::to_string(v);
        out_ += '\n';
    }
    void sample(std::string_view name, std::string_view labels, double v) {
        head(name, labels);
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%.9g", v);
        out_ += buf;
        out_ += '\n';
    }
    // One family with a single sample: the sum of get over every loop.
    void total(const std::vector<const S*>& loops, std::string_view name, std::string_view type,
               std::string_view help, const std::function<uint64_t(const S&)>& get) {
        family(name, type, help);
        sample(name, {}, sum(loops, get));
    }
    static uint64_t sum(const std::vector<const S*>& loops,
                        const std::function<uint64_t(const S&)>& get) {
        uint64_t n = 0;
        for (const S* s : loops)
            if (s != nullptr) n += get(*s);
        return n;
    }

private:
    void head(std::string_view name, std::string_view labels) {
        out_ += name;
        if (!labels.empty()) {
            out_ += '{';
            out_ += labels;
            out_ += '}';
        }
        out_ += ' ';
    }
    std::string& out_;
};

std::string label(std::string_view key, std::string_view value) {
    // Our values are fixed names, numbers and paths: nothing to escape.
    return std::string(key) + "=\"" + std::string(value) + "\"";
}

void websocket_metrics(Writer& w, const std::vector<const S*>& loops, const ws::Routes& routes) {
    w.family("epws_connections_open", "gauge", "Open WebSocket connections by endpoint.");
    for (size_t i = 0; i < routes.websocket_count() && i < ws::kEndpointSlots; ++i)
        w.sample("epws_connections_open", label("endpoint", routes.websocket_path(static_cast<uint8_t>(i))),
                 Writer::sum(loops, [i](const S& s) { return s.open_by_endpoint[i].load(); }));
    w.total(loops, "epws_tcp_connections_accepted_total", "counter",
            "TCP connections accepted (before admission).", [](const S& s) { return s.accepted; });
    w.total(loops, "epws_handshakes_accepted_total", "counter", "WebSocket upgrades accepted.",
            [](const S& s) { return s.handshakes; });
    w.family("epws_handshakes_refused_total", "counter",
             "Requests refused with an error status (malformed heads and refused upgrades), "
             "and connections refused at accept, by reason.");
    for (size_t e = 1; e < ws::kHttpErrorCount; ++e)
        w.sample("epws_handshakes_refused_total",
                 label("reason", ws::http_error_name(static_cast<ws::HttpError>(e))),
                 Writer::sum(loops, [e](const S& s) { return s.refused[e].load(); }));
    w.sample("epws_handshakes_refused_total", label("reason", "over_capacity"),
             Writer::sum(loops, [](const S& s) { return s.rejected_over_capacity.load(); }));
    w.sample("epws_handshakes_refused_total", label("reason", "per_ip"),
             Writer::sum(loops, [](const S& s) { return s.rejected_per_ip.load(); }));
    w.sample("epws_handshakes_refused_total", label("reason", "fd_limit"),
             Writer::sum(loops, [](const S& s) { return s.rejected_fd_limit.load(); }));
    w.total(loops, "epws_http_requests_total", "counter", "Plain HTTP requests answered.",
            [](const S& s) { return s.http_requests; });
    w.total(loops, "epws_messages_received_total", "counter", "WebSocket messages received.",
            [](const S& s) { return s.messages_in; });
    w.total(loops, "epws_messages_sent_total", "counter", "WebSocket messages sent or queued.",
            [](const S& s) { return s.messages_out; });
    w.total(loops, "epws_wire_received_bytes_total", "counter",
            "WebSocket frame bytes read (headers and payloads).", [](const S& s) { return s.wire_bytes_in; });
    w.total(loops, "epws_wire_sent_bytes_total", "counter",
            "WebSocket frame bytes sent or queued (headers and payloads).",
            [](const S& s) { return s.wire_bytes_out; });
    w.total(loops, "epws_payload_received_bytes_total", "counter",
            "Message payload bytes received as they travelled (after the peer's compression).",
            [](const S& s) { return s.payload_bytes_in; });
    w.total(loops, "epws_payload_sent_bytes_total", "counter",
            "Message payload bytes sent, before compression.", [](const S& s) { return s.payload_bytes_out; });
    w.total(loops, "epws_deflate_inflated_bytes_total", "counter",
            "Bytes produced by inflating received messages (permessage-deflate).",
            [](const S& s) { return s.deflate.inflate_out_bytes; });
    w.total(loops, "epws_deflate_compressed_bytes_total", "counter",
            "Bytes produced by compressing sent messages (permessage-deflate).",
            [](const S& s) { return s.deflate.deflate_out_bytes; });
}

std::string close_code_label(size_t slot) {
    if (slot < 16) return label("code", std::to_string(1000 + slot));
    return label("code", slot == 16 ? "3xxx" : slot == 17 ? "4xxx" : "other");
}

void close_metrics(Writer& w, const std::vector<const S*>& loops) {
    w.family("epws_close_frames_sent_total", "counter", "Close frames sent, by close code.");
    for (size_t c = 0; c < ws::kCloseCodeSlots; ++c)
        if (uint64_t n = Writer::sum(loops, [c](const S& s) { return s.close_sent[c].load(); }); n || c <= 1)
            w.sample("epws_close_frames_sent_total", close_code_label(c), n);
    w.family("epws_close_frames_received_total", "counter", "Close frames received, by close code.");
    for (size_t c = 0; c < ws::kCloseCodeSlots; ++c)
        if (uint64_t n = Writer::sum(loops, [c](const S& s) { return s.close_received[c].load(); }); n || c <= 1)
            w.sample("epws_close_frames_received_total", close_code_label(c), n);
    w.family("epws_connections_closed_total", "counter", "Connections ended, by cause.");
    for (size_t c = 0; c < net::kCloseCauseCount; ++c)
        w.sample("epws_connections_closed_total",
                 label("cause", net::close_cause_name(static_cast<net::CloseCause>(c))),
                 Writer::sum(loops, [c](const S& s) { return s.closes[c].load(); }));
    w.family("epws_timeouts_total", "counter", "Deadlines that passed, by kind.");
    w.sample("epws_timeouts_total", label("kind", "handshake"),
             Writer::sum(loops, [](const S& s) { return s.handshake_timeouts.load(); }));
    w.sample("epws_timeouts_total", label("kind", "idle"),
             Writer::sum(loops, [](const S& s) { return s.idle_timeouts.load(); }));
    w.sample("epws_timeouts_total", label("kind", "close"),
             Writer::sum(loops, [](const S& s) { return s.close_timeouts.load(); }));
    w.sample("epws_timeouts_total", label("kind", "send"),
             Writer::sum(loops, [](const S& s) { return s.send_timeouts.load(); }));
    w.sample("epws_timeouts_total", label("kind", "tls_handshake"),
             Writer::sum(loops, [](const S& s) { return s.tls_handshake_timeouts.load(); }));
    w.total(loops, "epws_tls_handshakes_total", "counter", "TLS handshakes completed.",
            [](const S& s) { return s.tls_handshakes; });
    w.total(loops, "epws_tls_handshake_failures_total", "counter",
            "TLS handshakes that failed (garbage, plain HTTP, refused protocol or cipher).",
            [](const S& s) { return s.tls_handshake_failures; });
    w.total(loops, "epws_output_budget_closes_total", "counter",
            "Peers reset because the process output budget was spent and they held the most.",
            [](const S& s) { return s.closed_over_budget; });
    w.total(loops, "epws_protocol_errors_total", "counter",
            "Connections failed with 1002, 1007 or 1009.", [](const S& s) { return s.protocol_errors; });
    w.total(loops, "epws_output_overflow_closes_total", "counter",
            "Peers closed with 1008 for not reading (over --max-output-bytes).",
            [](const S& s) { return s.closed_output_overflow; });
}

// The Redis link (--redis, --redis-cluster; docs/redis.md): nothing without one.
void write_link(Writer& w, const Bus::LinkStats& l) {
    if (!l.present) return;
    w.family("epws_redis_up", "gauge", "1 while the link to Redis is up (say is refused otherwise).");
    w.sample("epws_redis_up", {}, uint64_t{l.up ? 1u : 0u});
    w.family("epws_redis_latency_seconds", "gauge", "The last Redis command's round trip.");
    w.sample("epws_redis_latency_seconds", {}, static_cast<double>(l.latency_us) / 1e6);
    auto counter = [&](const char* name, const char* help, uint64_t v) {
        w.family(name, "counter", help);
        w.sample(name, {}, v);
    };
    counter("epws_redis_connects_total", "Times the link to Redis came up.", l.connects);
    counter("epws_redis_disconnects_total", "Times the link to Redis went down.", l.disconnects);
    counter("epws_redis_publish_errors_total", "Publishes Redis refused.", l.publish_errors);
    counter("epws_redis_gaps_total", "Gap events announced for what Redis no longer held.", l.gaps);
    counter("epws_redis_unsent_total", "Requests lost because the link went down first.", l.unsent);
    w.family("epws_redis_cluster_masters", "gauge", "Masters of the Redis Cluster connected (0: one Redis).");
    w.sample("epws_redis_cluster_masters", {}, l.masters);
    counter("epws_redis_redirects_total", "MOVED and ASK answers from the Redis Cluster.", l.redirects);
    counter("epws_redis_resubscribes_total", "Sharded subscriptions moved to a slot's new master.",
            l.resubscribes);
}

void chat_metrics(Writer& w, Process& p) {
    auto chat_total = [&](std::string_view name, std::string_view help, net::Counter ChatStats::*field) {
        uint64_t n = 0;
        for (const ChatStats* c : p.chat_stats)
            if (c != nullptr) n += (c->*field).load();
        w.family(name, "counter", help);
        w.sample(name, {}, n);
    };
    chat_total("epws_chat_rate_limited_total", "Chat messages refused for the rate limit.",
               &ChatStats::rate_limited);
    chat_total("epws_chat_rate_limit_closes_total", "Chat connections closed 1008 for ignoring the rate limit.",
               &ChatStats::rate_closes);
    chat_total("epws_chat_slow_consumer_skips_total", "Rounds of room messages skipped for a slow consumer.",
               &ChatStats::slow_skips);
    chat_total("epws_chat_slow_consumer_gaps_total", "Gap events sent to slow consumers once they drained.",
               &ChatStats::slow_gaps);
    size_t rooms = 0, members = 0;
    for (const RoomRegistry::Info& r : p.rooms.list()) {
        ++rooms;
        members += r.members;
    }
    w.family("epws_chat_rooms", "gauge", "Chat rooms that exist.");
    w.sample("epws_chat_rooms", {}, static_cast<uint64_t>(rooms));
    w.family("epws_chat_room_members", "gauge", "Members of every room together.");
    w.sample("epws_chat_room_members", {}, static_cast<uint64_t>(members));
    w.family("epws_bus_published_total", "counter", "Entries published on the bus.");
    w.sample("epws_bus_published_total", {}, p.bus.published());
    w.family("epws_bus_wakeups_total", "counter", "Sleeping loops woken by a publisher.");
    w.sample("epws_bus_wakeups_total", {}, p.bus.wakeups());
    w.family("epws_bus_lag_entries", "gauge", "Entries published that the loop has not drained yet.");
    for (size_t i = 0; i < p.bus.loops(); ++i)
        w.sample("epws_bus_lag_entries", label("loop", std::to_string(i)), p.bus.lag(i));
    write_link(w, p.bus.link_stats());
}

void loop_metrics(Writer& w, Process& p) {
    constexpr std::string_view kName = "epws_loop_busy_seconds";
    w.family(kName, "histogram",
             "Time each wake-up kept an event loop busy (its event batch and the work after it).");
    for (size_t i = 0; i < p.loop_stats.size(); ++i) {
        const net::LoopStats* ls = p.loop_stats[i];
        if (ls == nullptr) continue;
        std::string loop = label("loop", std::to_string(i));
        uint64_t cumulative = 0;
        for (size_t b = 0; b < net::LoopStats::kBuckets; ++b) {
            cumulative += ls->buckets[b].load();
            char le[32];
            if (b < std::size(net::LoopStats::kBoundsUs))
                std::snprintf(le, sizeof(le), "%g", net::LoopStats::kBoundsUs[b] / 1e6);
            else
                std::snprintf(le, sizeof(le), "+Inf");
            w.sample(std::string(kName) + "_bucket", loop + "," + label("le", le), cumulative);
        }
        w.sample(std::string(kName) + "_sum", loop, static_cast<double>(ls->busy_us.load()) / 1e6);
        // The buckets were read one by one while the loop kept counting: report their total
        // as the count, so count equals the +Inf bucket as the format requires.
        w.sample(std::string(kName) + "_count", loop, cumulative);
    }
    w.family("epws_output_budget_used_bytes", "gauge",
             "Unsent output copies every connection holds together (the output budget in use).");
    w.sample("epws_output_budget_used_bytes", {},
             static_cast<uint64_t>(std::max<int64_t>(0, p.output_budget.used())));
    w.family("epws_output_budget_limit_bytes", "gauge",
             "The process output budget (--max-total-output-bytes; 0: none).");
    w.sample("epws_output_budget_limit_bytes", {}, p.output_budget.limit());
}

// The fields after the command name in /proc/self/stat (proc(5)): field 3 is fields[0].
std::vector<std::string> proc_stat_fields() {
    std::vector<std::string> out;
    std::FILE* f = std::fopen("/proc/self/stat", "r");
    if (f == nullptr) return out;
    char buf[1024];
    size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
    std::fclose(f);
    std::string_view s(buf, n);
    size_t paren = s.rfind(')');  // the command name may hold spaces and parentheses
    if (paren == std::string_view::npos) return out;
    s.remove_prefix(paren + 1);
    while (!s.empty()) {
        while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
        size_t sp = s.find(' ');
        if (!s.empty()) out.emplace_back(s.substr(0, sp));
        if (sp == std::string_view::npos) break;
        s.remove_prefix(sp);
    }
    return out;
}

uint64_t boot_time_s() {
    std::FILE* f = std::fopen("/proc/stat", "r");
    if (f == nullptr) return 0;
    char line[256];
    unsigned long long btime = 0;
    while (std::fgets(line, sizeof(line), f))
        if (std::sscanf(line, "btime %llu", &btime) == 1) break;
    std::fclose(f);
    return btime;
}

void process_metrics(Writer& w) {
    const auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    std::vector<std::string> st = proc_stat_fields();
    if (st.size() > 20) {
        // proc(5): utime (14) and stime (15) in clock ticks; starttime (22) in ticks since boot.
        double cpu = (std::strtod(st[11].c_str(), nullptr) + std::strtod(st[12].c_str(), nullptr)) / ticks;
        w.family("process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
        w.sample("process_cpu_seconds_total", {}, cpu);
        double start = static_cast<double>(boot_time_s()) + std::strtod(st[19].c_str(), nullptr) / ticks;
        w.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
        w.sample("process_start_time_seconds", {}, start);
    }
    unsigned long long vm = 0, rss = 0;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%llu %llu", &vm, &rss) != 2) vm = rss = 0;
        std::fclose(f);
    }
    w.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    w.sample("process_resident_memory_bytes", {}, static_cast<uint64_t>(rss) * page);
    w.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    w.sample("process_virtual_memory_bytes", {}, static_cast<uint64_t>(vm) * page);
    uint64_t fds = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
        while (dirent* e = readdir(d))
            if (e->d_name[0] != '.') ++fds;
        closedir(d);
        --fds;  // the directory's own descriptor
    }
    w.family("process_open_fds", "gauge", "Number of open file descriptors.");
    w.sample("process_open_fds", {}, fds);
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        w.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
        w.sample("process_max_fds", {}, static_cast<uint64_t>(rl.rlim_cur));
    }
}

}  // namespace

std::string render_metrics(Process& process, const ws::Routes& routes) {
    std::string out;
    out.reserve(16 << 10);
    Writer w(out);
    websocket_metrics(w, process.stats, routes);
    close_metrics(w, process.stats);
    chat_metrics(w, process);
    loop_metrics(w, process);
    w.family("epws_draining", "gauge", "1 while the server drains before it stops, else 0.");
    // acquire: pairs with main's release store; a value only.
    w.sample("epws_draining", {}, static_cast<uint64_t>(process.stopping.load(std::memory_order_acquire)));
    process_metrics(w);
    return out;
}

}  // namespace epws::chat
