// chat/redis/redis_codec.cc: keys, scripts, the stored message format and reply decoding.
// Layer: chat/.
#include "chat/redis/redis_codec.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>

#include "chat/names.h"

namespace epws::chat {
namespace {

constexpr uint64_t kMaxSeq = (1ull << 53) - 1;  // what a JSON number holds exactly

// Both scripts apply the same epoch and floor rule first (Lua 5.1, as in Redis 7). Numbers are
// formatted with %d: tostring() would write 1e+15 past 14 digits.
#define EPWS_EPOCH_RULE                                                                     \
    "local meta = redis.call('HMGET', KEYS[1], 'epoch', 'seq')\n"                           \
    "local epoch = meta[1]\n"                                                               \
    "local seq = tonumber(meta[2] or '0')\n"                                                \
    "if not epoch then\n"                                                                   \
    "  epoch = ARGV[4]\n"                                                                   \
    "  redis.call('DEL', KEYS[2])\n"                                                        \
    "  redis.call('HSET', KEYS[1], 'epoch', epoch)\n"                                       \
    "end\n"                                                                                 \
    "local floor = tonumber(ARGV[3])\n"                                                     \
    "if seq < floor then seq = floor end\n"

}  // namespace

const std::string_view kPublishScript =
    EPWS_EPOCH_RULE
    "seq = seq + 1\n"
    "redis.call('HSET', KEYS[1], 'seq', string.format('%d', seq))\n"
    "local m = string.format('%d', seq) .. ':' .. epoch .. ':' .. ARGV[2]\n"
    "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '0-' .. string.format('%d', seq), 'm', m)\n"
    "redis.call('PUBLISH', KEYS[3], m)\n"
    "return seq\n";

const std::string_view kShardedPublishScript =
    EPWS_EPOCH_RULE
    "seq = seq + 1\n"
    "redis.call('HSET', KEYS[1], 'seq', string.format('%d', seq))\n"
    "local m = string.format('%d', seq) .. ':' .. epoch .. ':' .. ARGV[2]\n"
    "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '0-' .. string.format('%d', seq), 'm', m)\n"
    "redis.call('SPUBLISH', KEYS[3], m)\n"
    "return seq\n";

const std::string_view kSyncScript =
    EPWS_EPOCH_RULE
    "redis.call('HSET', KEYS[1], 'seq', string.format('%d', seq))\n"
    "local e\n"
    "if ARGV[1] == '0' then\n"
    "  e = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[2])\n"
    "else\n"
    "  e = redis.call('XRANGE', KEYS[2], '0-' .. ARGV[1], '+', 'COUNT', ARGV[2])\n"
    "end\n"
    "return {epoch, string.format('%d', seq), e}\n";

#undef EPWS_EPOCH_RULE

const std::string_view kPresenceScript =
    "if ARGV[2] == '' then\n"
    "  redis.call('DEL', ARGV[4] .. ARGV[1])\n"
    "  redis.call('SREM', KEYS[1], ARGV[1])\n"
    "else\n"
    "  redis.call('SET', ARGV[4] .. ARGV[1], ARGV[2], 'PX', ARGV[3])\n"
    "  redis.call('SADD', KEYS[1], ARGV[1])\n"
    "end\n"
    "local out = {}\n"
    "for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  if id ~= ARGV[1] then\n"
    "    local v = redis.call('GET', ARGV[4] .. id)\n"
    "    if v then table.insert(out, v) else redis.call('SREM', KEYS[1], id) end\n"
    "  end\n"
    "end\n"
    "return out\n";

RoomKeys room_keys(std::string_view room) {
    std::string tag = "{" + std::string(room) + "}";
    return {"epws:" + tag + ":meta", "epws:" + tag + ":log", "epws:" + tag,
            "epws:" + tag + ":nodes", "epws:" + tag + ":node:"};
}

std::string encode_member_list(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names) {
        if (!out.empty()) out += '\n';
        out += n;
    }
    return out;
}

bool decode_presence_reply(const redisReply* r, std::vector<std::string>& names, std::string& err) {
    names.clear();
    if (r == nullptr) return err = "no reply", false;
    if (r->type == REDIS_REPLY_ERROR) return err = "Redis: " + std::string(r->str, r->len), false;
    if (r->type != REDIS_REPLY_ARRAY) return err = "not an array", false;
    for (size_t i = 0; i < r->elements; ++i) {
        const redisReply* list = r->element[i];
        if (list == nullptr || list->type != REDIS_REPLY_STRING) return err = "a list is not a string", false;
        std::string_view rest(list->str, list->len);
        while (!rest.empty()) {
            size_t nl = rest.find('\n');
            std::string_view name = rest.substr(0, nl);
            if (!is_valid_user_name(name)) return err = "not a user name", false;
            if (names.size() >= kMaxRemoteMembers) return err = "too many names", false;
            names.emplace_back(name);
            if (nl == std::string_view::npos) break;
            rest.remove_prefix(nl + 1);
        }
    }
    return true;
}

