// tests/chat/memory_bus_test.cc: ring entries, their reclamation, each room's order and
// history, and waking sleeping loops.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <mutex>
#include <string>

#include "chat/memory_bus.h"
#include "net/loop.h"
#include "net/notifier.h"

using namespace epws;
using chat::MemoryBus;
using chat::RingEntry;
using chat::RoomSpan;
using chat::Topic;

namespace {

std::span<const std::byte> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string payload_of(const RingEntry& e) {
    auto p = e.payload();
    return {reinterpret_cast<const char*>(p.data()), p.size()};
}

RingEntry* entry(std::string_view text, Topic topic = Topic::kBroadcast, uint32_t target = 0) {
    return RingEntry::make(topic, target, ws::Opcode::kText, bytes_of(text));
}

// Drains everything loop i has and returns the payloads in order.
std::string drain_all(MemoryBus& bus, size_t loop) {
    std::vector<RingEntry*> out;
    bus.drain(loop, out, 1000);
    std::string seen;
    for (RingEntry* e : out) {
        seen += payload_of(*e);
        e->release();
    }
    return seen;
}

chat::RoomMessage say(std::string_view room, std::string_view text) {
    return {room, "alice", text, 0};
}

// The room's texts in [from, to], from the message events the bus built.
std::string texts(MemoryBus& bus, uint32_t room, uint64_t from, uint64_t to, RoomSpan* span = nullptr) {
    std::string seen;
    bus.read_room(0, room, from, to, [&](const chat::RoomRead& r) {
        if (span) *span = r.span;
        for (RingEntry* e : r.entries) {
            std::string p = payload_of(*e);
            auto at = p.find("\"text\":\"") + 8;
            seen += p.substr(at, p.find('"', at) - at);
        }
    });
    return seen;
}

uint64_t last_seq(MemoryBus& bus, uint32_t room) {
    uint64_t last = ~uint64_t{0};
    bus.read_room(0, room, UINT64_MAX, 0, [&](const chat::RoomRead& r) { last = r.span.last; });
    return last;
}

}  // namespace

