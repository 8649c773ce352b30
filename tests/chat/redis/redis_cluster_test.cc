// tests/chat/redis/redis_cluster_test.cc: key slots against the Redis Cluster specification's
// values, CLUSTER SLOTS replies from real RESP bytes (hiredis' own reader), redirections and seeds.
#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>

#include "tests/chat/redis/resp_reply.h"

#include "chat/redis/redis_cluster.h"
#include "chat/redis/redis_codec.h"

using namespace epws::chat;
using epws::test::parse;
using epws::test::Reply;

namespace {

std::string bulk(const std::string& s) {
    return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}
std::string num(long long v) { return ":" + std::to_string(v) + "\r\n"; }
std::string range(long long a, long long b, const std::string& host, long long port) {
    return "*3\r\n" + num(a) + num(b) + "*3\r\n" + bulk(host) + num(port) +
           bulk("id" + host + std::to_string(port));
}

} // namespace

TEST_SUITE("chat/redis/redis_cluster") {

    TEST_CASE("crc16 is the XMODEM variant the specification names: 123456789 gives 0x31C3") {
        CHECK(crc16_xmodem("123456789") == 0x31C3);
        CHECK(crc16_xmodem("") == 0);
    }

    TEST_CASE("key slots match the values Redis itself reports (CLUSTER KEYSLOT)") {
        CHECK(key_slot("123456789") == 12739);
        CHECK(key_slot("foo") == 12182);
        CHECK(key_slot("bar") == 5061);
        CHECK(key_slot("hello") == 866);
    }

    TEST_CASE("a hash tag hashes only what lies between the first braces") {
        CHECK(key_slot("{user1000}.following") == key_slot("user1000"));
        CHECK(key_slot("{user1000}.followers") == key_slot("{user1000}.following"));
        CHECK(key_slot("foo{}{bar}") != key_slot("bar")); // "{}" is no tag: the whole key counts
        CHECK(key_slot("foo{{bar}}zap") == key_slot("{bar"));
        CHECK(key_slot("foo{bar}{zap}") == key_slot("bar"));
    }

    TEST_CASE("a room's keys and channel share one slot, so its scripts run on one shard") {
        for (const char* room : {"dev", "general", "a{b}", "x"}) {
            RoomKeys k = room_keys(room);
            INFO(room);
            uint16_t s = key_slot(k.meta);
            CHECK(key_slot(k.log) == s);
            CHECK(key_slot(k.channel) == s);
            CHECK(key_slot(k.nodes) == s);
            CHECK(key_slot(k.node + "0123456789abcdef") == s);
        }
        CHECK(key_slot(kUserNodes) == key_slot(std::string(kUserListPrefix) + "0123456789abcdef"));
    }

    TEST_CASE("CLUSTER SLOTS of three masters maps every slot") {
        std::string resp = "*3\r\n" + range(0, 5460, "127.0.0.1", 7000) +
                           range(5461, 10922, "127.0.0.1", 7001) +
                           range(10923, 16383, "127.0.0.1", 7002);
        Reply r = parse(resp);
        SlotMap m;
        std::string err;
        REQUIRE(parse_cluster_slots(r.get(), "seed", m, err));
        CHECK(m.complete());
        REQUIRE(m.masters.size() == 3);
        CHECK(m.masters[m.owner[0]] == ClusterNode{"127.0.0.1", 7000});
        CHECK(m.masters[m.owner[5461]] == ClusterNode{"127.0.0.1", 7001});
        CHECK(m.masters[m.owner[16383]] == ClusterNode{"127.0.0.1", 7002});
        CHECK(m.masters[m.owner[key_slot("123456789")]].port == 7002);
    }

    TEST_CASE("a master met twice is one entry, and an empty host is the node asked") {
        std::string resp = "*3\r\n" + range(0, 99, "", 7000) + range(100, 16000, "10.0.0.2", 7001) +
                           range(16001, 16383, "", 7000);
        Reply r = parse(resp);
        SlotMap m;
        std::string err;
        REQUIRE(parse_cluster_slots(r.get(), "127.0.0.9", m, err));
        CHECK(m.complete());
        REQUIRE(m.masters.size() == 2);
        CHECK(m.masters[m.owner[16383]] == ClusterNode{"127.0.0.9", 7000});
    }

    TEST_CASE("a map with a hole is parsed but not complete") {
        Reply r = parse("*1\r\n" + range(0, 16382, "127.0.0.1", 7000));
        SlotMap m;
        std::string err;
        REQUIRE(parse_cluster_slots(r.get(), "h", m, err));
        CHECK_FALSE(m.complete());
        CHECK(m.owner[16383] == SlotMap::kNoOwner);
    }

    TEST_CASE("malformed CLUSTER SLOTS replies are refused with a reason") {
        const std::string bad[] = {
            "-ERR This instance has cluster support disabled\r\n",
            ":1\r\n",
            "*1\r\n*2\r\n:0\r\n:5\r\n",                                       // no master
            "*1\r\n" + range(5, 4, "h", 7000),                                // reversed
            "*1\r\n" + range(0, 16384, "h", 7000),                            // past the last slot
            "*1\r\n" + range(-1, 5, "h", 7000),                               // negative
            "*1\r\n" + range(0, 5, "h", 0),                                   // port 0
            "*1\r\n" + range(0, 5, "h", 65536),                               // port too big
            "*1\r\n*3\r\n" + num(0) + num(5) + "*2\r\n" + num(1) + num(7000), // host not a string
        };
        for (const std::string& b : bad) {
            INFO(b);
            Reply r = parse(b);
            SlotMap m;
            std::string err;
            CHECK_FALSE(parse_cluster_slots(r.get(), "h", m, err));
            CHECK_FALSE(err.empty());
        }
    }

    TEST_CASE("MOVED and ASK name the slot and the node to ask") {
        Redirect d;
        REQUIRE(parse_redirect("MOVED 3999 127.0.0.1:6381", d));
        CHECK(d.kind == Redirect::Kind::kMoved);
        CHECK(d.slot == 3999);
        CHECK(d.node == ClusterNode{"127.0.0.1", 6381});
        REQUIRE(parse_redirect("ASK 12739 ::1:7002", d));
        CHECK(d.kind == Redirect::Kind::kAsk);
        CHECK(d.slot == 12739);
        CHECK(d.node == ClusterNode{"::1", 7002});
    }

    TEST_CASE("other errors and malformed redirections are not redirections") {
        Redirect d;
        for (const char* e :
             {"TRYAGAIN Multiple keys request during rehashing of slot", "CLUSTERDOWN", "MOVED",
              "MOVED 3999", "MOVED x 1.2.3.4:5", "MOVED 16384 1.2.3.4:5", "MOVED 1 1.2.3.4",
              "MOVED 1 1.2.3.4:0", "MOVED 1 1.2.3.4:65536", "ASK 1 1.2.3.4:x", "moved 1 1.2.3.4:5",
              "MOVED -1 1.2.3.4:5"}) {
            INFO(e);
            CHECK_FALSE(parse_redirect(e, d));
        }
    }

    TEST_CASE("seeds are URLs or host:port, comma-separated, with the first seed's credentials") {
        std::vector<RedisUrl> s;
        std::string err;
        REQUIRE(parse_cluster_seeds("redis://u:pw@127.0.0.1:7000,127.0.0.1:7001,redis://h:7002", s,
                                    err));
        REQUIRE(s.size() == 3);
        CHECK(s[0].port == 7000);
        CHECK(s[1].host == "127.0.0.1");
        CHECK(s[1].port == 7001);
        CHECK(s[2].host == "h");
        CHECK(s[2].password == "pw");
        CHECK(s[2].user == "u");
    }

    TEST_CASE("bad seed lists are refused with a reason") {
        std::vector<RedisUrl> s;
        for (const char* t :
             {"", "127.0.0.1:7000,", "127.0.0.1:0", "redis://h:7000/1", "http://h:1"}) {
            std::string err;
            INFO(t);
            CHECK_FALSE(parse_cluster_seeds(t, s, err));
            CHECK_FALSE(err.empty());
        }
    }
}
