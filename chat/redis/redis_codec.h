// chat/redis/redis_codec.h: what epws stores in and reads from Redis: the key names of a room,
// the Lua scripts, the text of a numbered message, and the decoding of Redis' replies (every
// byte checked: a reply is input like any other). Layer: chat/. No I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct redisReply;

namespace epws::chat {

// A room's keys and channel share the hash tag {room}, so a Redis Cluster keeps them on one
// shard and a script may touch all three.
struct RoomKeys {
    std::string meta;     // hash: epoch, seq
    std::string log;      // stream: the numbered messages, id 0-<seq>, field m
    std::string channel;  // pub/sub: each message as it is numbered
    std::string nodes;    // set: the ids of the nodes that report members of the room
    std::string node;     // prefix of each node's member list: <node><id>, with a TTL
};
RoomKeys room_keys(std::string_view room);
// Direct messages between nodes, and each node's list of its users (for the presence script,
// with the set of node ids as its KEYS[1]).
inline constexpr std::string_view kDmChannel = "epws:dm";
inline constexpr std::string_view kUserNodes = "epws:{users}:nodes";
inline constexpr std::string_view kUserListPrefix = "epws:{users}:node:";

// KEYS meta log channel; ARGV maxlen body floor epoch. Numbers the message (seq + 1, never below
// floor: what the publishing node already knows), keeps it in the stream (MAXLEN ~ maxlen) and
// publishes it, all in one atomic step. A room without an epoch (new, or lost by Redis) gets
// `epoch` and an empty stream. Returns the seq.
extern const std::string_view kPublishScript;
// The same for a Redis Cluster: SPUBLISH, the sharded pub/sub of Redis 7, so a room's messages
// go through its own shard only (its channel shares the room's hash tag, so its slot).
extern const std::string_view kShardedPublishScript;
// KEYS meta log; ARGV from count floor epoch. The room's epoch and seq (after the same epoch and
// floor rule), and its messages: the newest `count` when from is 0, else up to `count` from seq
// `from` on. Returns {epoch, seq, entries}.
extern const std::string_view kSyncScript;

// KEYS nodes; ARGV node-id members ttl-ms node-prefix. Stores this node's members of the room
// ('\n'-separated; none: the entry goes) for ttl ms, and returns every other live node's list,
// dropping the ids whose list expired (a node that stopped refreshing: crashed).
extern const std::string_view kPresenceScript;

// The client's part of a message, which the script prefixes with "<seq>:<epoch>:".
std::string encode_message_body(uint64_t ts, std::string_view from, std::string_view text);

// One numbered message as stored: "<seq>:<epoch>:<ts>:<from bytes>:<from><text>". Views into
// the decoded text.
struct StoredMessage {
    uint64_t seq = 0;
    std::string_view epoch;
    uint64_t ts = 0;
    std::string_view from;
    std::string_view text;
};
inline constexpr size_t kMaxEpochBytes = 32;
inline constexpr size_t kMaxFromBytes = 1024;
// False (out unspecified) on anything but a well-formed message: seq 1..2^53-1, an epoch of
// 1..32 bytes of [0-9a-z], a from of 1..1024 bytes.
bool decode_stored_message(std::string_view s, StoredMessage& out);

// A sync script reply, decoded. Entries in increasing seq order (the newest-first read of the
// tail is turned around), each validated.
struct SyncReply {
    std::string epoch;
    uint64_t seq = 0;
    std::vector<StoredMessage> entries;  // views into the reply
};
// False with err saying what is wrong; reply is not owned and must outlive out.entries.
bool decode_sync_reply(const redisReply* reply, SyncReply& out, std::string& err);

// Names joined by '\n' (user names hold no control character: chat/names.h).
std::string encode_member_list(const std::vector<std::string>& names);
// The presence script's reply: every name in it, each checked by is_valid_user_name; false with
// err on anything else, or past kMaxRemoteMembers names.
inline constexpr size_t kMaxRemoteMembers = 100000;
bool decode_presence_reply(const redisReply* reply, std::vector<std::string>& names, std::string& err);

// A pub/sub push on the subscriber connection.
struct PushMessage {
    enum class Kind { kSubscribe, kUnsubscribe, kMessage, kOther } kind = Kind::kOther;
    bool sharded = false;  // ssubscribe, sunsubscribe, smessage (Redis Cluster, Redis 7)
    std::string_view channel;
    std::string_view payload;  // kMessage only
};
bool decode_push(const redisReply* reply, PushMessage& out);

}  // namespace epws::chat