TEST_SUITE("chat/memory_bus") {
    TEST_CASE("an entry lives until every loop has drained it") {
        MemoryBus bus(2, 8, 0, 4);
        RingEntry* e = entry("abc");
        REQUIRE(e != nullptr);
        CHECK(e->frame().size() == 5);  // framed once: a 2-byte header, then the payload
        REQUIRE(bus.publish(e));
        CHECK(drain_all(bus, 0) == "abc");
        CHECK(e->refs.load() == 1);  // loop 1 has not passed it yet
        CHECK(drain_all(bus, 1) == "abc");  // and the entry is freed now (ASan reports it if not)
    }

    TEST_CASE("a refused publication leaves the entry to its caller, who may retry") {
        MemoryBus bus(1, 2, 0, 4);
        REQUIRE(bus.publish(entry("a")));
        REQUIRE(bus.publish(entry("b")));
        RingEntry* c = entry("c");
        CHECK_FALSE(bus.publish(c));  // full
        CHECK(c->refs.load() == 1);
        CHECK(drain_all(bus, 0) == "ab");
        CHECK(bus.publish(c));
        CHECK(drain_all(bus, 0) == "c");
    }

    TEST_CASE("room messages get consecutive sequence numbers from 1, per room") {
        MemoryBus bus(1, 64, 10, 4);
        for (int i = 1; i <= 5; ++i) CHECK(bus.publish_to_room(1, say("lobby", "m")));
        CHECK(bus.publish_to_room(2, say("two", "n")));
        CHECK(last_seq(bus, 1) == 5);
        CHECK(last_seq(bus, 2) == 1);
        CHECK(last_seq(bus, 3) == 0);
        std::vector<RingEntry*> out;
        bus.drain(0, out, 100);
        REQUIRE(out.size() == 6);
        for (size_t i = 0; i < 5; ++i) {
            CHECK(out[i]->room_seq == i + 1);
            CHECK(out[i]->target == 1);
            // The chat protocol's message event, numbered, framed once.
            CHECK(payload_of(*out[i]).find("\"seq\":" + std::to_string(i + 1)) != std::string::npos);
        }
        for (RingEntry* e : out) e->release();
    }

    TEST_CASE("a refused room message takes no sequence number and is not kept") {
        MemoryBus bus(1, 2, 10, 4);
        CHECK(bus.publish_to_room(1, say("lobby", "a")));
        CHECK(bus.publish_to_room(1, say("lobby", "b")));
        CHECK_FALSE(bus.publish_to_room(1, say("lobby", "c")));  // the ring is full
        drain_all(bus, 0);
        CHECK(bus.publish_to_room(1, say("lobby", "d")));
        CHECK(texts(bus, 1, 1, 10) == "abd");
        drain_all(bus, 0);
    }

    TEST_CASE("history keeps the last N messages and says where it now starts") {
        MemoryBus bus(1, 64, 3, 4);
        for (int i = 1; i <= 5; ++i) bus.publish_to_room(1, say("lobby", std::to_string(i)));
        RoomSpan span{};
        CHECK(texts(bus, 1, 1, 100, &span) == "345");
        CHECK(span.oldest == 3);
        CHECK(span.last == 5);
        CHECK(texts(bus, 1, 4, 4) == "4");
        CHECK(texts(bus, 1, 6, 5, &span) == "");  // from > to: the span alone
        CHECK(span.last == 5);
        drain_all(bus, 0);
    }

    TEST_CASE("entries read from the history outlive the reply only with a reference taken") {
        MemoryBus bus(1, 64, 1, 4);
        bus.publish_to_room(1, say("lobby", "old"));
        RingEntry* kept = nullptr;
        bus.read_room(0, 1, 1, 1, [&](const chat::RoomRead& r) {
            REQUIRE(r.entries.size() == 1);
            kept = r.entries[0];
            kept->retain();
        });
        drain_all(bus, 0);
        bus.publish_to_room(1, say("lobby", "new"));  // pushes "old" out of the history
        drain_all(bus, 0);
        CHECK(payload_of(*kept).find("old") != std::string::npos);  // ASan: still ours
        kept->release();
    }

    TEST_CASE("a forgotten room starts its numbering again with no history") {
        MemoryBus bus(1, 64, 3, 4);
        bus.publish_to_room(1, say("lobby", "x"));
        bus.forget_room(1);
        CHECK(last_seq(bus, 1) == 0);
        CHECK(texts(bus, 1, 1, 10) == "");
        drain_all(bus, 0);
    }

    TEST_CASE("concurrent publishers to one room get distinct, gap-free numbers in ring order") {
        MemoryBus bus(1, 1u << 14, 100, 4);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 1000; ++i)
                    while (!bus.publish_to_room(1, say("lobby", "x"))) std::this_thread::yield();
            });
        for (auto& t : threads) t.join();
        std::vector<RingEntry*> out;
        bus.drain(0, out, 5000);
        REQUIRE(out.size() == 4000);
        for (size_t i = 0; i < out.size(); ++i) CHECK(out[i]->room_seq == i + 1);
        for (RingEntry* e : out) e->release();
    }

    TEST_CASE("a loop about to sleep is told to drain instead when an entry is ready") {
        MemoryBus bus(1, 8, 0, 4);
        CHECK(bus.prepare_to_sleep(0));
        bus.awake(0);
        REQUIRE(bus.publish(entry("", Topic::kRoom)));
        CHECK_FALSE(bus.prepare_to_sleep(0));
        drain_all(bus, 0);
        CHECK(bus.prepare_to_sleep(0));
    }

    TEST_CASE("sleeping loops on other threads are woken for every entry, none is lost") {
        constexpr size_t kLoops = 2;
        constexpr uint32_t kEntries = 20000;
        MemoryBus bus(kLoops, 64, 0, 4);
        std::vector<std::atomic<uint32_t>> got(kLoops);
        // Loops and notifiers outlive the threads that run them, so the wake-ups sent at
        // the end can never reach a destroyed notifier.
        std::vector<std::unique_ptr<net::Loop>> loop_objs(kLoops);
        std::vector<std::unique_ptr<net::Notifier>> notifiers(kLoops);
        std::string err;
        for (size_t i = 0; i < kLoops; ++i) {
            loop_objs[i] = net::Loop::create(err);
            REQUIRE(loop_objs[i]);
            notifiers[i] = net::Notifier::create(*loop_objs[i], err);
            REQUIRE(notifiers[i]);
            bus.attach(i, notifiers[i].get());
        }
        std::atomic<bool> give_up{false};
        std::atomic<int> ready{0};
        std::vector<std::thread> loops;
        for (size_t i = 0; i < kLoops; ++i) {
            loops.emplace_back([&, i] {
                net::Loop* l = loop_objs[i].get();
                l->set_before_wait([&, i, l] {
                    bus.awake(i);
                    std::vector<RingEntry*> out;
                    bus.drain(i, out, 256);
                    for (RingEntry* r : out) {
                        got[i].fetch_add(1);
                        r->release();
                    }
                    if (got[i].load() == kEntries || give_up.load()) {
                        l->stop();
                        return 0;
                    }
                    // Sleep with no timeout: only a wake-up from publish() can end it.
                    return bus.prepare_to_sleep(i) ? -1 : 0;
                });
                ready.fetch_add(1);
                l->run();
            });
        }
        while (ready.load() < int(kLoops)) std::this_thread::yield();
        for (uint32_t n = 0; n < kEntries; ++n) {
            RingEntry* e = entry("");
            while (!bus.publish(e)) std::this_thread::yield();
            if (n % 1000 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        // A lost wake-up leaves a loop asleep with entries ready: wait a generous deadline,
        // then wake everyone by hand so the test ends and reports it.
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        auto done = [&] {
            for (auto& g : got)
                if (g.load() != kEntries) return false;
            return true;
        };
        while (!done() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        bool woken_by_publishers = done();
        give_up.store(true);
        for (auto& n : notifiers) n->notify();
        for (auto& t : loops) t.join();
        CHECK(woken_by_publishers);
        for (auto& g : got) CHECK(g.load() == kEntries);
        CHECK(bus.wakeups() > 0);
    }
}
