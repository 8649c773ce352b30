// chat/connection_registry.cc: the id -> connection counters registry behind
// GET /api/connections. Layer: chat/.
#include "chat/connection_registry.h"

namespace epws::chat {

uint64_t ConnectionRegistry::add(uint32_t loop, std::string_view user,
                                 const ws::DeflateParams& deflate, uint64_t opened_ms,
                                 ws::ConnectionStats*& stats) {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t id = next_id_++;
    Entry& e = entries_[id];  // a fresh node: its counters start at 0
    e.loop = loop;
    e.user = user;
    e.deflate = deflate;
    e.opened_ms = opened_ms;
    stats = &e.stats;
    return id;
}

void ConnectionRegistry::remove(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.erase(id);
}

void ConnectionRegistry::copy(uint64_t id, const Entry& e, ConnectionView& out) {
    out.id = id;
    out.loop = e.loop;
    out.user = e.user;
    out.deflate = e.deflate;
    out.opened_ms = e.opened_ms;
    const ws::ConnectionStats& s = e.stats;
    out.messages_in = s.messages_in;
    out.messages_out = s.messages_out;
    out.wire_bytes_in = s.wire_bytes_in;
    out.wire_bytes_out = s.wire_bytes_out;
    out.payload_bytes_in = s.payload_bytes_in;
    out.payload_bytes_out = s.payload_bytes_out;
    out.compressed_bytes_in = s.compressed_bytes_in;
    out.compressed_bytes_out = s.compressed_bytes_out;
    out.ping_rtt_us = s.ping_rtt_us;
}

bool ConnectionRegistry::snapshot(uint64_t id, ConnectionView& out) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return false;
    copy(id, it->second, out);
    return true;
}

size_t ConnectionRegistry::list(size_t max, std::vector<ConnectionView>& out,
                                std::string_view user) const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    if (!user.empty()) {
        for (const auto& [id, e] : entries_) {
            if (e.user != user) continue;
            if (n++ < max) copy(id, e, out.emplace_back());
        }
        return n;
    }
    for (auto it = entries_.begin(); it != entries_.end() && n < max; ++it, ++n)
        copy(it->first, it->second, out.emplace_back());
    return entries_.size();
}

}  // namespace epws::chat
