// chat/endpoints/chat_presence.cc: presence notices, one per room per loop round however many
// joined or left, and the expiry of idle rooms. Layer: chat/.
#include <algorithm>

#include "chat/endpoints/chat_endpoint.h"
#include "net/clock.h"

namespace epws::chat {
namespace {

std::span<const std::byte> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Sweeps at most this often, and at least twice per idle time: an empty room lives at most
// 1.5 idle times (the lazy sweep at a full server does not wait for it).
constexpr uint64_t kMaxSweepIntervalMs = 5000;
constexpr uint64_t kMinSweepIntervalMs = 100;

// Publishes a room's waiting changes as one presence_change event (Room::publish_changes: under
// the room's lock, so the notices of every loop enter the bus in number order). Kept in the
// outbox when the bus refuses it, behind this loop's earlier publications.
class PresencePublication final : public Publication {
public:
    PresencePublication(Room& room, size_t max_names, uint32_t origin)
        : room_(room), max_names_(max_names), origin_(origin) {}

    bool try_publish(Bus& bus) override {
        thread_local std::string json;  // one scratch per thread; the entry holds its own copy
        bool waiting = room_.publish_changes(max_names_, [&](const PresenceChange& c, uint64_t n) {
            std::vector<std::string_view> joined(c.joined.begin(), c.joined.end());
            std::vector<std::string_view> left(c.left.begin(), c.left.end());
            json.clear();
            encode_presence_change(json, room_.name(), joined, left, c.omitted, c.count, net::wall_ms());
            RingEntry* e = RingEntry::make(Topic::kRoom, room_.id(), ws::Opcode::kText, as_bytes(json));
            if (e == nullptr) return false;
            // No seq (the room's sequence is for messages), but the notice's number, so a
            // member that joined after it (its presence reply covered it) skips it.
            e->presence = n;
            e->origin = origin_;
            if (bus.publish(e)) return true;
            e->release();
            return false;
        });
        return !waiting;
    }

private:
    Room& room_;  // never freed before the registry; with changes waiting it cannot expire
    size_t max_names_;
    uint32_t origin_;
};

}  // namespace

void ChatEndpoint::publish_presence() {
    if (dirty_rooms_.empty()) return;
    // Several joins and leaves of a room in one round: one notice (another loop may even have
    // announced them already: then there is nothing left to publish).
    std::sort(dirty_rooms_.begin(), dirty_rooms_.end());
    dirty_rooms_.erase(std::unique(dirty_rooms_.begin(), dirty_rooms_.end()), dirty_rooms_.end());
    size_t kept = 0;
    for (uint32_t id : dirty_rooms_) {
        Room* room = shared_.rooms.by_id(id);
        if (room == nullptr) continue;
        auto p = std::make_unique<PresencePublication>(*room, shared_.config.protocol.max_presence_names,
                                                       static_cast<uint32_t>(loop_index_));
        // A full retry queue loses nothing: the changes wait in the room, and the room here
        // for the next round.
        if (!outbox_.publish(std::move(p))) dirty_rooms_[kept++] = id;
    }
    dirty_rooms_.resize(kept);
}

void ChatEndpoint::sweep_rooms(uint64_t now_ms) {
    const ChatConfig& cfg = shared_.config;
    uint64_t ttl = cfg.room_idle_ttl_ms;
    next_sweep_ms_ = now_ms + std::clamp<uint64_t>(ttl / 2, kMinSweepIntervalMs, kMaxSweepIntervalMs);
    shared_.rooms.sweep(now_ms, ttl, [this](uint32_t id) { shared_.bus.forget_room(id); });
    shared_.users.sweep(now_ms, cfg.room_create_rate, cfg.room_create_burst);
}

}  // namespace epws::chat
