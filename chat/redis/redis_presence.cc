// chat/redis/redis_presence.cc: presence across nodes: every ttl / 3 the bus thread stores this
// node's members of each room it serves under a key that expires after ttl, and reads the other
// nodes' lists back into the Room, so who and presence replies list every node's members, the
// changes reach this node's members as notices, and a crashed node's members disappear within
// the TTL. Layer: chat/. Design: docs/redis.md.
#include <hiredis/async.h>

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "chat/redis/redis_bus.h"
#include "chat/names.h"
#include "chat/protocol.h"
#include "chat/rooms.h"
#include "net/clock.h"

namespace epws::chat {
namespace {

constexpr size_t kMaxDmBytes = 64 * 1024;  // a dm event: a text of at most 4 KiB, escaped

}  // namespace

void RedisBus::presence_tick() {
    std::string ttl = std::to_string(config_.presence_ttl_ms);
    if (users_ != nullptr) {
        // The node's users, for direct messages from other nodes (the same script, keyed by
        // the set of nodes that report users).
        send_keyed(kUserNodes, on_users_reply, nullptr,
                   {"EVALSHA", presence_sha_, "1", kUserNodes, node_id_, encode_member_list(users_->names()),
                    ttl, kUserListPrefix});
    }
    if (rooms_ == nullptr) return;
    for (size_t i = 0; i < rooms_state_.size(); ++i) {
        RoomState& r = *rooms_state_[i];
        if (!r.wanted) continue;
        auto id = static_cast<uint32_t>(i + 1);
        Room* room = rooms_->by_id(id);
        if (room == nullptr) continue;
        std::string members = encode_member_list(room->local_members());
        send_keyed(r.keys.nodes, on_presence_reply, reinterpret_cast<void*>(uintptr_t{id}),
                   {"EVALSHA", presence_sha_, "1", r.keys.nodes, node_id_, members, ttl, r.keys.node});
    }
}

void RedisBus::on_users_reply(redisAsyncContext* ac, void* reply, void*) {
    auto* self = static_cast<RedisBus*>(ac->data);
    self->replied(ac);
    if (reply == nullptr) return;
    std::vector<std::string> names;
    std::string err;
    if (!decode_presence_reply(static_cast<redisReply*>(reply), names, err)) {
        std::fprintf(stderr, "epws: redis: bad user list reply: %s\n", err.c_str());
        return;
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::lock_guard<std::mutex> lock(self->remote_users_mu_);
    self->remote_users_ = std::move(names);
}

void RedisBus::on_dm(redisAsyncContext* ac, void* reply, void*) {
    auto* self = static_cast<RedisBus*>(ac->data);
    PushMessage m;
    if (reply == nullptr || !decode_push(static_cast<redisReply*>(reply), m) ||
        m.kind != PushMessage::Kind::kMessage || self->users_ == nullptr)
        return;
    std::string_view p = m.payload;
    size_t a = p.find('\n');
    size_t b = a == std::string_view::npos ? a : p.find('\n', a + 1);
    if (b == std::string_view::npos || p.size() - b - 1 > kMaxDmBytes) return;  // malformed
    if (p.substr(0, a) == self->node_id_) return;  // ours: delivered here already
    std::string_view to = p.substr(a + 1, b - a - 1);
    std::string_view json = p.substr(b + 1);
    if (!is_valid_user_name(to)) return;
    uint32_t id = self->users_->online_id(to);
    if (id == 0) return;  // not here
    RingEntry* e = RingEntry::make(Topic::kUser, id, ws::Opcode::kText,
                                   {reinterpret_cast<const std::byte*>(json.data()), json.size()});
    if (e != nullptr) self->to_ring(e, 0);
}

void RedisBus::clear_remote_presence() {
    {
        std::lock_guard<std::mutex> lock(remote_users_mu_);
        remote_users_.clear();
    }
    if (rooms_ == nullptr) return;
    for (size_t i = 0; i < rooms_state_.size(); ++i) {
        Room* room = rooms_state_[i]->wanted ? rooms_->by_id(static_cast<uint32_t>(i + 1)) : nullptr;
        if (room == nullptr) continue;
        // Not known any more: they leave, and join again when the link is back.
        std::vector<std::string> before = room->members();
        room->set_remote_members({});
        announce_changes(*room, before, room->members());
    }
}

void RedisBus::on_presence_reply(redisAsyncContext* ac, void* reply, void* priv) {
    auto* self = static_cast<RedisBus*>(ac->data);
    self->replied(ac);
    if (reply == nullptr || self->rooms_ == nullptr) return;
    auto id = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(priv));
    std::vector<std::string> names;
    std::string err;
    if (!decode_presence_reply(static_cast<redisReply*>(reply), names, err)) {
        std::fprintf(stderr, "epws: redis: room %s: bad presence reply: %s\n",
                     self->room(id).name.c_str(), err.c_str());
        return;
    }
    Room* room = self->rooms_->by_id(id);
    if (room == nullptr) return;
    std::vector<std::string> before = room->members();
    room->set_remote_members(std::move(names));
    self->announce_changes(*room, before, room->members());
}

void RedisBus::announce_changes(Room& room, const std::vector<std::string>& before,
                                const std::vector<std::string>& after) {
    // Who came or went on other nodes, told to this node's members as join and leave notices
    // (no presence number: every member that is not waiting for its join's answer gets them).
    // Both lists are sorted.
    std::vector<std::string> came, went;
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(came));
    std::set_difference(before.begin(), before.end(), after.begin(), after.end(), std::back_inserter(went));
    uint64_t now = net::wall_ms();
    std::string json;
    auto notice = [&](const std::string& user, bool joined) {
        json.clear();
        if (joined) {
            encode_join(json, room.name(), user, now);
        } else {
            encode_leave(json, room.name(), user, now);
        }
        RingEntry* e = RingEntry::make(Topic::kRoom, room.id(), ws::Opcode::kText,
                                       {reinterpret_cast<const std::byte*>(json.data()), json.size()});
        if (e != nullptr) to_ring(e, 0);
    };
    for (const std::string& u : came) notice(u, true);
    for (const std::string& u : went) notice(u, false);
}

}  // namespace epws::chat
