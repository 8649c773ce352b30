// chat/redis/redis_cluster.h: the pure pieces of Redis Cluster support: a key's hash slot, the
// slot map read from CLUSTER SLOTS, the -MOVED / -ASK redirections and the --redis-cluster seed
// list. Layer: chat/. No I/O; the connections that use them: redis_cluster_link.cc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/redis/redis_url.h"

struct redisReply;

namespace epws::chat {

inline constexpr uint32_t kClusterSlots = 16384;

// CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0, no reflection), as the Redis Cluster
// specification defines it for key slots.
uint16_t crc16_xmodem(std::string_view data);
// The key's hash slot: CRC16 of the key, or of its hash tag (what lies between the first '{'
// and the next '}', when that is not empty), mod 16384.
uint16_t key_slot(std::string_view key);

struct ClusterNode {
    std::string host; // as Redis reports it (an address; empty means "the node you asked")
    uint16_t port = 0;
    bool operator==(const ClusterNode&) const = default;
};

// Which master serves each slot.
struct SlotMap {
    std::vector<ClusterNode> masters; // each once
    std::vector<uint16_t> owner;      // by slot: an index into masters, or kNoOwner
    static constexpr uint16_t kNoOwner = UINT16_MAX;
    bool complete() const; // every slot has a master
    // The index of node in masters, appended if new.
    uint16_t add(const ClusterNode& node);
};

// CLUSTER SLOTS' reply: [[start, end, [host, port, id...], replicas...], ...]. The masters only;
// a host of "" or "?" is replaced by asked_host (the node the command went to). False with err
// on anything malformed: a range outside 0..16383 or reversed, a port outside 1..65535, more
// than 16384 ranges.
bool parse_cluster_slots(const redisReply* reply, std::string_view asked_host, SlotMap& out,
                         std::string& err);

// "-MOVED 3999 127.0.0.1:6381" or "-ASK 3999 127.0.0.1:6381" (the error text without '-').
struct Redirect {
    enum class Kind { kMoved, kAsk } kind = Kind::kMoved;
    uint16_t slot = 0;
    ClusterNode node;
};
// False on any other error text (TRYAGAIN, CLUSTERDOWN, ...) or a malformed one.
bool parse_redirect(std::string_view error, Redirect& out);

// --redis-cluster's value: one URL or host:port per seed node, separated by commas, e.g.
// "redis://user:pw@127.0.0.1:7000,127.0.0.1:7001". Credentials come from the first seed; a
// database other than 0 is refused (a cluster has only db 0). False with err on failure.
bool parse_cluster_seeds(std::string_view text, std::vector<RedisUrl>& seeds, std::string& err);

} // namespace epws::chat
