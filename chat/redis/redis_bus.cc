// chat/redis/redis_bus.cc: the loops' side of the Redis bus (queues to the bus thread, reads
// from each room's copy, replies in drain order) and what the bus thread does with a room's
// messages once Redis has numbered them. Layer: chat/. The connections: redis_link.cc.
#include "chat/redis/redis_bus.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>

#include "chat/protocol.h"
#include "chat/redis/hiredis_adapter.h"
#include "chat/rooms.h"
#include "net/clock.h"

namespace epws::chat {

namespace {

// The one blocking lookup, before any loop runs: the bus thread then connects to a numeric
// address, which hiredis' own getaddrinfo() answers without asking anyone.
bool resolve(const std::string& name, const char* flag, std::string& out, std::string& err) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = getaddrinfo(name.c_str(), nullptr, &hints, &res); rc != 0)
        return err = std::string(flag) + ": cannot resolve " + name + ": " + gai_strerror(rc), false;
    char host[NI_MAXHOST];
    int rc = getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof host, nullptr, 0, NI_NUMERICHOST);
    freeaddrinfo(res);
    if (rc != 0) return err = std::string(flag) + ": getnameinfo: " + gai_strerror(rc), false;
    out = host;
    return true;
}

}  // namespace

std::unique_ptr<RedisBus> RedisBus::create(const RedisBusConfig& config, std::string& err) {
    std::unique_ptr<RedisBus> bus(new RedisBus(config));
    if (!resolve(config.url.host, config.seeds.empty() ? "--redis" : "--redis-cluster", bus->address_, err))
        return nullptr;
    for (const RedisUrl& seed : config.seeds) {
        std::string a;
        if (!resolve(seed.host, "--redis-cluster", a, err)) return nullptr;
        bus->seed_addresses_.push_back(std::move(a));
    }
    bus->loop_ = net::Loop::create(err);
    if (!bus->loop_) return nullptr;
    bus->notifier_ = net::Notifier::create(*bus->loop_, err);
    if (!bus->notifier_) return nullptr;
    bus->loop_->set_before_wait([raw = bus.get()] { return raw->before_wait(); });
    return bus;
}

RedisBus::RedisBus(const RedisBusConfig& config)
    : config_(config),
      reply_limits_{(64u << 20) + config.history * 8192, (1u << 20) + config.history * 8},
      ring_(config.loops, config.ring_capacity),
      random_(std::random_device{}()) {
    node_id_ = fresh_epoch();  // 64 random bits in hex
    rooms_state_.reserve(config.max_rooms);
    for (size_t i = 0; i < config.max_rooms; ++i)
        rooms_state_.push_back(std::make_unique<RoomState>(config.history));
    for (size_t i = 0; i < config.loops; ++i) inboxes_.push_back(std::make_unique<Inbox>());
}

RedisBus::~RedisBus() {
    stop();
    for (RingEntry* e : backlog_) {
        // Counted for every loop already (see to_ring()); none will drain it now.
        for (size_t i = 0; i < loops(); ++i) e->release();
    }
    for (auto& in : inboxes_)
        for (ReadyReply& r : in->replies)
            for (RingEntry* e : r.entries) e->release();
    ring_.release_undrained();
}

void RedisBus::start() {
    if (running_) return;
    running_ = true;
    thread_ = std::thread([this] { loop_->run(); });
}

void RedisBus::stop() {
    if (!running_) return;
    stopping_.store(true, std::memory_order_release);
    notifier_->notify();
    thread_.join();
    running_ = false;
}

bool RedisBus::available() const {
    // relaxed: a flag on its own; a publish that races a change is refused or lost either way.
    return link_state_.load(std::memory_order_relaxed) == static_cast<uint8_t>(LinkState::kUp);
}

void RedisBus::post_request(Request r) {
    std::lock_guard<std::mutex> lock(requests_mu_);
    post_request_locked(std::move(r));
}

void RedisBus::post_request_locked(Request r) {
    bool was_empty = requests_.empty();
    requests_.push_back(std::move(r));
    if (was_empty) notifier_->notify();  // one wake-up per batch the bus thread takes
}

