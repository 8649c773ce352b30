// chat/redis/redis_presence.cc: presence across nodes: every ttl / 3 the bus thread stores this
// node's members of each room it serves under a key that expires after ttl, and reads the other
// nodes' lists back into the Room, so who and presence replies list every node's members and a
// crashed node's members disappear within the TTL. Layer: chat/. Design: docs/redis.md.
#include <hiredis/async.h>

#include <cstdio>

#include "chat/redis/redis_bus.h"
#include "chat/rooms.h"

namespace epws::chat {

void RedisBus::presence_tick() {
    if (rooms_ == nullptr) return;
    std::string ttl = std::to_string(config_.presence_ttl_ms);
    for (size_t i = 0; i < rooms_state_.size(); ++i) {
        RoomState& r = *rooms_state_[i];
        if (!r.wanted) continue;
        auto id = static_cast<uint32_t>(i + 1);
        Room* room = rooms_->by_id(id);
        if (room == nullptr) continue;
        std::string members = encode_member_list(room->local_members());
        command(cmd_, on_presence_reply, reinterpret_cast<void*>(uintptr_t{id}),
                {"EVALSHA", presence_sha_, "1", r.keys.nodes, node_id_, members, ttl, r.keys.node}, true);
    }
}

void RedisBus::clear_remote_presence() {
    if (rooms_ == nullptr) return;
    for (size_t i = 0; i < rooms_state_.size(); ++i)
        if (rooms_state_[i]->wanted)
            if (Room* room = rooms_->by_id(static_cast<uint32_t>(i + 1))) room->set_remote_members({});
}

void RedisBus::on_presence_reply(redisAsyncContext* ac, void* reply, void* priv) {
    auto* self = static_cast<RedisBus*>(ac->data);
    self->replied();
    if (reply == nullptr || self->rooms_ == nullptr) return;
    auto id = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(priv));
    std::vector<std::string> names;
    std::string err;
    if (!decode_presence_reply(static_cast<redisReply*>(reply), names, err)) {
        std::fprintf(stderr, "epws: redis: room %s: bad presence reply: %s\n",
                     self->room(id).name.c_str(), err.c_str());
        return;
    }
    if (Room* room = self->rooms_->by_id(id)) room->set_remote_members(std::move(names));
}

}  // namespace epws::chat
