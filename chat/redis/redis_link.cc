// chat/redis/redis_link.cc: the bus thread's two Redis connections: connecting, the hello
// (AUTH, SELECT, SCRIPT LOAD), subscriptions, timeouts, and reconnecting with backoff and
// jitter. Layer: chat/. The rooms' side: redis_bus.cc.
#include <hiredis/async.h>
#include <unistd.h>

#include <cstdio>

#include "chat/redis/hiredis_adapter.h"
#include "chat/redis/redis_bus.h"
#include "net/clock.h"

namespace epws::chat {
namespace {

// What a hello or keepalive reply answers (its privdata).
enum Step : uintptr_t { kAuth = 1, kLoadPublish, kLoadSync, kLoadPresence, kPing, kSubAuth, kKeepalive };

constexpr uint64_t kKeepaliveUs = 1000 * 1000;  // a PING when the command link is idle this long
constexpr uint64_t kFirstBackoffUs = 100 * 1000;
constexpr uint64_t kMaxBackoffUs = 5000 * 1000;

void* as_priv(uintptr_t v) { return reinterpret_cast<void*>(v); }
uintptr_t of_priv(void* p) { return reinterpret_cast<uintptr_t>(p); }

std::string_view str_of(const redisReply* r) { return {r->str, r->len}; }

}  // namespace

int RedisBus::before_wait() {
    retired_.clear();  // adapters hiredis let go of during the last batch
    if (stopping_.load(std::memory_order_acquire)) {
        teardown(nullptr);
        loop_->stop();
        return 0;
    }
    take_requests();
    uint64_t now = net::monotonic_us();
    check_timeouts(now);
    if (!down_reason_.empty()) {
        std::string why = std::move(down_reason_);  // teardown() clears it
        teardown(why.c_str());
    }
    if (link_ == LinkState::kDown && now >= retry_at_us_) connect();
    if (link_ == LinkState::kUp && now - last_presence_us_ >= uint64_t{config_.presence_ttl_ms} * 1000 / 3) {
        last_presence_us_ = now;
        presence_tick();
    }
    if (link_ == LinkState::kUp && now - last_ping_us_ >= kKeepaliveUs) {
        last_ping_us_ = now;
        if (cmd_.inflight_us.empty()) command(cmd_, on_hello, as_priv(kKeepalive), {"PING"}, true);
        for (auto& s : shards_)
            if (s->cmd.inflight_us.empty()) command(s->cmd, on_hello, as_priv(kKeepalive), {"PING"}, true);
    }
    if (!deferred_.empty()) run_deferred(now);
    if (cmd_.adapter) cmd_.adapter->flush();
    if (sub_.adapter) sub_.adapter->flush();
    for (auto& s : shards_) {
        if (s->cmd.adapter) s->cmd.adapter->flush();
        if (s->sub.adapter) s->sub.adapter->flush();
    }
    flush_backlog();
    if (!backlog_.empty()) return 1;  // the loops are behind: try the ring again soon
    if (!deferred_.empty()) return 10;  // a TRYAGAIN: send it again soon
    if (link_ == LinkState::kDown) return static_cast<int>((retry_at_us_ - std::min(now, retry_at_us_)) / 1000 + 1);
    return -1;  // the loop's 250 ms tick runs this again for the timeouts
}

void RedisBus::take_requests() {
    taken_.clear();
    {
        std::lock_guard<std::mutex> lock(requests_mu_);
        taken_.swap(requests_);
    }
    for (Request& r : taken_) handle(r);
}

void RedisBus::handle(Request& req) {
    if (req.kind == Request::Kind::kDm) {
        // "<node>\n<to>\n<dm event>": every node gets it; the recipient's deliver it, and the
        // sender's own node skips it (its copy went out locally).
        if (link_ != LinkState::kUp) return (void)unsent_.fetch_add(1, std::memory_order_relaxed);
        std::string payload = node_id_ + "\n" + req.name + "\n" + req.body;
        command(cmd_, on_publish_reply, nullptr, {"PUBLISH", kDmChannel, payload}, true);
        return;
    }
    RoomState& r = room(req.room);
    if (r.name.empty() && !req.name.empty()) {
        r.name = req.name;
        r.keys = room_keys(r.name);
    }
    switch (req.kind) {
    case Request::Kind::kSubscribe:
        if (r.wanted) return;
        r.wanted = true;
        if (link_ == LinkState::kUp) subscribe(req.room);
        return;
    case Request::Kind::kPublish:
        if (link_ != LinkState::kUp) {
            unsent_.fetch_add(1, std::memory_order_relaxed);  // lost between the check and now
            return;
        }
        // Behind the room's first sync on the same connection, if that is still under way, so
        // Redis numbers it after the point that answers its sender's join.
        send_publish(req.room, req.body);
        return;
    case Request::Kind::kDm:
        return;  // handled above
    case Request::Kind::kCatchUp:
        // Read on from our last seq; the reply answers the waiting reads (apply_sync()).
        if (link_ == LinkState::kUp && r.synced && !r.syncing) start_sync(req.room);
        return;
    case Request::Kind::kForget:
        if (r.wanted && link_ == LinkState::kUp) {
            if (cluster()) {
                shard_unsubscribe(req.room);
            } else {
                command(sub_, on_push, as_priv(req.room), {"UNSUBSCRIBE", r.keys.channel}, false);
            }
        }
        r.wanted = r.syncing = false;
        r.buffered.clear();
        r.refill = false;
        r.epoch.clear();
        std::lock_guard<std::mutex> lock(r.mu);
        r.history.clear();
        r.synced = r.requested = false;
        return;
    }
}

bool RedisBus::command(Conn& c, void (*cb)(redisAsyncContext*, void*, void*), void* priv,
                       const std::vector<std::string_view>& args, bool timed) {
    if (c.ctx == nullptr) return false;
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (std::string_view a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    if (redisAsyncCommandArgv(c.ctx, cb, priv, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK)
        return false;
    if (timed) c.inflight_us.push_back(net::monotonic_us());
    return true;
}

bool RedisBus::send_keyed(std::string_view key, void (*cb)(redisAsyncContext*, void*, void*), void* priv,
                          const std::vector<std::string_view>& args) {
    if (!cluster()) return command(cmd_, cb, priv, args, true);
    uint16_t slot = key_slot(key);
    uint16_t owner = slots_.owner.empty() ? SlotMap::kNoOwner : slots_.owner[slot];
    if (owner >= shards_.size()) {
        down_reason_ = "no master for slot " + std::to_string(slot);  // read again after reconnecting
        return false;
    }
    auto* r = new Routed{cb, priv, std::vector<std::string>(args.begin(), args.end()), slot, net::monotonic_us()};
    if (std::any_of(deferred_.begin(), deferred_.end(), [&](auto& d) { return d.second->slot == slot; })) {
        defer(r, r->first_us);
    } else {
        send_routed(r, *shards_[owner], false);
    }
    return true;
}

RedisBus::Conn* RedisBus::conn_of(const redisAsyncContext* ac) {
    if (ac == nullptr) return nullptr;
    if (ac == cmd_.ctx) return &cmd_;
    if (ac == sub_.ctx) return &sub_;
    for (auto& s : shards_) {
        if (ac == s->cmd.ctx) return &s->cmd;
        if (ac == s->sub.ctx) return &s->sub;
    }
    return nullptr;
}

void RedisBus::replied(const redisAsyncContext* ac) {
    Conn* c = conn_of(ac);
    if (c == nullptr || c->inflight_us.empty()) return;
    // relaxed: a statistic.
    latency_us_.store(net::monotonic_us() - c->inflight_us.front(), std::memory_order_relaxed);
    c->inflight_us.pop_front();
}

std::string RedisBus::fresh_epoch() {
    // A new random candidate with every command: if Redis lost a room, the epoch it takes
    // then differs from every one it had (docs/redis.md, Epoch); 64 bits make a repeat moot.
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(random_()));
    return hex;
}

void RedisBus::send_publish(uint32_t id, const std::string& body) {
    RoomState& r = room(id);
    std::string maxlen = std::to_string(std::max<size_t>(config_.history, 1));
    std::string floor = std::to_string(r.history.last());  // only this thread writes it
    send_keyed(r.keys.meta, on_publish_reply, nullptr,
               {"EVALSHA", publish_sha_, "3", r.keys.meta, r.keys.log, r.keys.channel, maxlen, body,
                floor, fresh_epoch()});
}

void RedisBus::subscribe(uint32_t id) {
    // A room new to this node is read at once (its tail, on the command connection), not after
    // the subscription is confirmed: the joins waiting for it then start at a point just after
    // their request, and what is published between that read and the subscription taking
    // effect is read on afterwards (on_push, apply_sync). docs/redis.md, Reads.
    if (!room(id).synced) start_sync(id);
    if (cluster()) return shard_subscribe(id);
    command(sub_, on_push, as_priv(id), {"SUBSCRIBE", room(id).keys.channel}, false);
}

void RedisBus::start_sync(uint32_t id) {
    RoomState& r = room(id);
    r.syncing = true;
    // The bus thread writes synced and history; it reads them without the lock.
    std::string from = r.synced ? std::to_string(r.history.last() + 1) : "0";
    std::string count = std::to_string(std::max<size_t>(config_.history, 1));
    std::string floor = std::to_string(r.history.last());
    send_keyed(r.keys.meta, on_sync_reply, as_priv(id),
               {"EVALSHA", sync_sha_, "2", r.keys.meta, r.keys.log, from, count, floor, fresh_epoch()});
}

bool RedisBus::open(Conn& c, const std::string& host, uint16_t port) {
    c.connected = false;
    c.inflight_us.clear();
    c.ctx = redisAsyncConnect(host.c_str(), port);
    if (c.ctx == nullptr) return false;
    if (c.ctx->err) {
        std::fprintf(stderr, "epws: redis: %s\n", c.ctx->errstr);
        redisAsyncFree(c.ctx);
        c.ctx = nullptr;
        return false;
    }
    c.ctx->data = this;
    c.budget = ReplyBudget{reply_limits_};
    bound_replies(c.ctx->c.reader, &c.budget);
    redisAsyncSetConnectCallback(c.ctx, on_connect);
    redisAsyncSetDisconnectCallback(c.ctx, on_disconnect);
    c.adapter = std::make_unique<HiredisAdapter>(*loop_, c.ctx, reply_limits_.max_bytes);
    return c.adapter->attach();
}

void RedisBus::connect() {
    link_ = LinkState::kConnecting;
    link_state_.store(static_cast<uint8_t>(link_), std::memory_order_relaxed);  // a flag
    hello_done_ = false;
    connect_started_us_ = net::monotonic_us();
    if (cluster()) return connect_cluster();
    if (!open(cmd_, address_, config_.url.port) || !open(sub_, address_, config_.url.port)) {
        down_reason_ = "cannot create a connection";
        return;
    }
    hello(cmd_, true, "cmd");
    hello(sub_, false, "sub");
    load_scripts(cmd_);
}

void RedisBus::load_scripts(Conn& c) {
    // On a cluster each master runs the scripts, so each loads them; the SHA1s are the same.
    command(c, on_hello, as_priv(kLoadPublish),
            {"SCRIPT", "LOAD", cluster() ? kShardedPublishScript : kPublishScript}, true);
    command(c, on_hello, as_priv(kLoadSync), {"SCRIPT", "LOAD", kSyncScript}, true);
    command(c, on_hello, as_priv(kLoadPresence), {"SCRIPT", "LOAD", kPresenceScript}, true);
    command(c, on_hello, as_priv(kPing), {"PING"}, true);
}

void RedisBus::hello(Conn& c, bool timed, const char* role) {
    const RedisUrl& u = config_.url;
    void* step = as_priv(timed ? kAuth : kSubAuth);
    if (!u.password.empty()) {
        if (u.user.empty()) {
            command(c, on_hello, step, {"AUTH", u.password}, timed);
        } else {
            command(c, on_hello, step, {"AUTH", u.user, u.password}, timed);
        }
    }
    if (u.db != 0) command(c, on_hello, step, {"SELECT", std::to_string(u.db)}, timed);
    // Named, so an operator's CLIENT LIST tells the nodes and their connections apart.
    std::string name = "epws:" + std::to_string(getpid()) + ":" + role;
    command(c, on_hello, step, {"CLIENT", "SETNAME", name}, timed);
}

void RedisBus::retire(Conn& c) {
    if (c.adapter) retired_.push_back(std::move(c.adapter));
    c.connected = false;
}

void RedisBus::teardown(const char* why) {
    down_reason_.clear();
    bool was_up = link_ == LinkState::kUp;
    std::vector<Conn*> conns{&cmd_, &sub_};
    for (auto& s : shards_) conns.insert(conns.end(), {&s->cmd, &s->sub});
    for (Conn* c : conns) {
        redisAsyncContext* ctx = c->ctx;
        c->ctx = nullptr;  // its callbacks, run by the free below, find no connection of ours
        c->inflight_us.clear();
        if (ctx != nullptr) redisAsyncFree(ctx);
        retire(*c);
    }
    shards_.clear();  // their adapters wait in retired_
    slots_ = SlotMap{};
    slots_pending_ = slots_again_ = false;
    channel_rooms_.clear();
    for (auto& d : deferred_) delete d.second;
    deferred_.clear();
    shards_up_.store(0, std::memory_order_relaxed);  // a statistic
    for (auto& r : rooms_state_) {
        // Whatever was under way is read again from the stream after the next connect.
        r->syncing = r->refill = false;
        r->shard = -1;
        r->buffered.clear();
    }
    if (link_ == LinkState::kDown && why == nullptr) return;
    if (link_ == LinkState::kUp) clear_remote_presence();  // not known any more
    link_ = LinkState::kDown;
    link_state_.store(static_cast<uint8_t>(link_), std::memory_order_relaxed);  // a flag
    if (why == nullptr) return;  // stopping
    if (was_up) disconnects_.fetch_add(1, std::memory_order_relaxed);  // a statistic
    // Exponential backoff with jitter, so a fleet of nodes does not reconnect in step.
    uint64_t base = std::min(kMaxBackoffUs, kFirstBackoffUs << std::min<uint32_t>(attempts_, 6));
    uint64_t wait = base / 2 + random_() % (base / 2 + 1);
    retry_at_us_ = net::monotonic_us() + wait;
    if (attempts_ == 0 || was_up)
        std::fprintf(stderr, "epws: redis: %s; reconnecting (backoff up to %llu ms)\n", why,
                     static_cast<unsigned long long>(kMaxBackoffUs / 1000));
    ++attempts_;
}

void RedisBus::maybe_up() {
    if (link_ != LinkState::kConnecting) return;
    if (cluster() ? !cluster_ready() : !cmd_.connected || !sub_.connected || !hello_done_) return;
    link_ = LinkState::kUp;
    link_state_.store(static_cast<uint8_t>(link_), std::memory_order_relaxed);  // a flag
    connects_.fetch_add(1, std::memory_order_relaxed);                           // a statistic
    attempts_ = 0;
    last_ping_us_ = net::monotonic_us();
    if (cluster()) {
        std::fprintf(stderr, "epws: redis: connected to a cluster of %zu masters\n", shards_.size());
    } else {
        std::fprintf(stderr, "epws: redis: connected to %s:%u\n", address_.c_str(), config_.url.port);
    }
    // Every room this node serves: subscribe again, and each subscription's confirmation reads
    // what the room's stream holds past our copy (the gap fill).
    for (size_t i = 0; i < rooms_state_.size(); ++i)
        if (rooms_state_[i]->wanted) subscribe(static_cast<uint32_t>(i + 1));
    last_presence_us_ = 0;  // report our members at once
    // Cluster: the first shard's subscriber took the DM channel in its hello (open_shards()).
    if (!cluster()) command(sub_, on_dm, nullptr, {"SUBSCRIBE", kDmChannel}, false);
}

void RedisBus::check_timeouts(uint64_t now) {
    uint64_t limit = uint64_t{config_.timeout_ms} * 1000;
    if (link_ == LinkState::kConnecting && now - connect_started_us_ > limit)
        down_reason_ = "no connection within the timeout";
    auto late = [&](const Conn& c) { return !c.inflight_us.empty() && now - c.inflight_us.front() > limit; };
    bool any = late(cmd_);
    for (auto& s : shards_) any = any || late(s->cmd);
    if (any) down_reason_ = "no answer within the timeout";
}

// ---- hiredis callbacks (on the bus thread, inside redisAsyncHandleRead / Write / Free) ----

void RedisBus::on_connect(const redisAsyncContext* ac, int status) {
    auto* self = static_cast<RedisBus*>(ac->data);
    Conn* c = self->conn_of(ac);
    if (c == nullptr) return;
    if (status != REDIS_OK) {
        // hiredis frees the context after this callback.
        c->ctx = nullptr;
        self->retire(*c);
        self->down_reason_ = std::string("connect: ") + (ac->errstr ? ac->errstr : "failed");
        return;
    }
    c->connected = true;
    self->maybe_up();
}

void RedisBus::on_disconnect(const redisAsyncContext* ac, int) {
    auto* self = static_cast<RedisBus*>(ac->data);
    Conn* c = self->conn_of(ac);
    if (c == nullptr) return;  // one we freed ourselves
    c->ctx = nullptr;          // hiredis frees it after this callback
    self->retire(*c);
    self->down_reason_ = "connection lost";
}

void RedisBus::on_hello(redisAsyncContext* ac, void* reply, void* priv) {
    auto* self = static_cast<RedisBus*>(ac->data);
    auto step = static_cast<Step>(of_priv(priv));
    if (step != kSubAuth) self->replied(ac);
    auto* r = static_cast<redisReply*>(reply);
    if (r == nullptr) return;  // the connection is going
    if (r->type == REDIS_REPLY_ERROR) {
        self->down_reason_ = "Redis refused the hello: " + std::string(str_of(r));
        return;
    }
    if (step == kLoadPublish || step == kLoadSync || step == kLoadPresence) {
        if (r->type != REDIS_REPLY_STRING || r->len != 40) {
            self->down_reason_ = "SCRIPT LOAD: not a SHA1";
            return;
        }
        std::string& sha = step == kLoadPublish ? self->publish_sha_
                           : step == kLoadSync  ? self->sync_sha_
                                                : self->presence_sha_;
        sha = std::string(str_of(r));
    }
    if (step == kPing) {
        self->hello_done_ = true;
        for (auto& s : self->shards_)
            if (s->cmd.ctx == ac) s->ready = true;
        self->maybe_up();
    }
}

void RedisBus::on_publish_reply(redisAsyncContext* ac, void* reply, void*) {
    auto* self = static_cast<RedisBus*>(ac->data);
    self->replied(ac);
    auto* r = static_cast<redisReply*>(reply);
    if (r == nullptr || r->type != REDIS_REPLY_ERROR) return;
    // relaxed: a statistic. The first few are said; a flood would bury the log.
    if (self->publish_errors_.fetch_add(1, std::memory_order_relaxed) < 10)
        std::fprintf(stderr, "epws: redis: publish refused: %.*s\n", static_cast<int>(r->len), r->str);
}

void RedisBus::on_sync_reply(redisAsyncContext* ac, void* reply, void* priv) {
    auto* self = static_cast<RedisBus*>(ac->data);
    self->replied(ac);
    auto id = static_cast<uint32_t>(of_priv(priv));
    if (reply == nullptr) return;
    SyncReply s;
    std::string err;
    if (!decode_sync_reply(static_cast<redisReply*>(reply), s, err)) {
        std::fprintf(stderr, "epws: redis: room %s: bad sync reply: %s\n", self->room(id).name.c_str(),
                     err.c_str());
        self->down_reason_ = "a bad sync reply";
        return;
    }
    self->apply_sync(id, s);
}

void RedisBus::on_push(redisAsyncContext* ac, void* reply, void* priv) {
    auto* self = static_cast<RedisBus*>(ac->data);
    PushMessage m;
    if (reply == nullptr || !decode_push(static_cast<redisReply*>(reply), m)) return;
    auto id = static_cast<uint32_t>(of_priv(priv));
    if (id == 0 || id > self->rooms_state_.size()) return;
    if (m.kind == PushMessage::Kind::kSubscribe) return self->subscribed(id);
    if (m.kind == PushMessage::Kind::kMessage) self->on_room_message(id, m.payload);
}

void RedisBus::subscribed(uint32_t id) {
    // From now on every message comes this way; read what came before it from the stream.
    RoomState& r = room(id);
    if (!r.synced) {
        r.refill = true;  // after the first sync, which is under way
        return;
    }
    start_sync(id);
}

}  // namespace epws::chat
