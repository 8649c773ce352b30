// chat/redis/redis_bus.h: the bus shared by several epws nodes through Redis: Redis numbers each
// room's messages (one order across nodes), keeps them in a stream and publishes them; every
// node's bus thread receives them and hands them to its loops through the same ring and
// wake-up handshake as the in-process bus. Layer: chat/. Design: docs/redis.md.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "chat/bus.h"
#include "chat/redis/redis_cluster.h"
#include "chat/redis/redis_codec.h"
#include "chat/redis/redis_url.h"
#include "chat/redis/reply_limits.h"
#include "chat/room_history.h"
#include "chat/waking_ring.h"
#include "net/loop.h"
#include "net/notifier.h"

struct redisAsyncContext;

namespace epws::chat {

class HiredisAdapter;
class Room;
class RoomRegistry;
class UserRegistry;

struct RedisBusConfig {
    RedisUrl url;
    // Not empty: Redis Cluster (--redis-cluster), these seed nodes answer CLUSTER SLOTS and url
    // is the first of them. docs/redis.md, Redis Cluster.
    std::vector<RedisUrl> seeds;
    size_t loops = 1;
    size_t ring_capacity = 1u << 16;
    size_t history = 1000;      // messages a room keeps (the stream's MAXLEN ~, and ours)
    size_t max_rooms = 1024;
    uint32_t timeout_ms = 2000;  // a command unanswered for this long: the link is down
    uint32_t presence_ttl_ms = 10000;  // a node's member lists expire unless refreshed (ttl / 3)
};

// Thread-safe as chat/bus.h says. Owns one thread (the bus thread) with its own net::Loop and
// two Redis connections, one for commands and one subscribed (docs/redis.md says why one pair
// per node rather than per loop); on a Redis Cluster, one such pair per master, and the first
// connection to a seed node for CLUSTER SLOTS and direct messages. No loop thread ever waits on Redis: loops only take locks
// held for a queue push or a history copy.
class RedisBus final : public Bus {
public:
    // Resolves the host (a blocking lookup, so at start-up only) and makes the bus loop.
    static std::unique_ptr<RedisBus> create(const RedisBusConfig& config, std::string& err);
    ~RedisBus() override;  // stops the bus thread if it runs

    // The room names (room ids are this node's; Redis keys are names). Not owned; set before
    // start().
    void set_rooms(RoomRegistry* rooms) { rooms_ = rooms; }
    // The users connected here (direct messages from other nodes, and the node's user list in
    // Redis). Not owned; set before start().
    void set_users(UserRegistry* users) { users_ = users; }
    // Starts the bus thread; it connects, and reconnects with backoff for as long as it runs.
    void start();
    // Stops and joins the bus thread (after the loops stopped). Idempotent.
    void stop();

    size_t loops() const override { return ring_.loops(); }
    void attach(size_t loop, net::Notifier* n) override { ring_.attach(loop, n); }
    bool publish(RingEntry* e) override { return ring_.publish(e, 0); }
    // Queues the message for Redis, which numbers it; every node (this one too) gets it back
    // through its subscription, once. False while Redis is unreachable or the queue is full.
    bool publish_to_room(uint32_t room, const RoomMessage& m) override;
    // Through Redis when the user is in another node's list (the presence heartbeat reads them).
    bool publish_to_user(std::string_view user, std::string_view json) override;
    // At once from this node's copy of the stream's tail once the room is synced; the first
    // read of a room on this node subscribes to it and is answered when its tail is in.
    void read_room(size_t loop, uint32_t room, uint64_t from, uint64_t to,
                   RoomReadReply reply) override;
    void forget_room(uint32_t room) override;
    size_t drain(size_t loop, std::vector<RingEntry*>& out, size_t max) override;
    bool prepare_to_sleep(size_t loop) override;
    void awake(size_t loop) override { ring_.awake(loop); }
    bool available() const override;
    uint64_t published() const override { return ring_.published(); }
    uint64_t wakeups() const override { return ring_.wakeups(); }
    void append_stats(std::string& out) const override;
    uint64_t lag(size_t loop) const override { return ring_.lag(loop); }
    LinkStats link_stats() const override;

private:
    explicit RedisBus(const RedisBusConfig& config);

