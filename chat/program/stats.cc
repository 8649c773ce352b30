// chat/program/stats.cc: the /stats document. Layer: chat/program/.
#include "chat/program/stats.h"

#include <algorithm>
#include <cstdint>
#include <functional>

namespace epws::chat {

std::string stats_json(const std::vector<const ws::ServerStats*>& loops, const Bus& bus,
                       const net::OutputBudget& budget, RoomRegistry& rooms) {
    std::string out = "{";
    auto field = [&](const char* name, const std::function<uint64_t(const ws::ServerStats&)>& get) {
        uint64_t sum = 0;
        for (const ws::ServerStats* s : loops)
            if (s != nullptr) sum += get(*s);
        if (out.size() > 1) out += ",";
        out += "\"";
        out += name;
        out += "\":" + std::to_string(sum);
    };
    using S = ws::ServerStats;
    field("connections", [](const S& s) { return s.websockets; });
    field("accepted", [](const S& s) { return s.accepted; });
    field("handshakes", [](const S& s) { return s.handshakes; });
    field("rejected_handshakes", [](const S& s) { return s.rejected_handshakes; });
    field("http_requests", [](const S& s) { return s.http_requests; });
    field("bad_requests", [](const S& s) { return s.bad_requests; });
    field("rejected_over_capacity", [](const S& s) { return s.rejected_over_capacity; });
    field("rejected_per_ip", [](const S& s) { return s.rejected_per_ip; });
    field("rejected_fd_limit", [](const S& s) { return s.rejected_fd_limit; });
    field("handshake_timeouts", [](const S& s) { return s.handshake_timeouts; });
    field("tls_handshakes", [](const S& s) { return s.tls_handshakes; });
    field("tls_handshake_failures", [](const S& s) { return s.tls_handshake_failures; });
    field("tls_handshake_timeouts", [](const S& s) { return s.tls_handshake_timeouts; });
    field("idle_timeouts", [](const S& s) { return s.idle_timeouts; });
    field("close_timeouts", [](const S& s) { return s.close_timeouts; });
    field("send_timeouts", [](const S& s) { return s.send_timeouts; });
    field("protocol_errors", [](const S& s) { return s.protocol_errors; });
    field("closed_output_overflow", [](const S& s) { return s.closed_output_overflow; });
    field("closed_over_budget", [](const S& s) { return s.closed_over_budget; });
    field("messages_in", [](const S& s) { return s.messages_in; });
    field("messages_out", [](const S& s) { return s.messages_out; });
    field("deflate_negotiated", [](const S& s) { return s.deflate.negotiated; });
    field("deflate_messages_inflated", [](const S& s) { return s.deflate.messages_inflated; });
    field("deflate_inflate_in_bytes", [](const S& s) { return s.deflate.inflate_in_bytes; });
    field("deflate_inflate_out_bytes", [](const S& s) { return s.deflate.inflate_out_bytes; });
    field("deflate_messages_deflated", [](const S& s) { return s.deflate.messages_deflated; });
    field("deflate_deflate_in_bytes", [](const S& s) { return s.deflate.deflate_in_bytes; });
    field("deflate_deflate_out_bytes", [](const S& s) { return s.deflate.deflate_out_bytes; });
    field("deflate_frames_reused", [](const S& s) { return s.deflate.frames_reused; });
    field("deflate_dedicated_streams", [](const S& s) { return s.deflate.dedicated_streams; });
    field("deflate_zlib_bytes", [](const S& s) { return s.deflate.zlib.bytes; });
    for (size_t c = 0; c < net::kCloseCauseCount; ++c) {
        uint64_t sum = 0;
        for (const ws::ServerStats* st : loops)
            if (st != nullptr) sum += st->closes[c];
        out += ",\"closes_";
        out += net::close_cause_name(static_cast<net::CloseCause>(c));
        out += "\":" + std::to_string(sum);
    }
    field("loops", [](const S&) { return uint64_t{1}; });
    out += ",\"ring_published\":" + std::to_string(bus.published());
    out += ",\"ring_wakeups\":" + std::to_string(bus.wakeups());
    out += ",\"output_budget_used_bytes\":" + std::to_string(std::max<int64_t>(0, budget.used()));
    out += ",\"output_budget_bytes\":" + std::to_string(budget.limit());
    out += ",\"rooms\":" + std::to_string(rooms.size());
    out += ",\"rooms_created\":" + std::to_string(rooms.created());
    out += ",\"rooms_expired\":" + std::to_string(rooms.expired());
    out += ",\"rooms_create_refused\":" + std::to_string(rooms.create_refused());
    bus.append_stats(out);
    return out + "}\n";
}

}  // namespace epws::chat
