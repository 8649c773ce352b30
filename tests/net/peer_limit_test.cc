// tests/net/peer_limit_test.cc: open connections counted per peer address.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "net/peer_limit.h"

using epws::net::PeerLimit;

namespace {
// A peer address as accept4 reports it (the port never matters to the count).
sockaddr_storage peer(int family, const char* ip, uint16_t port) {
    sockaddr_storage ss{};
    ss.ss_family = static_cast<sa_family_t>(family);
    auto& sin = reinterpret_cast<sockaddr_in&>(ss);
    auto& sin6 = reinterpret_cast<sockaddr_in6&>(ss);
    (family == AF_INET ? sin.sin_port : sin6.sin6_port) = htons(port);
    void* dst = family == AF_INET ? static_cast<void*>(&sin.sin_addr) : &sin6.sin6_addr;
    REQUIRE(inet_pton(family, ip, dst) == 1);
    return ss;
}

sockaddr_storage v4(const char* ip, uint16_t port = 1234) { return peer(AF_INET, ip, port); }
sockaddr_storage v6(const char* ip, uint16_t port = 1234) { return peer(AF_INET6, ip, port); }

// Takes as many slots for addr as the limit gives; returns them.
std::vector<PeerLimit::Slot*> fill(PeerLimit& limit, const sockaddr_storage& addr) {
    std::vector<PeerLimit::Slot*> slots;
    PeerLimit::Slot* s = nullptr;
    while (slots.size() < 1000 && limit.acquire(addr, s)) slots.push_back(s);
    return slots;
}
}  // namespace

TEST_SUITE("net/peer_limit") {
    TEST_CASE("an address is admitted cap times, then refused until one connection closes") {
        PeerLimit limit(3);
        auto slots = fill(limit, v4("10.0.0.1"));
        CHECK(slots.size() == 3);
        PeerLimit::Slot* s = nullptr;
        CHECK(!limit.acquire(v4("10.0.0.1", 999), s));  // another port of the same host
        CHECK(s == nullptr);
        CHECK(limit.acquire(v4("10.0.0.2"), s));  // another host is not affected
        limit.release(s);
        limit.release(slots.back());
        CHECK(limit.acquire(v4("10.0.0.1"), s));
        CHECK(s != nullptr);
    }

    TEST_CASE("the table forgets an address once its last connection closes") {
        PeerLimit limit(2);
        auto a = fill(limit, v4("10.0.0.1"));
        auto b = fill(limit, v4("10.0.0.2"));
        CHECK(limit.peers() == 2);
        for (auto* s : a) limit.release(s);
        CHECK(limit.peers() == 1);
        for (auto* s : b) limit.release(s);
        CHECK(limit.peers() == 0);
    }

    TEST_CASE("slots stay valid while the table grows and rehashes") {
        PeerLimit limit(1);
        PeerLimit::Slot* first = nullptr;
        REQUIRE(limit.acquire(v4("10.1.0.0"), first));
        std::vector<PeerLimit::Slot*> others;
        for (int i = 1; i < 5000; ++i) {
            std::string ip = "10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256);
            PeerLimit::Slot* s = nullptr;
            REQUIRE(limit.acquire(v4(ip.c_str()), s));
            others.push_back(s);
        }
        CHECK(limit.peers() == 5000);
        limit.release(first);
        CHECK(limit.peers() == 4999);
        PeerLimit::Slot* again = nullptr;
        CHECK(limit.acquire(v4("10.1.0.0"), again));
        for (auto* s : others) limit.release(s);
        limit.release(again);
        CHECK(limit.peers() == 0);
    }

    TEST_CASE("IPv6 addresses count by /64 prefix and IPv4-mapped ones as the IPv4 host") {
        PeerLimit limit(2);
        PeerLimit::Slot* s = nullptr;
        REQUIRE(limit.acquire(v6("2001:db8:1:2::1"), s));
        REQUIRE(limit.acquire(v6("2001:db8:1:2:ffff::9"), s));  // same /64
        CHECK(!limit.acquire(v6("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), s));
        CHECK(limit.acquire(v6("2001:db8:1:3::1"), s));  // the next /64

        REQUIRE(limit.acquire(v4("192.0.2.7"), s));
        REQUIRE(limit.acquire(v6("::ffff:192.0.2.7"), s));
        CHECK(!limit.acquire(v4("192.0.2.7"), s));
        CHECK(limit.acquire(v6("::ffff:192.0.2.8"), s));
    }

    TEST_CASE("cap 0 counts nothing and admits everyone") {
        PeerLimit limit(0);
        auto slots = fill(limit, v4("10.0.0.1"));
        CHECK(slots.size() == 1000);
        CHECK(slots.front() == nullptr);
        CHECK(limit.peers() == 0);
        limit.release(nullptr);
    }

    TEST_CASE("address families other than IPv4 and IPv6 are not counted") {
        PeerLimit limit(1);
        sockaddr_storage unix_peer{};
        unix_peer.ss_family = AF_UNIX;
        PeerLimit::Slot* s = nullptr;
        CHECK(limit.acquire(unix_peer, s));
        CHECK(limit.acquire(unix_peer, s));
        CHECK(s == nullptr);
    }

    TEST_CASE("loops on several threads never pass the cap together") {
        PeerLimit limit(100);
        std::vector<std::thread> threads;
        std::atomic<int> admitted{0};
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 1000; ++i) {
                    PeerLimit::Slot* s = nullptr;
                    if (!limit.acquire(v4("10.0.0.1"), s)) continue;
                    admitted.fetch_add(1);
                    CHECK(admitted.load() <= 100);
                    admitted.fetch_sub(1);
                    limit.release(s);
                }
            });
        for (auto& t : threads) t.join();
        CHECK(limit.peers() == 0);
    }
}
