// tests/chat/redis/redis_codec_test.cc: the stored message format, and Redis replies decoded from
// real RESP bytes (hiredis' own reader), the malformed ones refused.
#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>

#include "tests/chat/redis/resp_reply.h"

#include "chat/redis/redis_codec.h"

using namespace epws::chat;
using epws::test::parse;
using epws::test::Reply;

namespace {

std::string bulk(const std::string& s) { return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n"; }

std::string entry(uint64_t seq, const std::string& m) {
    return "*2\r\n" + bulk("0-" + std::to_string(seq)) + "*2\r\n" + bulk("m") + bulk(m);
}

std::string stored(uint64_t seq, const std::string& from, const std::string& text) {
    return std::to_string(seq) + ":e1:1700000000000:" + encode_message_body(1700000000000, from, text).substr(14);
}

}  // namespace

TEST_SUITE("chat/redis/redis_codec") {
    TEST_CASE("a room's keys and channel share one hash tag") {
        RoomKeys k = room_keys("dev");
        CHECK(k.meta == "epws:{dev}:meta");
        CHECK(k.log == "epws:{dev}:log");
        CHECK(k.channel == "epws:{dev}");
    }

    TEST_CASE("a message body and the script's prefix decode back to every field") {
        std::string body = encode_message_body(1700000000123, "alice", "hi: there\n:)");
        CHECK(body == "1700000000123:5:alicehi: there\n:)");
        const std::string whole = "42:0123abcd:" + body;  // the views point into it
        StoredMessage m;
        REQUIRE(decode_stored_message(whole, m));
        CHECK(m.seq == 42);
        CHECK(m.epoch == "0123abcd");
        CHECK(m.ts == 1700000000123);
        CHECK(m.from == "alice");
        CHECK(m.text == "hi: there\n:)");
    }

    TEST_CASE("a from with a colon and an empty text still split at the stated length") {
        StoredMessage m;
        REQUIRE(decode_stored_message("1:e:5:3:a:b", m));
        CHECK(m.from == "a:b");
        CHECK(m.text.empty());
    }

    TEST_CASE("malformed stored messages are refused") {
        StoredMessage m;
        for (const char* bad : {"", ":", "0:e:1:1:a", "x:e:1:1:a", "1::1:1:a", "1:E:1:1:a",
                                "1:e:1:0:", "1:e:1:2:a", "1:e::1:a", "1:e:1:1a", "9007199254740992:e:1:1:a",
                                "1:e:1:99999999999999999999999:a", "1:e-1:1:1:a", "01:e:1:1:a", "1:e:01:1:a",
                                "1:abcdefghijklmnopqrstuvwxyz0123456789:1:1:a"}) {
            INFO(bad);
            CHECK_FALSE(decode_stored_message(bad, m));
        }
    }

    TEST_CASE("every truncation of a stored message is refused or decodes within its bytes") {
        const std::string full = "12:ab:1700:5:alicehello";
        for (size_t n = 0; n < full.size(); ++n) {
            StoredMessage m;
            std::string cut = full.substr(0, n);
            if (decode_stored_message(cut, m)) {
                CHECK(m.from.size() + m.text.size() <= cut.size());
            }
        }
    }

    TEST_CASE("a sync reply of the tail, newest first, comes out in seq order") {
        std::string resp = "*3\r\n" + bulk("e1") + bulk("7") + "*2\r\n" +
                           entry(7, stored(7, "bob", "seven")) + entry(6, stored(6, "al", "six"));
        Reply r = parse(resp);
        SyncReply s;
        std::string err;
        REQUIRE(decode_sync_reply(r.get(), s, err));
        CHECK(s.epoch == "e1");
        CHECK(s.seq == 7);
        REQUIRE(s.entries.size() == 2);
        CHECK(s.entries[0].seq == 6);
        CHECK(s.entries[0].text == "six");
        CHECK(s.entries[1].from == "bob");
    }

    TEST_CASE("a sync reply of an empty room has a seq and no entries") {
        Reply r = parse("*3\r\n" + bulk("e1") + bulk("0") + "*0\r\n");
        SyncReply s;
        std::string err;
        REQUIRE(decode_sync_reply(r.get(), s, err));
        CHECK(s.seq == 0);
        CHECK(s.entries.empty());
    }

    TEST_CASE("malformed sync replies are refused with a reason") {
        const std::string ok6 = entry(6, stored(6, "al", "six"));
        for (const std::string& resp : {
                 std::string("-ERR no such script\r\n"),
                 std::string(":5\r\n"),
                 "*2\r\n" + bulk("e1") + bulk("7"),
                 "*3\r\n$-1\r\n" + bulk("7") + "*0\r\n",             // no epoch
                 "*3\r\n" + bulk("E!") + bulk("7") + "*0\r\n",       // a bad epoch
                 "*3\r\n" + bulk("e1") + bulk("x") + "*0\r\n",       // a bad seq
                 "*3\r\n" + bulk("e1") + bulk("5") + "*1\r\n" + ok6,  // an entry past seq
                 "*3\r\n" + bulk("e1") + bulk("9") + "*2\r\n" + ok6 + ok6,  // a repeat
                 "*3\r\n" + bulk("e1") + bulk("9") + ":1\r\n",
                 "*3\r\n" + bulk("e1") + bulk("9") + "*1\r\n*2\r\n" + bulk("0-1") + "*2\r\n" + bulk("x") + bulk("y"),
                 "*3\r\n" + bulk("e1") + bulk("9") + "*1\r\n*2\r\n" + bulk("0-1") + "*2\r\n" + bulk("m") + bulk("junk"),
             }) {
            Reply r = parse(resp);
            SyncReply s;
            std::string err;
            INFO(resp);
            CHECK_FALSE(decode_sync_reply(r.get(), s, err));
            CHECK_FALSE(err.empty());
        }
        SyncReply s;
        std::string err;
        CHECK_FALSE(decode_sync_reply(nullptr, s, err));
    }

    TEST_CASE("pub/sub pushes: subscribe confirmations and messages") {
        PushMessage m;
        Reply sub = parse("*3\r\n" + bulk("subscribe") + bulk("epws:{dev}") + ":1\r\n");
        REQUIRE(decode_push(sub.get(), m));
        CHECK(m.kind == PushMessage::Kind::kSubscribe);
        CHECK(m.channel == "epws:{dev}");
        CHECK_FALSE(m.sharded);
        Reply msg = parse("*3\r\n" + bulk("message") + bulk("epws:{dev}") + bulk("1:e:2:1:ax"));
        REQUIRE(decode_push(msg.get(), m));
        CHECK(m.kind == PushMessage::Kind::kMessage);
        CHECK(m.payload == "1:e:2:1:ax");
        Reply bad = parse("*3\r\n" + bulk("message") + bulk("c") + ":1\r\n");
        CHECK_FALSE(decode_push(bad.get(), m));
        Reply flat = parse(bulk("message"));
        CHECK_FALSE(decode_push(flat.get(), m));
        CHECK_FALSE(decode_push(nullptr, m));
    }

    TEST_CASE("sharded pushes (Redis 7) are told apart from their classic twins") {
        PushMessage m;
        Reply sub = parse("*3\r\n" + bulk("ssubscribe") + bulk("epws:{dev}") + ":1\r\n");
        REQUIRE(decode_push(sub.get(), m));
        CHECK(m.kind == PushMessage::Kind::kSubscribe);
        CHECK(m.sharded);
        Reply msg = parse("*3\r\n" + bulk("smessage") + bulk("epws:{dev}") + bulk("1:e:2:1:ax"));
        REQUIRE(decode_push(msg.get(), m));
        CHECK(m.kind == PushMessage::Kind::kMessage);
        CHECK(m.sharded);
        CHECK(m.payload == "1:e:2:1:ax");
        Reply gone = parse("*3\r\n" + bulk("sunsubscribe") + bulk("epws:{dev}") + ":0\r\n");
        REQUIRE(decode_push(gone.get(), m));
        CHECK(m.kind == PushMessage::Kind::kUnsubscribe);
        CHECK(m.sharded);
        Reply classic = parse("*3\r\n" + bulk("unsubscribe") + bulk("epws:{dev}") + ":0\r\n");
        REQUIRE(decode_push(classic.get(), m));
        CHECK(m.kind == PushMessage::Kind::kUnsubscribe);
        CHECK_FALSE(m.sharded);
    }

    TEST_CASE("presence replies: every node's names, each a valid user name") {
        CHECK(encode_member_list({"alice", "bob"}) == "alice\nbob");
        CHECK(encode_member_list({}).empty());
        Reply r = parse("*2\r\n" + bulk("alice\nbob") + bulk("carol"));
        std::vector<std::string> names;
        std::string err;
        REQUIRE(decode_presence_reply(r.get(), names, err));
        CHECK(names == std::vector<std::string>{"alice", "bob", "carol"});
        Reply none = parse("*0\r\n");
        REQUIRE(decode_presence_reply(none.get(), names, err));
        CHECK(names.empty());
        for (const std::string& resp : {std::string(":1\r\n"), std::string("*1\r\n:1\r\n"), "*1\r\n" + bulk("a\n\nb"),
                                        "*1\r\n" + bulk(" lead"), "*1\r\n" + bulk("tab\tin"),
                                        std::string("-ERR x\r\n")}) {
            Reply bad = parse(resp);
            INFO(resp);
            CHECK_FALSE(decode_presence_reply(bad.get(), names, err));
        }
    }
}
