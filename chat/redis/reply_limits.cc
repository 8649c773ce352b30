// chat/redis/reply_limits.cc: hiredis reply objects under a budget. Layer: chat/.
#include "chat/redis/reply_limits.h"

#include <hiredis/hiredis.h>

#include <cstdlib>
#include <cstring>

namespace epws::chat {
namespace {

ReplyBudget& budget_of(const redisReadTask* task) {
    return *static_cast<ReplyBudget*>(task->privdata);
}

// A new top-level reply starts a new budget.
void start(const redisReadTask* task) {
    if (task->parent != nullptr) return;
    ReplyBudget& b = budget_of(task);
    b.bytes = b.elements = 0;
}

// As hiredis does it (hiredis.c, createReplyObject and its callers): the new object goes into
// its parent's slot.
void* attach(const redisReadTask* task, redisReply* r) {
    if (task->parent != nullptr)
        static_cast<redisReply*>(task->parent->obj)->element[task->idx] = r;
    return r;
}

redisReply* make(int type) {
    auto* r = static_cast<redisReply*>(std::calloc(1, sizeof(redisReply)));
    if (r != nullptr) r->type = type;
    return r;
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
    start(task);
    ReplyBudget& b = budget_of(task);
    if (len > b.limits.max_bytes - b.bytes) return nullptr; // bytes <= max_bytes always
    b.bytes += len;
    redisReply* r = make(task->type);
    if (r == nullptr) return nullptr;
    r->str = static_cast<char*>(std::malloc(len + 1));
    if (r->str == nullptr) {
        std::free(r);
        return nullptr;
    }
    std::memcpy(r->str, str, len);
    r->str[len] = '\0';
    r->len = len;
    return attach(task, r);
}

void* create_array(const redisReadTask* task, int elements) {
    start(task);
    ReplyBudget& b = budget_of(task);
    // Before calloc: the header's count is a claim, not data.
    if (elements < 0 || static_cast<size_t>(elements) > b.limits.max_elements - b.elements)
        return nullptr;
    b.elements += static_cast<size_t>(elements);
    redisReply* r = make(REDIS_REPLY_ARRAY);
    if (r == nullptr) return nullptr;
    if (elements > 0) {
        r->element = static_cast<redisReply**>(
            std::calloc(static_cast<size_t>(elements), sizeof(redisReply*)));
        if (r->element == nullptr) {
            std::free(r);
            return nullptr;
        }
    }
    r->elements = static_cast<size_t>(elements);
    return attach(task, r);
}

void* create_integer(const redisReadTask* task, long long value) {
    start(task);
    redisReply* r = make(REDIS_REPLY_INTEGER);
    if (r == nullptr) return nullptr;
    r->integer = value;
    return attach(task, r);
}

void* create_nil(const redisReadTask* task) {
    start(task);
    redisReply* r = make(REDIS_REPLY_NIL);
    return r == nullptr ? nullptr : attach(task, r);
}

redisReplyObjectFunctions kBounded = {create_string, create_array, create_integer, create_nil,
                                      freeReplyObject};

} // namespace

void bound_replies(redisReader* reader, ReplyBudget* budget) {
    reader->fn = &kBounded;
    reader->privdata = budget;
}

size_t unread_bytes(const redisReader* reader) { return reader->len - reader->pos; }

} // namespace epws::chat
