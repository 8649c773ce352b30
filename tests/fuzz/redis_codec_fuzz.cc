// tests/fuzz/redis_codec_fuzz.cc: libFuzzer target for what epws reads from Redis and from the
// --redis / --redis-cluster flags (chat/redis/redis_codec, redis_url, redis_cluster, with the
// reader bounded by reply_limits). Layer: tests/.
//
// Input: [mode] then bytes. Mode 0: the bytes are a stored message. Mode 1: a --redis URL.
// Mode 3: a -MOVED / -ASK error text. Mode 4: a --redis-cluster seed list. Otherwise: RESP bytes
// as the server would send them, parsed by hiredis' reader with our bounded reply functions
// (fed in chunks split at input-chosen points), and every reply handed to each decoder.
#include <hiredis/hiredis.h>

#include <string>
#include <string_view>
#include <vector>

#include "chat/redis/redis_cluster.h"
#include "chat/redis/redis_codec.h"
#include "chat/redis/redis_url.h"
#include "chat/redis/reply_limits.h"
#include "tests/fuzz/fuzz_common.h"

using namespace epws::chat;

namespace {

void stored(std::string_view s) {
    StoredMessage m;
    if (!decode_stored_message(s, m)) return;
    // Accepted: the fields lie inside the input and encode back to it exactly.
    std::string again = std::to_string(m.seq) + ":" + std::string(m.epoch) + ":" +
                        encode_message_body(m.ts, m.from, m.text);
    FUZZ_CHECK(again == s);
}

void url(std::string_view s) {
    RedisUrl u;
    std::string err;
    bool ok = parse_redis_url(s, u, err);
    FUZZ_CHECK(ok == err.empty());
    if (ok) FUZZ_CHECK(!u.host.empty() && u.port != 0);
}

void redirect(std::string_view s) {
    Redirect d;
    if (!parse_redirect(s, d)) return;
    FUZZ_CHECK(d.slot < kClusterSlots && d.node.port != 0);
    std::string again = std::string(d.kind == Redirect::Kind::kMoved ? "MOVED " : "ASK ") +
                        std::to_string(d.slot) + " " + d.node.host + ":" + std::to_string(d.node.port);
    FUZZ_CHECK(again.size() <= s.size());  // leading zeros may spell a number longer
}

void seeds(std::string_view s) {
    std::vector<RedisUrl> out;
    std::string err;
    bool ok = parse_cluster_seeds(s, out, err);
    FUZZ_CHECK(ok == err.empty());
    if (ok) FUZZ_CHECK(!out.empty() && out.size() <= 64);
}

void replies(const uint8_t* data, size_t size) {
    redisReader* reader = redisReaderCreate();
    FUZZ_CHECK(reader != nullptr);
    // Smaller than the bus's, so the fuzzer's memory stays low; the same code path.
    ReplyBudget budget{ReplyLimits{1u << 20, 1u << 16}};
    bound_replies(reader, &budget);
    epws::fuzz::Rng rng(size);
    size_t at = 0;
    while (at < size) {
        size_t n = rng.between(1, size - at);
        if (redisReaderFeed(reader, reinterpret_cast<const char*>(data + at), n) != REDIS_OK) break;
        at += n;
        void* out = nullptr;
        while (redisReaderGetReply(reader, &out) == REDIS_OK && out != nullptr) {
            auto* r = static_cast<redisReply*>(out);
            SyncReply s;
            std::string err;
            if (decode_sync_reply(r, s, err)) {
                for (size_t i = 1; i < s.entries.size(); ++i)
                    FUZZ_CHECK(s.entries[i - 1].seq < s.entries[i].seq);
                if (!s.entries.empty()) FUZZ_CHECK(s.entries.back().seq <= s.seq);
            } else {
                FUZZ_CHECK(!err.empty());
            }
            PushMessage p;
            (void)decode_push(r, p);
            std::vector<std::string> names;
            if (decode_presence_reply(r, names, err)) FUZZ_CHECK(names.size() <= kMaxRemoteMembers);
            SlotMap map;
            if (parse_cluster_slots(r, "seed", map, err)) {
                FUZZ_CHECK(map.owner.size() == kClusterSlots);
                for (uint16_t o : map.owner) FUZZ_CHECK(o == SlotMap::kNoOwner || o < map.masters.size());
            }
            freeReplyObject(r);
            out = nullptr;
        }
    }
    redisReaderFree(reader);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 5) {
    case 0: stored(rest); break;
    case 1: url(rest); break;
    case 3: redirect(rest); break;
    case 4: seeds(rest); break;
    default: replies(data + 1, size - 1); break;
    }
    return 0;
}
