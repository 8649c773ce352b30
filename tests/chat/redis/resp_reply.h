// tests/chat/redis/resp_reply.h: RESP bytes parsed into a hiredis reply, as hiredis would have
// received them from Redis, for the Redis codec and cluster tests. Layer: tests/.
#pragma once

#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>

namespace epws::test {

struct ReplyFree {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

inline Reply parse(const std::string& resp) {
    redisReader* reader = redisReaderCreate();
    REQUIRE(redisReaderFeed(reader, resp.data(), resp.size()) == REDIS_OK);
    void* out = nullptr;
    REQUIRE(redisReaderGetReply(reader, &out) == REDIS_OK);
    redisReaderFree(reader);
    REQUIRE(out != nullptr);
    return Reply(static_cast<redisReply*>(out));
}

}  // namespace epws::test