    // A read waiting for the room's first sync.
    struct PendingRead {
        size_t loop;
        uint64_t from, to;
        RoomReadReply reply;
    };
    // One room's copy of its stream on this node.
    struct RoomState {
        explicit RoomState(size_t history_size) : history(history_size) {}
        std::mutex mu;  // guards history, synced, requested and pending (loops read them)
        RoomHistory history;
        bool synced = false;     // history holds the stream's tail: reads are answered at once
        bool requested = false;  // the bus thread was asked to subscribe
        std::vector<PendingRead> pending;
        // Reads from a seq this node has not received yet (a client that saw it through another
        // node): answered once the copy reaches from - 1, or Redis says there is no such seq.
        std::vector<PendingRead> waiting;
        // Bus thread only.
        std::string name;
        RoomKeys keys;
        std::string epoch;         // as last seen ("" before the first sync)
        bool wanted = false;       // subscribed, or to be on the next connection
        bool syncing = false;      // a sync script is in flight; messages wait in `buffered`
        std::vector<std::string> buffered;
        bool refill = false;       // subscribed during the first sync: read on after it
        int shard = -1;            // cluster: the shard whose connection holds our SSUBSCRIBE
    };
    // A read's answer on its way to its loop, with one reference on each entry.
    struct ReadyReply {
        RoomReadReply reply;
        RoomSpan span;
        std::vector<RingEntry*> entries;
    };
    struct alignas(64) Inbox {
        std::mutex mu;
        std::vector<ReadyReply> replies;
        // seq_cst: the other half of the sleep handshake (WakingRing::prepare_to_sleep).
        std::atomic<bool> ready{false};
    };
    // What a loop asks of the bus thread.
    struct Request {
        enum class Kind { kPublish, kSubscribe, kForget, kCatchUp, kDm } kind;
        uint32_t room;
        std::string name;
        std::string body;  // kPublish: encode_message_body()
    };
    struct Conn {
        redisAsyncContext* ctx = nullptr;
        std::unique_ptr<HiredisAdapter> adapter;
        bool connected = false;
        std::deque<uint64_t> inflight_us;  // send times of the timed commands, in order
        ReplyBudget budget;                // the reader's (reply_limits.h)
    };
    // Cluster: one master, its command connection (scripts loaded) and its subscriber.
    struct Shard {
        ClusterNode node;
        Conn cmd, sub;
        bool ready = false;  // the hello on cmd is answered
    };
    // Cluster: a command routed by its key's slot, kept to be sent again on -MOVED / -ASK /
    // -TRYAGAIN. Owned by hiredis' callback (on_routed() deletes it) or by deferred_.
    struct Routed {
        void (*cb)(redisAsyncContext*, void*, void*);
        void* priv;
        std::vector<std::string> args;
        uint16_t slot;
        uint64_t first_us = 0;  // first sent: TRYAGAIN is retried until --redis-timeout after it
        uint32_t tries = 0;     // redirections
    };
    enum class LinkState : uint8_t { kDown, kConnecting, kUp };

    RoomState& room(uint32_t id) { return *rooms_state_.at(id - 1); }
    void post_reply(size_t loop, ReadyReply r);
    void post_request(Request r);
    void post_request_locked(Request r);  // requests_mu_ held
    void run_replies(size_t loop);

    // The bus thread (redis_link.cc).
    int before_wait();
    void take_requests();
    void handle(Request& r);
    void send_publish(uint32_t id, const std::string& body);
    std::string fresh_epoch();
    void connect();
    void teardown(const char* why);
    void retire(Conn& c);
    void maybe_up();
    void subscribe(uint32_t id);
    void start_sync(uint32_t id);
    void check_timeouts(uint64_t now_us);
    Conn* conn_of(const redisAsyncContext* ac);
    bool open(Conn& c, const std::string& host, uint16_t port);
    void hello(Conn& c, bool timed, const char* role);
    void load_scripts(Conn& c);  // then a PING, whose answer says the hello is done
    static void on_connect(const redisAsyncContext* ac, int status);
    static void on_disconnect(const redisAsyncContext* ac, int status);
    static void on_hello(redisAsyncContext* ac, void* reply, void* priv);
    static void on_publish_reply(redisAsyncContext* ac, void* reply, void* priv);
    static void on_sync_reply(redisAsyncContext* ac, void* reply, void* priv);
    static void on_presence_reply(redisAsyncContext* ac, void* reply, void* priv);
    static void on_users_reply(redisAsyncContext* ac, void* reply, void* priv);
    static void on_dm(redisAsyncContext* ac, void* reply, void* priv);
    // The presence heartbeat (redis_presence.cc): this node's members of every room it serves,
    // stored with a TTL, and the other nodes' read back into each Room.
    void presence_tick();
    void clear_remote_presence();
    void announce_changes(Room& room, const std::vector<std::string>& before,
                          const std::vector<std::string>& after);
    static void on_push(redisAsyncContext* ac, void* reply, void* priv);
    bool command(Conn& c, void (*cb)(redisAsyncContext*, void*, void*), void* priv,
                 const std::vector<std::string_view>& args, bool timed);
    void replied(const redisAsyncContext* ac);  // one timed command on ac answered
    // A command on the connection that serves key (cluster: its slot's master), timed.
    bool send_keyed(std::string_view key, void (*cb)(redisAsyncContext*, void*, void*), void* priv,
                    const std::vector<std::string_view>& args);