bool RedisBus::publish_to_room(uint32_t id, const RoomMessage& m) {
    if (!available()) return false;
    {
        std::lock_guard<std::mutex> lock(requests_mu_);
        if (requests_.size() >= kMaxRequests) return false;
    }
    post_request({Request::Kind::kPublish, id, std::string(m.room),
                  encode_message_body(net::wall_ms(), m.from, m.text)});
    return true;
}

bool RedisBus::publish_to_user(std::string_view user, std::string_view json) {
    if (!available()) return false;
    {
        std::lock_guard<std::mutex> lock(remote_users_mu_);
        if (!std::binary_search(remote_users_.begin(), remote_users_.end(), user)) return false;
    }
    std::lock_guard<std::mutex> lock(requests_mu_);
    if (requests_.size() >= kMaxRequests) return false;
    post_request_locked({Request::Kind::kDm, 0, std::string(user), std::string(json)});
    return true;
}

void RedisBus::read_room(size_t loop, uint32_t id, uint64_t from, uint64_t to, RoomReadReply reply) {
    RoomState& r = room(id);
    HeldEntries held;
    RoomSpan span;
    bool ask = false;
    {
        std::lock_guard<std::mutex> lock(r.mu);
        if (!r.synced) {
            // The first read of the room on this node: answered once its tail is in (in the
            // loop's drain order, see drain()).
            r.pending.push_back({loop, from, to, std::move(reply)});
            if (r.requested) return;
            r.requested = ask = true;
        } else if (from != UINT64_MAX && from > r.history.last() + 1) {
            // A resume after a seq this node has not received yet (the client saw it on another
            // node): answering now would deliver it again when it arrives.
            r.waiting.push_back({loop, from, to, std::move(reply)});
            if (r.waiting.size() > 1) return;
            post_request({Request::Kind::kCatchUp, id, {}, {}});
            return;
        } else {
            span = r.history.span();
            r.history.hold(from, to, held);
        }
    }
    if (ask) {
        Room* named = rooms_ != nullptr ? rooms_->by_id(id) : nullptr;
        if (named != nullptr) post_request({Request::Kind::kSubscribe, id, named->name(), {}});
        return;
    }
    reply({span, held.entries});
}

void RedisBus::forget_room(uint32_t id) { post_request({Request::Kind::kForget, id, {}, {}}); }

void RedisBus::post_reply(size_t loop, ReadyReply r) {
    Inbox& in = *inboxes_[loop];
    {
        std::lock_guard<std::mutex> lock(in.mu);
        in.replies.push_back(std::move(r));
        in.ready.store(true, std::memory_order_seq_cst);  // see Inbox::ready
    }
    ring_.wake(loop);
}

void RedisBus::run_replies(size_t loop) {
    Inbox& in = *inboxes_[loop];
    // relaxed: a hint only; the lock below orders the replies themselves.
    if (!in.ready.load(std::memory_order_relaxed)) return;
    std::vector<ReadyReply> replies;
    {
        std::lock_guard<std::mutex> lock(in.mu);
        replies.swap(in.replies);
        in.ready.store(false, std::memory_order_relaxed);  // under the lock, as the store of true
    }
    for (ReadyReply& r : replies) {
        r.reply({r.span, r.entries});
        for (RingEntry* e : r.entries) e->release();
    }
}

size_t RedisBus::drain(size_t loop, std::vector<RingEntry*>& out, size_t max) {
    // Replies first: one was posted after every entry of its room numbered <= span.last was in
    // the ring (deliver() appends to the history and the ring together), so whatever this
    // loop drains after it is either covered by it or newer (chat/bus.h, Ordering).
    run_replies(loop);
    return ring_.drain(loop, out, max);
}

bool RedisBus::prepare_to_sleep(size_t loop) {
    return ring_.prepare_to_sleep(loop, &inboxes_[loop]->ready);
}

