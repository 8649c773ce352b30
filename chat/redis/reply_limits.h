// chat/redis/reply_limits.h: bounds on what a Redis reply can make us hold. hiredis 0.14 trusts
// a reply's headers: "*1000000000" makes its default reader calloc 8 GB before one element has
// arrived. These reply-object functions (hiredis/read.h, redisReplyObjectFunctions) build the
// same redisReply objects as hiredis' own, and refuse an array or string past the reply's
// budget, which fails the reader ("Out of memory") and so the connection. Layer: chat/.
#pragma once

#include <cstddef>

struct redisReader;

namespace epws::chat {

struct ReplyLimits {
    size_t max_bytes = 64u << 20;   // string bytes in one reply (all its strings together)
    size_t max_elements = 1u << 20; // array elements one reply may claim, nested ones included
};

// A reader's budget: what the reply being read has claimed so far. Owned by the caller; must
// outlive the reader it is installed on. One reader's thread only.
struct ReplyBudget {
    ReplyLimits limits;
    size_t bytes = 0;
    size_t elements = 0;
};

// Makes reader build its replies with the bounded functions, counting against budget (the
// reader's privdata). The replies are freed with freeReplyObject(), as hiredis' own.
void bound_replies(redisReader* reader, ReplyBudget* budget);

// What the reader holds that no reply has consumed yet (a bulk string still arriving, whose
// header may claim gigabytes): the owner checks it after each read against limits.max_bytes.
size_t unread_bytes(const redisReader* reader);

} // namespace epws::chat
