// bench/report.cc: derived figures, the table and the JSON line. Layer: bench/.
#include "bench/report.h"

#include <cstdio>

namespace epws::bench {
namespace {

// Appends printf-style text; lines here are short, so a stack buffer is enough.
template <class... A>
void add(std::string& out, const char* fmt, A... args) {
    char buf[512];
    int n = std::snprintf(buf, sizeof(buf), fmt, args...);
    if (n > 0) out.append(buf, static_cast<size_t>(n) < sizeof(buf) ? size_t(n) : sizeof(buf) - 1);
}

double us(uint64_t ns) { return static_cast<double>(ns) / 1e3; }

std::string json_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            add(out, "\\u%04x", c);
            continue;
        }
        out += c;
    }
    return out;
}

void add_latency_json(std::string& out, const Histogram& h) {
    add(out, ",\"latency_ns\":{\"count\":%llu,\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"p999\":%llu,"
             "\"max\":%llu,\"mean\":%.0f}",
        (unsigned long long)h.count(), (unsigned long long)h.percentile(0.50),
        (unsigned long long)h.percentile(0.90), (unsigned long long)h.percentile(0.99),
        (unsigned long long)h.percentile(0.999), (unsigned long long)h.max(), h.mean());
}

const char* op_name(Scenario s) {
    switch (s) {
    case Scenario::kEcho: return "echo";
    case Scenario::kConnect: return "handshake";
    case Scenario::kIdle: return "connection";
    case Scenario::kBroadcast:
    case Scenario::kChat: return "delivery";
    }
    return "op";
}

}  // namespace

double Report::client_cpu_fraction() const {
    return window_s > 0 ? double(client_cpu_ns) / (window_s * 1e9) : 0;
}

double Report::server_cpu_fraction() const {
    if (!has_server || window_s <= 0) return 0;
    return double(server_after.cpu_ns - server_before.cpu_ns) / (window_s * 1e9);
}

double Report::server_ns_per_op() const {
    if (!has_server || operations == 0) return 0;
    return double(server_after.cpu_ns - server_before.cpu_ns) / double(operations);
}

namespace {

double per_op(const Report& r, uint64_t before, uint64_t after) {
    if (!r.has_server || r.operations == 0 || after < before) return 0;
    return double(after - before) / double(r.operations);
}

}  // namespace

double Report::server_user_ns_per_op() const {
    return per_op(*this, server_before.user_ns, server_after.user_ns);
}

double Report::server_sys_ns_per_op() const {
    return per_op(*this, server_before.sys_ns, server_after.sys_ns);
}

double Report::syscalls_per_op() const {
    uint64_t ops = syscall_ops ? syscall_ops : operations;
    if (syscalls < 0 || ops == 0) return -1;
    return double(syscalls) / double(ops);
}

double Report::ctx_switches_per_op() const {
    return per_op(*this, server_before.ctx_voluntary + server_before.ctx_involuntary,
                  server_after.ctx_voluntary + server_after.ctx_involuntary);
}

double Report::voluntary_switches_per_op() const {
    return per_op(*this, server_before.ctx_voluntary, server_after.ctx_voluntary);
}

double Report::server_bytes_per_connection() const {
    if (!has_server || operations == 0) return 0;
    return (double(server_after.rss_bytes) - double(server_before.rss_bytes)) / double(operations);
}

const char* Report::unit() const {
    switch (options.scenario) {
    case Scenario::kEcho: return "echoes/s";
    case Scenario::kBroadcast: return "deliveries/s";
    case Scenario::kConnect: return "handshakes/s";
    case Scenario::kIdle: return "connections";
    case Scenario::kChat: return "deliveries/s";
    }
    return "";
}

void judge_bottleneck(Report& r) {
    if (r.options.scenario == Scenario::kIdle) return;  // nothing runs hot while idle
    if (r.client_cpu_fraction() > kClientBottleneck) {
        char buf[200];
        std::snprintf(buf, sizeof(buf),
                      "the client used %.0f%% of a core: it may be the bottleneck, so the rate "
                      "may understate the server",
                      r.client_cpu_fraction() * 100);
        r.warning = buf;
    }
}

namespace {

void add_cpu_lines(std::string& out, const Report& r) {
    const char* op = op_name(r.options.scenario);
    add(out, "  %-22s %.0f ns per %s: user %.0f + system %.0f  (%.0f%% of a core)\n", "server CPU",
        r.server_ns_per_op(), op, r.server_user_ns_per_op(), r.server_sys_ns_per_op(),
        r.server_cpu_fraction() * 100);
    if (r.syscalls_per_op() >= 0)
        add(out, "  %-22s %.3f per %s  (%s%s)\n", "server syscalls", r.syscalls_per_op(), op,
            r.syscall_tool.c_str(),
            r.syscall_tool == "strace" ? ", a separate window: slowed server" : "");
    else if (!r.syscall_note.empty())
        add(out, "  %-22s %s\n", "server syscalls", r.syscall_note.c_str());
    add(out, "  %-22s %.4f per %s  (voluntary %.4f: sleeps in the poller)\n", "server ctx switches",
        r.ctx_switches_per_op(), op, r.voluntary_switches_per_op());
}

}  // namespace