void RedisBus::append_stats(std::string& out) const {
    static constexpr const char* kStates[] = {"down", "connecting", "up"};
    // relaxed: statistics.
    out += ",\"redis_state\":\"";
    out += kStates[link_state_.load(std::memory_order_relaxed)];
    out += "\",\"redis_latency_us\":" + std::to_string(latency_us_.load(std::memory_order_relaxed));
    out += ",\"redis_connects\":" + std::to_string(connects_.load(std::memory_order_relaxed));
    out += ",\"redis_disconnects\":" + std::to_string(disconnects_.load(std::memory_order_relaxed));
    out += ",\"redis_publish_errors\":" + std::to_string(publish_errors_.load(std::memory_order_relaxed));
    out += ",\"redis_gaps\":" + std::to_string(gaps_.load(std::memory_order_relaxed));
    out += ",\"redis_unsent\":" + std::to_string(unsent_.load(std::memory_order_relaxed));
    if (!cluster()) return;
    out += ",\"redis_shards\":" + std::to_string(shards_up_.load(std::memory_order_relaxed));
    out += ",\"redis_redirects\":" + std::to_string(redirects_.load(std::memory_order_relaxed));
    out += ",\"redis_resubscribes\":" + std::to_string(resubscribes_.load(std::memory_order_relaxed));
}

Bus::LinkStats RedisBus::link_stats() const {
    // relaxed: statistics.
    auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    LinkStats s;
    s.present = true;
    s.up = available();
    s.latency_us = get(latency_us_);
    s.connects = get(connects_);
    s.disconnects = get(disconnects_);
    s.publish_errors = get(publish_errors_);
    s.gaps = get(gaps_);
    s.unsent = get(unsent_);
    s.masters = get(shards_up_);
    s.redirects = get(redirects_);
    s.resubscribes = get(resubscribes_);
    return s;
}

// ---- A room's messages, on the bus thread ----

void RedisBus::to_ring(RingEntry* e, uint32_t extra) {
    // In order behind anything already waiting, so a room's entries enter the ring by seq.
    if (backlog_.empty() && ring_.publish(e, extra)) return;
    // relaxed: private to this thread until the ring publishes it.
    e->refs.store(static_cast<uint32_t>(loops()) + extra, std::memory_order_relaxed);
    backlog_.push_back(e);
}

void RedisBus::flush_backlog() {
    while (!backlog_.empty() && ring_.publish_counted(backlog_.front())) backlog_.pop_front();
}

void RedisBus::deliver(RoomState& r, uint32_t id, const StoredMessage& m, bool live) {
    // One scratch for the bus thread's JSON; the entry holds its own framed copy.
    thread_local std::string json;
    json.clear();
    encode_message(json, r.name, m.seq, m.from, m.text, m.ts);
    RingEntry* e = RingEntry::make(Topic::kRoom, id, ws::Opcode::kText,
                                   {reinterpret_cast<const std::byte*>(json.data()), json.size()});
    std::lock_guard<std::mutex> lock(r.mu);
    if (e == nullptr) {
        // Out of memory: the number is skipped here rather than stalling the room.
        r.history.restart_at(m.seq);
        return;
    }
    e->room_seq = m.seq;
    // Live: counted for every loop and for the history (its reference, taken by append()).
    if (live) to_ring(e, 1);
    r.history.append(e);
    if (!r.waiting.empty()) answer_waiting(r, UINT64_MAX);  // Redis may have more: wait on
}

void RedisBus::announce_gap(RoomState& r, uint32_t id, uint64_t from, uint64_t to) {
    gaps_.fetch_add(1, std::memory_order_relaxed);  // a statistic
    std::string json;
    encode_gap(json, r.name, from, to, GapReason::kHistory);
    // A notice (no seq, no presence number): every member that is not waiting for its join's
    // answer gets it.
    RingEntry* e = RingEntry::make(Topic::kRoom, id, ws::Opcode::kText,
                                   {reinterpret_cast<const std::byte*>(json.data()), json.size()});
    if (e != nullptr) to_ring(e, 0);
    std::lock_guard<std::mutex> lock(r.mu);
    r.history.restart_at(to);
}

void RedisBus::answer_waiting(RoomState& r, uint64_t redis_seq) {
    uint64_t last = r.history.last();
    std::erase_if(r.waiting, [&](PendingRead& p) {
        if (p.from - 1 > last && p.from - 1 <= redis_seq) return false;
        HeldEntries held;
        r.history.hold(p.from, p.to, held);
        ReadyReply ready{std::move(p.reply), r.history.span(), std::move(held.entries)};
        held.entries.clear();
        post_reply(p.loop, std::move(ready));
        return true;
    });
}

