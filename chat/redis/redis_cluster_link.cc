// chat/redis/redis_cluster_link.cc: the bus thread on a Redis Cluster: the slot map from
// CLUSTER SLOTS, one command and one subscriber connection per master, commands routed by
// their key's slot and sent again on -MOVED / -ASK / -TRYAGAIN, and each room's sharded
// subscription (SSUBSCRIBE) at the master that owns its slot, moved when the slot moves.
// Layer: chat/. Design: docs/redis.md, Redis Cluster. The pure parts: redis_cluster.h.
#include <hiredis/async.h>

#include <algorithm>
#include <cstdio>

#include "chat/redis/hiredis_adapter.h"
#include "chat/redis/redis_bus.h"
#include "net/clock.h"

namespace epws::chat {
namespace {

constexpr uint32_t kMaxTries = 5;           // redirections and TRYAGAINs of one command
constexpr uint64_t kTryAgainUs = 20 * 1000; // a slot's keys are moving: ask again after this
// A channel no one publishes to: it keeps hiredis' subscriber mode on (see shard_subscribe()).
constexpr std::string_view kHoldChannel = "epws:hold";

std::string_view str_of(const redisReply* r) { return {r->str, r->len}; }

} // namespace

void RedisBus::connect_cluster() {
    // The seeds in turn, so one that is down does not keep the node from the others.
    size_t i = seed_turn_++ % config_.seeds.size();
    seed_address_ = seed_addresses_[i];
    if (!open(cmd_, seed_address_, config_.seeds[i].port)) {
        down_reason_ = "cannot create a connection";
        return;
    }
    hello(cmd_, true, "seed");
    slots_pending_ = true;
    command(cmd_, on_slots, nullptr, {"CLUSTER", "SLOTS"}, true);
}

void RedisBus::open_shards(const SlotMap& map) {
    slots_ = map;
    for (size_t i = 0; i < map.masters.size(); ++i) {
        auto s = std::make_unique<Shard>();
        s->node = map.masters[i];
        Shard& shard = *s;
        shards_.push_back(std::move(s));
        if (!open(shard.cmd, shard.node.host, shard.node.port) ||
            !open(shard.sub, shard.node.host, shard.node.port)) {
            down_reason_ = "cannot connect to master " + shard.node.host + ":" +
                           std::to_string(shard.node.port);
            return;
        }
        hello(shard.cmd, true, "cmd");
        hello(shard.sub, false, "sub");
        load_scripts(shard.cmd);
        // Direct messages use classic pub/sub, which a cluster forwards to every node: the
        // first master's subscriber takes them, the others hold a channel no one uses.
        if (i == 0) {
            command(shard.sub, on_dm, nullptr, {"SUBSCRIBE", kDmChannel}, false);
        } else {
            command(shard.sub, on_shard_push, nullptr, {"SUBSCRIBE", kHoldChannel}, false);
        }
    }
    shards_up_.store(shards_.size(), std::memory_order_relaxed); // a statistic
}

bool RedisBus::cluster_ready() const {
    if (!cmd_.connected || shards_.empty()) return false;
    return std::all_of(shards_.begin(), shards_.end(), [](const auto& s) {
        return s->cmd.connected && s->sub.connected && s->ready;
    });
}

int RedisBus::shard_index(const ClusterNode& node) const {
    for (size_t i = 0; i < shards_.size(); ++i)
        if (shards_[i]->node == node) return static_cast<int>(i);
    return -1;
}

void RedisBus::send_routed(Routed* r, Shard& s, bool asking) {
    // -ASK: the slot is moving and this key is at the target already; ASKING lets the target
    // answer the one command that follows it (the Redis Cluster specification).
    if (asking) command(s.cmd, nullptr, nullptr, {"ASKING"}, false);
    std::vector<std::string_view> args(r->args.begin(), r->args.end());
    if (!command(s.cmd, on_routed, r, args, true)) {
        delete r;
        down_reason_ = "cannot send to master " + s.node.host;
    }
}

void RedisBus::on_routed(redisAsyncContext* ac, void* reply, void* priv) {
    auto* self = static_cast<RedisBus*>(ac->data);
    std::unique_ptr<Routed> r(static_cast<Routed*>(priv));
    auto* rep = static_cast<redisReply*>(reply);
    if (rep != nullptr && rep->type == REDIS_REPLY_ERROR) {
        std::string_view e = str_of(rep);
        Redirect d;
        uint64_t now = net::monotonic_us();
        if (r->tries < kMaxTries && parse_redirect(e, d)) {
            self->replied(ac);
            ++r->tries;
            self->redirects_.fetch_add(1, std::memory_order_relaxed); // a statistic
            int to = self->shard_index(d.node);
            if (to < 0) {
                // A master we have no connection to (one added to the cluster): start again
                // from CLUSTER SLOTS; what this command did is read from the streams then.
                self->down_reason_ = "redirected to " + d.node.host + ":" +
                                     std::to_string(d.node.port) + ", a master not in the slot map";
                return;
            }
            if (d.kind == Redirect::Kind::kMoved) {
                // The slot is the target's now; the rest of the map has probably moved too.
                self->slots_.owner[d.slot] = static_cast<uint16_t>(to);
                self->refresh_slots(self->shards_[static_cast<size_t>(to)].get());
            }
            bool behind = std::any_of(self->deferred_.begin(), self->deferred_.end(),
                                      [&](auto& p) { return p.second->slot == r->slot; });
            // Behind a deferred command of the same slot: after it (an ASK is then asked again).
            if (behind) return self->defer(r.release(), now);
            return self->send_routed(r.release(), *self->shards_[static_cast<size_t>(to)],
                                     d.kind == Redirect::Kind::kAsk);
        }
        uint64_t limit = uint64_t{self->config_.timeout_ms} * 1000;
        if ((e.starts_with("TRYAGAIN") || e.starts_with("CLUSTERDOWN")) &&
            now - r->first_us < limit) {
            // A multi-key script while the slot's keys are split between two masters (a
            // migration under way), or a failover: the same command a little later, for as
            // long as a command may take.
            self->replied(ac);
            return self->defer(r.release(), now + kTryAgainUs);
        }
    }
    r->cb(ac, reply, r->priv);
}

void RedisBus::defer(Routed* r, uint64_t due) {
    for (auto& d : deferred_)
        if (d.second->slot == r->slot) due = std::max(due, d.first);
    deferred_.push_back({due, r});
}

void RedisBus::run_deferred(uint64_t now) {
    std::vector<std::pair<uint64_t, Routed*>> due;
    std::erase_if(deferred_, [&](auto& d) {
        if (d.first > now) return false;
        due.push_back(d);
        return true;
    });
    for (auto& d : due) {
        uint16_t owner = slots_.owner[d.second->slot];
        if (owner >= shards_.size()) {
            delete d.second;
            down_reason_ = "no master for slot " + std::to_string(d.second->slot);
            continue;
        }
        send_routed(d.second, *shards_[owner], false);
    }
}

void RedisBus::refresh_slots(Shard* via) {
    if (slots_pending_) {
        slots_again_ = true; // after the one in flight, which may predate the change
        return;
    }
    Conn& c = via != nullptr ? via->cmd : cmd_;
    slots_pending_ = command(c, on_slots, via, {"CLUSTER", "SLOTS"}, true);
}

void RedisBus::on_slots(redisAsyncContext* ac, void* reply, void* priv) {
    auto* self = static_cast<RedisBus*>(ac->data);
    self->replied(ac);
    if (reply == nullptr) return; // the connection is going
    self->slots_pending_ = false;
    auto* via = static_cast<Shard*>(priv);
    SlotMap map;
    std::string err;
    if (!parse_cluster_slots(static_cast<redisReply*>(reply),
                             via ? via->node.host : self->seed_address_, map, err)) {
        self->down_reason_ = "CLUSTER SLOTS: " + err;
        return;
    }
    if (!map.complete()) {
        self->down_reason_ = "the cluster does not serve every slot (CLUSTER SLOTS)";
        return;
    }
    if (self->shards_.empty()) {
        self->open_shards(map);
    } else {
        self->apply_slots(map);
    }
    if (self->slots_again_ && self->down_reason_.empty()) {
        self->slots_again_ = false;
        self->refresh_slots(via);
    }
}

void RedisBus::apply_slots(const SlotMap& map) {
    // Indices into our shards_, which keep their order for the connection's life.
    std::vector<uint16_t> index;
    for (const ClusterNode& n : map.masters) {
        int i = shard_index(n);
        if (i < 0) {
            down_reason_ = "the cluster's masters changed (" + n.host + ":" +
                           std::to_string(n.port) + " is new)";
            return;
        }
        index.push_back(static_cast<uint16_t>(i));
    }
    for (size_t slot = 0; slot < kClusterSlots; ++slot)
        slots_.owner[slot] = index[map.owner[slot]];
    reconcile_subscriptions();
}

void RedisBus::reconcile_subscriptions() {
    if (link_ != LinkState::kUp) return; // maybe_up() subscribes every room then
    for (size_t i = 0; i < rooms_state_.size(); ++i) {
        RoomState& r = *rooms_state_[i];
        if (!r.wanted) continue;
        int owner = slots_.owner[key_slot(r.keys.channel)];
        if (r.shard == owner) continue;
        auto id = static_cast<uint32_t>(i + 1);
        if (r.shard >= 0) {
            shard_unsubscribe(id); // where it was, if that master still holds it
            resubscribes_.fetch_add(1, std::memory_order_relaxed); // a statistic
        }
        shard_subscribe(id);
    }
}

void RedisBus::shard_subscribe(uint32_t id) {
    RoomState& r = room(id);
    uint16_t owner = slots_.owner[key_slot(r.keys.channel)];
    if (owner >= shards_.size()) return;
    Conn& sub = shards_[owner]->sub;
    r.shard = owner;
    channel_rooms_[r.keys.channel] = id;
    // hiredis 0.14 knows no sharded pub/sub: it hands a push to the callback its table holds for
    // the push's channel, and fills that table only from SUBSCRIBE. So a classic SUBSCRIBE to the
    // same name (on which no one publishes: the script uses SPUBLISH) makes the smessage and
    // ssubscribe pushes reach on_shard_push(), which tells them apart by their kind and channel.
    command(sub, on_shard_push, nullptr, {"SUBSCRIBE", r.keys.channel}, false);
    // The confirmation (ssubscribe) reads on from our copy: what was published between the
    // slot's move and now is in the stream (subscribed()).
    command(sub, on_shard_push, nullptr, {"SSUBSCRIBE", r.keys.channel}, false);
}

void RedisBus::shard_unsubscribe(uint32_t id) {
    RoomState& r = room(id);
    if (r.shard < 0 || static_cast<size_t>(r.shard) >= shards_.size()) return;
    Conn& sub = shards_[static_cast<size_t>(r.shard)]->sub;
    command(sub, on_shard_push, nullptr, {"SUNSUBSCRIBE", r.keys.channel}, false);
    command(sub, on_shard_push, nullptr, {"UNSUBSCRIBE", r.keys.channel}, false);
    r.shard = -1;
    channel_rooms_.erase(r.keys.channel);
}

void RedisBus::on_shard_push(redisAsyncContext* ac, void* reply, void*) {
    auto* self = static_cast<RedisBus*>(ac->data);
    auto* rep = static_cast<redisReply*>(reply);
    if (rep == nullptr) return;
    if (rep->type == REDIS_REPLY_ERROR) {
        // An SSUBSCRIBE that reached a master that no longer owns the slot: the answer names
        // the one that does.
        Redirect d;
        if (!parse_redirect(str_of(rep), d)) {
            std::fprintf(stderr, "epws: redis: subscription refused: %.*s\n",
                         static_cast<int>(rep->len), rep->str);
            return;
        }
        self->redirects_.fetch_add(1, std::memory_order_relaxed); // a statistic
        int to = self->shard_index(d.node);
        if (to < 0) {
            self->down_reason_ = "redirected to a master not in the slot map";
            return;
        }
        self->slots_.owner[d.slot] = static_cast<uint16_t>(to);
        for (auto& r : self->rooms_state_)
            if (r->wanted && r->shard >= 0 && key_slot(r->keys.channel) == d.slot) r->shard = -1;
        self->reconcile_subscriptions();
        return self->refresh_slots(self->shards_[static_cast<size_t>(to)].get());
    }
    PushMessage m;
    if (!decode_push(rep, m) || !m.sharded) return; // the classic twins' confirmations
    auto it = self->channel_rooms_.find(std::string(m.channel));
    if (it == self->channel_rooms_.end()) return;
    uint32_t id = it->second;
    RoomState& r = self->room(id);
    bool current = r.shard >= 0 && self->shards_[static_cast<size_t>(r.shard)]->sub.ctx == ac;
    if (!current) return; // from where the room was before it moved
    switch (m.kind) {
    case PushMessage::Kind::kMessage:
        return self->on_room_message(id, m.payload);
    case PushMessage::Kind::kSubscribe:
        return self->subscribed(id);
    case PushMessage::Kind::kUnsubscribe: {
        // Not asked for: the master gave the slot away (a migration, a failover) and ended its
        // subscriptions to it. Subscribe where the slot is now; the confirmation there reads
        // what was published meanwhile from the stream, and announces a gap if it was trimmed.
        Shard* via = self->shards_[static_cast<size_t>(r.shard)].get();
        r.shard = -1;
        self->resubscribes_.fetch_add(1, std::memory_order_relaxed); // a statistic
        return self->refresh_slots(via);
    }
    case PushMessage::Kind::kOther:
        return;
    }
}

} // namespace epws::chat