std::string encode_message_body(uint64_t ts, std::string_view from, std::string_view text) {
    std::string out = std::to_string(ts);
    out += ':';
    out += std::to_string(from.size());
    out += ':';
    out += from;
    out += text;
    return out;
}

namespace {

// A decimal number up to max, then ':'; advances s past both.
bool take_number(std::string_view& s, uint64_t max, uint64_t& out) {
    size_t colon = s.find(':');
    if (colon == 0 || colon == std::string_view::npos || colon > 20) return false;
    if (colon > 1 && s[0] == '0') return false;  // one spelling per number: what the script writes
    auto [end, ec] = std::from_chars(s.data(), s.data() + colon, out);
    if (ec != std::errc() || end != s.data() + colon || out > max) return false;
    s.remove_prefix(colon + 1);
    return true;
}

bool valid_epoch(std::string_view e) {
    if (e.empty() || e.size() > kMaxEpochBytes) return false;
    return std::all_of(e.begin(), e.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
    });
}

std::string_view str_of(const redisReply* r) { return {r->str, r->len}; }

bool is_string(const redisReply* r) {
    return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

}  // namespace

bool decode_stored_message(std::string_view s, StoredMessage& out) {
    uint64_t from_len = 0;
    if (!take_number(s, kMaxSeq, out.seq) || out.seq == 0) return false;
    size_t colon = s.find(':');
    if (colon == std::string_view::npos) return false;
    out.epoch = s.substr(0, colon);
    if (!valid_epoch(out.epoch)) return false;
    s.remove_prefix(colon + 1);
    if (!take_number(s, UINT64_MAX, out.ts) || !take_number(s, kMaxFromBytes, from_len)) return false;
    if (from_len == 0 || from_len > s.size()) return false;
    out.from = s.substr(0, from_len);
    out.text = s.substr(from_len);
    return true;
}

bool decode_sync_reply(const redisReply* r, SyncReply& out, std::string& err) {
    out = SyncReply{};
    if (r == nullptr) return err = "no reply", false;
    if (r->type == REDIS_REPLY_ERROR) return err = "Redis: " + std::string(str_of(r)), false;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) return err = "not a 3-element array", false;
    const redisReply* epoch = r->element[0];
    const redisReply* seq = r->element[1];
    const redisReply* list = r->element[2];
    if (!is_string(epoch) || !valid_epoch(str_of(epoch))) return err = "bad epoch", false;
    out.epoch = std::string(str_of(epoch));
    if (!is_string(seq)) return err = "bad seq", false;
    std::string_view sv = str_of(seq);
    auto [end, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), out.seq);
    if (sv.empty() || ec != std::errc() || end != sv.data() + sv.size() || out.seq > kMaxSeq)
        return err = "bad seq", false;
    if (list == nullptr || list->type != REDIS_REPLY_ARRAY) return err = "entries not an array", false;
    for (size_t i = 0; i < list->elements; ++i) {
        // A stream entry: [id, [field, value, ...]]; ours has the one field m.
        const redisReply* e = list->element[i];
        if (e == nullptr || e->type != REDIS_REPLY_ARRAY || e->elements != 2) return err = "bad entry", false;
        const redisReply* fields = e->element[1];
        if (fields == nullptr || fields->type != REDIS_REPLY_ARRAY || fields->elements != 2 ||
            !is_string(fields->element[0]) || str_of(fields->element[0]) != "m" ||
            !is_string(fields->element[1]))
            return err = "bad entry fields", false;
        StoredMessage m;
        if (!decode_stored_message(str_of(fields->element[1]), m)) return err = "bad stored message", false;
        out.entries.push_back(m);
    }
    if (out.entries.size() > 1 && out.entries.front().seq > out.entries.back().seq)
        std::reverse(out.entries.begin(), out.entries.end());
    for (size_t i = 1; i < out.entries.size(); ++i)
        if (out.entries[i].seq <= out.entries[i - 1].seq) return err = "entries out of order", false;
    if (!out.entries.empty() && out.entries.back().seq > out.seq) return err = "an entry past seq", false;
    return true;
}

bool decode_push(const redisReply* r, PushMessage& out) {
    out = PushMessage{};
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements < 3) return false;
    if (!is_string(r->element[0]) || !is_string(r->element[1])) return false;
    std::string_view kind = str_of(r->element[0]);
    out.channel = str_of(r->element[1]);
    if (kind == "smessage" || kind == "ssubscribe" || kind == "sunsubscribe") {
        out.sharded = true;
        kind.remove_prefix(1);
    }
    if (kind == "message") {
        if (!is_string(r->element[2])) return false;
        out.kind = PushMessage::Kind::kMessage;
        out.payload = str_of(r->element[2]);
    } else if (kind == "subscribe") {
        out.kind = PushMessage::Kind::kSubscribe;
    } else if (kind == "unsubscribe") {
        out.kind = PushMessage::Kind::kUnsubscribe;
    }
    return true;
}

}  // namespace epws::chat