std::string format_table(const Report& r) {
    const Options& o = r.options;
    std::string out;
    std::string extra;
    if (o.scenario == Scenario::kBroadcast) extra = " p=" + std::to_string(o.publishers);
    if (o.scenario == Scenario::kChat) {
        char buf[64];
        std::snprintf(buf, sizeof(buf), " rooms=%u rate=%g/user", o.rooms, o.rate);
        extra = buf;
    }
    if (o.deflate) extra += o.deflate_no_context ? " deflate(no context)" : " deflate";
    if (o.scenario == Scenario::kEcho)
        extra += o.payload == PayloadKind::kRandom ? " random" : " compressible";
    add(out, "%-10s %s  %s:%u%s  c=%u s=%u d=%u%s\n", scenario_name(o.scenario), o.label.c_str(),
        o.host.c_str(), unsigned(o.port), o.path.c_str(), o.connections, o.size, o.depth,
        extra.c_str());
    if (!r.ok) {
        add(out, "  FAILED: %s\n", r.error.c_str());
        return out;
    }
    if (o.scenario == Scenario::kIdle) {
        add(out, "  %-22s %llu\n", "idle connections", (unsigned long long)r.operations);
    } else {
        add(out, "  %-22s %.0f  (%llu in %.2f s)\n", r.unit(), r.rate(),
            (unsigned long long)r.operations, r.window_s);
    }
    if (o.scenario == Scenario::kChat)
        add(out, "  %-22s %.0f  (%llu said)\n", "messages/s", double(r.published) / r.window_s,
            (unsigned long long)r.published);
    if (o.deflate) add(out, "  %-22s %.3f of the payload bytes\n", "on the wire", r.wire_ratio);
    if (r.has_latency) {
        const Histogram& h = r.latency;
        add(out, "  %-22s p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", "latency (us)",
            us(h.percentile(0.5)), us(h.percentile(0.9)), us(h.percentile(0.99)),
            us(h.percentile(0.999)), us(h.max()));
    }
    if (r.has_server) {
        if (o.scenario == Scenario::kIdle)
            add(out, "  %-22s %.0f\n", "server bytes/conn", r.server_bytes_per_connection());
        else
            add_cpu_lines(out, r);
        add(out, "  %-22s %.1f MiB -> %.1f MiB\n", "server RSS", double(r.server_before.rss_bytes) / 1048576,
            double(r.server_after.rss_bytes) / 1048576);
    } else {
        add(out, "  %-22s (no --server-pid: server CPU and memory not measured)\n", "server");
    }
    add(out, "  %-22s %.0f%% of a core\n", "client CPU", r.client_cpu_fraction() * 100);
    if (!r.warning.empty()) add(out, "  WARNING: %s\n", r.warning.c_str());
    return out;
}

std::string format_json(const Report& r) {
    const Options& o = r.options;
    std::string out;
    add(out, "{\"scenario\":\"%s\",\"server\":\"%s\",\"ok\":%s", scenario_name(o.scenario),
        json_escape(o.label).c_str(), r.ok ? "true" : "false");
    add(out, ",\"connections\":%u,\"size\":%u,\"depth\":%u,\"publishers\":%u,\"rate_target\":%.0f,"
             "\"binary\":%s,\"deflate\":\"%s\",\"payload\":\"%s\",\"rooms\":%u",
        o.connections, o.size, o.depth, o.publishers, o.rate, o.binary ? "true" : "false",
        !o.deflate ? "off" : o.deflate_no_context ? "no-context" : "on",
        o.payload == PayloadKind::kRandom ? "random" : "compressible", o.rooms);
    if (!r.ok) {
        add(out, ",\"error\":\"%s\"}", json_escape(r.error).c_str());
        return out;
    }
    add(out, ",\"window_s\":%.3f,\"operations\":%llu,\"rate\":%.1f,\"unit\":\"%s\"", r.window_s,
        (unsigned long long)r.operations, r.rate(), r.unit());
    if (o.scenario == Scenario::kBroadcast || o.scenario == Scenario::kChat)
        add(out, ",\"published\":%llu", (unsigned long long)r.published);
    if (o.deflate) add(out, ",\"wire_ratio\":%.4f", r.wire_ratio);
    if (r.has_latency) add_latency_json(out, r.latency);
    if (r.has_server)
        add(out, ",\"server_cpu_ns_per_op\":%.1f,\"server_cpu_fraction\":%.3f,\"server_rss_before\":%llu,"
                 "\"server_rss_after\":%llu,\"server_bytes_per_connection\":%.1f",
            r.server_ns_per_op(), r.server_cpu_fraction(), (unsigned long long)r.server_before.rss_bytes,
            (unsigned long long)r.server_after.rss_bytes, r.server_bytes_per_connection());
    if (r.has_server && o.scenario != Scenario::kIdle) {
        add(out, ",\"server_user_ns_per_op\":%.1f,\"server_sys_ns_per_op\":%.1f,"
                 "\"server_ctx_switches_per_op\":%.5f,\"server_voluntary_switches_per_op\":%.5f",
            r.server_user_ns_per_op(), r.server_sys_ns_per_op(), r.ctx_switches_per_op(),
            r.voluntary_switches_per_op());
        if (r.syscalls_per_op() >= 0)
            add(out, ",\"server_syscalls_per_op\":%.4f,\"syscalls_counted\":%lld,"
                     "\"syscalls_over_ops\":%llu",
                r.syscalls_per_op(), (long long)r.syscalls,
                (unsigned long long)(r.syscall_ops ? r.syscall_ops : r.operations));
        add(out, ",\"syscalls_from\":\"%s\"", r.syscall_tool.c_str());
        if (r.syscalls_per_op() < 0)
            add(out, ",\"syscalls_note\":\"%s\"", json_escape(r.syscall_note).c_str());
    }
    add(out, ",\"client_cpu_fraction\":%.3f,\"client_bottleneck\":%s", r.client_cpu_fraction(),
        r.warning.empty() ? "false" : "true");
    out += '}';
    return out;
}

}  // namespace epws::bench
