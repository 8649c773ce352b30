// tests/chat/redis/reply_limits_test.cc: hiredis' reader with the bounded reply functions: the
// same replies as hiredis' own within the limits, fed whole and byte by byte; a header claiming
// more than the budget refused before anything is allocated for it.
#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include <string>

#include "chat/redis/reply_limits.h"

using namespace epws::chat;

namespace {

std::string bulk(const std::string& s) {
    return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

// Feeds resp in pieces of `step` bytes (0: whole) and returns every reply's shape, or "ERR".
std::string read_all(const std::string& resp, ReplyLimits limits, size_t step = 0) {
    redisReader* reader = redisReaderCreate();
    ReplyBudget budget{limits};
    bound_replies(reader, &budget);
    std::string out;
    auto shape = [](auto&& self, const redisReply* r) -> std::string {
        switch (r->type) {
        case REDIS_REPLY_ARRAY: {
            std::string s = "[";
            for (size_t i = 0; i < r->elements; ++i)
                s += (i ? "," : "") + self(self, r->element[i]);
            return s + "]";
        }
        case REDIS_REPLY_INTEGER:
            return std::to_string(r->integer);
        case REDIS_REPLY_NIL:
            return "nil";
        case REDIS_REPLY_ERROR:
            return "-" + std::string(r->str, r->len);
        case REDIS_REPLY_STATUS:
            return "+" + std::string(r->str, r->len);
        default:
            return "'" + std::string(r->str, r->len) + "'";
        }
    };
    size_t at = 0;
    bool failed = false;
    while (at < resp.size() && !failed) {
        size_t n = step == 0 ? resp.size() : std::min(step, resp.size() - at);
        REQUIRE(redisReaderFeed(reader, resp.data() + at, n) == REDIS_OK);
        at += n;
        for (;;) {
            void* reply = nullptr;
            if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
                failed = true;
                break;
            }
            if (reply == nullptr) break;
            out += shape(shape, static_cast<redisReply*>(reply)) + ";";
            freeReplyObject(reply);
        }
    }
    redisReaderFree(reader);
    return failed ? out + "ERR" : out;
}

const std::string kMixed =
    "*4\r\n" + bulk("epoch") + ":42\r\n*2\r\n$-1\r\n+OK\r\n-ERR no\r\n" + bulk("next");

} // namespace

TEST_SUITE("chat/redis/reply_limits") {

    TEST_CASE("replies within the limits come out as hiredis builds them, whole and byte by byte") {
        const std::string want = "['epoch',42,[nil,+OK],-ERR no];'next';";
        CHECK(read_all(kMixed, ReplyLimits{}) == want);
        CHECK(read_all(kMixed, ReplyLimits{}, 1) == want);
        for (size_t step = 2; step < kMixed.size(); ++step)
            CHECK(read_all(kMixed, ReplyLimits{}, step) == want);
    }

    TEST_CASE("an array header claiming a billion elements is refused before it is allocated") {
        CHECK(read_all("*1000000000\r\n", ReplyLimits{}) == "ERR");
        CHECK(read_all("*2147483647\r\n", ReplyLimits{}) == "ERR");
    }

    TEST_CASE("nested arrays count together against one reply's element budget") {
        ReplyLimits l{1024, 10};
        CHECK(read_all("*2\r\n*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n", l) ==
              "[[1,2,3,4],[1,2,3,4]];");
        CHECK(read_all("*2\r\n*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n*5\r\n", l) == "ERR");
    }

    TEST_CASE(
        "strings count together against one reply's byte budget, and each reply starts afresh") {
        ReplyLimits l{10, 100};
        CHECK(read_all("*2\r\n" + bulk("12345") + bulk("67890"), l) == "['12345','67890'];");
        CHECK(read_all("*2\r\n" + bulk("12345") + bulk("678901"), l) == "ERR");
        CHECK(read_all(bulk("1234567890") + bulk("1234567890"), l) == "'1234567890';'1234567890';");
        CHECK(read_all("-" + std::string(11, 'e') + "\r\n", l) == "ERR");
    }

    TEST_CASE("unread bytes show a bulk string still arriving") {
        redisReader* reader = redisReaderCreate();
        ReplyBudget budget{ReplyLimits{}};
        bound_replies(reader, &budget);
        std::string part = "$1000000000\r\n" + std::string(5000, 'x');
        REQUIRE(redisReaderFeed(reader, part.data(), part.size()) == REDIS_OK);
        void* reply = nullptr;
        REQUIRE(redisReaderGetReply(reader, &reply) == REDIS_OK);
        CHECK(reply == nullptr);
        CHECK(unread_bytes(reader) >= 5000);
        redisReaderFree(reader);
    }
}