    // Redis Cluster (redis_cluster_link.cc).
    bool cluster() const { return !config_.seeds.empty(); }
    void connect_cluster();
    void open_shards(const SlotMap& map);
    bool cluster_ready() const;
    void send_routed(Routed* r, Shard& s, bool asking);
    void refresh_slots(Shard* via);  // nullptr: ask the seed
    void apply_slots(const SlotMap& map);
    void reconcile_subscriptions();
    void shard_subscribe(uint32_t id);
    void shard_unsubscribe(uint32_t id);
    void run_deferred(uint64_t now_us);
    // Later commands of a slot wait behind its deferred ones, so a node's commands for one room
    // reach Redis in the order they were made.
    void defer(Routed* r, uint64_t now_us);
    void subscribed(uint32_t id);  // the room's subscription took effect
    int shard_index(const ClusterNode& node) const;  // -1: not one of ours
    static void on_slots(redisAsyncContext* ac, void* reply, void* priv);
    static void on_routed(redisAsyncContext* ac, void* reply, void* priv);
    static void on_shard_push(redisAsyncContext* ac, void* reply, void* priv);

    // The room's side (redis_bus.cc).
    void apply_sync(uint32_t id, const SyncReply& s);
    void on_room_message(uint32_t id, std::string_view payload);
    // Appends m (numbered history.last() + 1) to the room's history, and to the ring if live.
    void deliver(RoomState& r, uint32_t id, const StoredMessage& m, bool live);
    void announce_gap(RoomState& r, uint32_t id, uint64_t from, uint64_t to);
    // Answers the waiting reads the copy now covers, or all of them when Redis' own seq is below
    // what they wait for (UINT64_MAX: not known). r.mu held.
    void answer_waiting(RoomState& r, uint64_t redis_seq);
    void to_ring(RingEntry* e, uint32_t extra);
    void flush_backlog();

    const RedisBusConfig config_;
    // What one reply may hold: the largest legitimate one is a sync of `history` messages of at
    // most ~5.2 KiB each (4 KiB of text, a 1 KiB name, the stream entry around them).
    const ReplyLimits reply_limits_;
    std::string address_;  // the host, resolved to a numeric address
    std::vector<std::string> seed_addresses_;  // cluster: each seed's, resolved likewise
    WakingRing ring_;
    std::vector<std::unique_ptr<RoomState>> rooms_state_;  // by room id - 1
    std::vector<std::unique_ptr<Inbox>> inboxes_;          // by loop
    RoomRegistry* rooms_ = nullptr;
    UserRegistry* users_ = nullptr;
    mutable std::mutex remote_users_mu_;
    std::vector<std::string> remote_users_;  // sorted: users other nodes report

    std::mutex requests_mu_;
    std::vector<Request> requests_;  // from the loops, taken by the bus thread
    static constexpr size_t kMaxRequests = 65536;

    // State the loops and /stats read. relaxed: each is a flag or a statistic on its own.
    std::atomic<uint8_t> link_state_{0};
    std::atomic<uint64_t> latency_us_{0};
    std::atomic<uint64_t> connects_{0}, disconnects_{0}, publish_errors_{0}, gaps_{0}, unsent_{0};
    std::atomic<uint64_t> redirects_{0}, resubscribes_{0}, shards_up_{0};

    // The bus thread.
    std::unique_ptr<net::Loop> loop_;
    std::unique_ptr<net::Notifier> notifier_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};  // release/acquire: set by stop(), read by the bus thread
    bool running_ = false;
    Conn cmd_, sub_;
    std::vector<std::unique_ptr<HiredisAdapter>> retired_;  // deleted after the event batch
    LinkState link_ = LinkState::kDown;
    bool hello_done_ = false;
    std::string down_reason_;  // set inside a callback: the link goes down after the batch
    std::string publish_sha_, sync_sha_, presence_sha_;
    std::string node_id_;  // random, for this process's presence entries
    uint64_t last_presence_us_ = 0;
    // Cluster: the masters (slots_.masters[i] is shards_[i]->node), which serves each slot,
    // the room of each subscribed channel, and commands waiting to be sent again (TRYAGAIN).
    std::vector<std::unique_ptr<Shard>> shards_;
    SlotMap slots_;
    bool slots_pending_ = false;  // a CLUSTER SLOTS is in flight
    bool slots_again_ = false;    // and another is wanted after it
    std::unordered_map<std::string, uint32_t> channel_rooms_;
    std::vector<std::pair<uint64_t, Routed*>> deferred_;
    uint32_t seed_turn_ = 0;
    std::string seed_address_;  // the seed cmd_ is connected to
    uint64_t connect_started_us_ = 0, last_ping_us_ = 0, retry_at_us_ = 0;
    uint32_t attempts_ = 0;
    std::mt19937_64 random_;
    std::deque<RingEntry*> backlog_;  // for the ring, which was full; counted already
    std::vector<Request> taken_;
};

}  // namespace epws::chat