void RedisBus::apply_sync(uint32_t id, const SyncReply& s) {
    RoomState& r = room(id);
    r.syncing = false;
    if (!r.epoch.empty() && r.epoch != s.epoch) {
        // Redis lost the room (a flush, a failover without persistence): numbering went on
        // after what this node knew (the scripts' floor), under a new epoch; the old messages
        // are in no stream now, so they leave our history too.
        std::fprintf(stderr, "epws: redis: room %s lost its history (epoch %s -> %s)\n",
                     r.name.c_str(), r.epoch.c_str(), s.epoch.c_str());
        std::lock_guard<std::mutex> lock(r.mu);
        r.history.restart_at(r.history.last());
    }
    r.epoch = s.epoch;
    bool first;
    {
        std::lock_guard<std::mutex> lock(r.mu);
        first = !r.synced;
        if (first) r.history.restart_at(s.entries.empty() ? s.seq : s.entries.front().seq - 1);
    }
    const size_t count = std::max<size_t>(config_.history, 1);
    // The stream's messages we did not have, in order; a hole means they were trimmed.
    for (const StoredMessage& m : s.entries) {
        uint64_t last = r.history.last();  // only this thread writes it
        if (m.seq <= last) continue;
        if (m.seq > last + 1) announce_gap(r, id, last + 1, m.seq - 1);
        deliver(r, id, m, !first);
    }
    // A read from a seq on may have stopped short of the stream's end (the tail never does).
    bool full = !first && s.entries.size() >= count;
    if (!full && s.seq > r.history.last() && !first) announce_gap(r, id, r.history.last() + 1, s.seq);
    if (first) {
        std::lock_guard<std::mutex> lock(r.mu);
        if (!full && s.seq > r.history.last()) r.history.restart_at(s.seq);
        r.synced = true;
        for (PendingRead& p : r.pending) {
            HeldEntries held;
            r.history.hold(p.from, p.to, held);
            ReadyReply ready{std::move(p.reply), r.history.span(), std::move(held.entries)};
            held.entries.clear();
            post_reply(p.loop, std::move(ready));
        }
        r.pending.clear();
    }
    // What came in meanwhile.
    std::vector<std::string> buffered;
    buffered.swap(r.buffered);
    for (size_t i = 0; i < buffered.size(); ++i) {
        StoredMessage m;
        if (!decode_stored_message(buffered[i], m)) continue;
        uint64_t last = r.history.last();
        if (m.seq <= last) continue;
        if (m.seq > last + 1) {
            // The stream may hold the ones between: after a read of the tail (published before
            // the subscription took effect), or a read that stopped short. Read on.
            if (first || full) {
                r.buffered.assign(buffered.begin() + static_cast<ptrdiff_t>(i), buffered.end());
                r.refill = false;
                return start_sync(id);
            }
            announce_gap(r, id, last + 1, m.seq - 1);
        }
        r.epoch = std::string(m.epoch);
        deliver(r, id, m, true);
    }
    if ((full && s.seq > r.history.last()) || r.refill) {
        r.refill = false;
        return start_sync(id);
    }
    std::lock_guard<std::mutex> lock(r.mu);
    if (!r.waiting.empty()) answer_waiting(r, s.seq);
}

void RedisBus::on_room_message(uint32_t id, std::string_view payload) {
    RoomState& r = room(id);
    if (r.syncing) {
        if (r.buffered.size() < kMaxRequests) r.buffered.emplace_back(payload);  // else re-read
        return;
    }
    StoredMessage m;
    if (!decode_stored_message(payload, m)) {
        std::fprintf(stderr, "epws: redis: room %s: a malformed message, ignored\n", r.name.c_str());
        return;
    }
    uint64_t last = r.history.last();
    if (m.seq <= last && m.epoch == r.epoch) return;  // had it already (from a sync)
    if (m.seq == last + 1 && m.epoch == r.epoch) return deliver(r, id, m, true);
    // A hole, or a new epoch: read the stream from where we are, and keep this meanwhile.
    r.buffered.emplace_back(payload);
    start_sync(id);
}

}  // namespace epws::chat
