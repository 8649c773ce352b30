// tests/chat/broadcast_ring_test.cc: the ring alone, single-threaded semantics and a
// multi-producer, multi-consumer stress (run under TSan by make test).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "chat/broadcast_ring.h"

using epws::chat::BroadcastRing;

namespace {

struct Item {
    uint32_t producer;
    uint32_t index;
};

std::vector<Item*> drain(BroadcastRing<Item>& ring, size_t consumer) {
    std::vector<Item*> out;
    ring.consume(consumer, [&](Item* it) { out.push_back(it); });
    return out;
}

}  // namespace

TEST_SUITE("chat/broadcast_ring") {
    TEST_CASE("every consumer sees every item once, in publication order") {
        BroadcastRing<Item> ring(8, 3);
        Item items[5] = {{0, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}};
        for (auto& it : items) REQUIRE(ring.try_publish(&it));
        for (size_t c = 0; c < 3; ++c) {
            auto got = drain(ring, c);
            REQUIRE(got.size() == 5);
            for (size_t i = 0; i < 5; ++i) CHECK(got[i] == &items[i]);
            CHECK(drain(ring, c).empty());
        }
    }

    TEST_CASE("a full ring refuses a publish instead of overwriting what a consumer has not read") {
        BroadcastRing<Item> ring(4, 2);
        Item items[6] = {};
        for (int i = 0; i < 4; ++i) REQUIRE(ring.try_publish(&items[i]));
        CHECK_FALSE(ring.try_publish(&items[4]));
        CHECK(drain(ring, 0).size() == 4);     // one consumer catches up ...
        CHECK_FALSE(ring.try_publish(&items[4]));  // ... the other still holds the gate
        REQUIRE(ring.consume(1, [](Item*) {}, 1) == 1);
        CHECK(ring.try_publish(&items[4]));    // exactly one slot freed
        CHECK_FALSE(ring.try_publish(&items[5]));
        auto rest = drain(ring, 1);
        REQUIRE(rest.size() == 4);
        CHECK(rest.back() == &items[4]);
    }

    TEST_CASE("consume honours its batch limit and ready() tells what is waiting") {
        BroadcastRing<Item> ring(16, 1);
        Item items[10] = {};
        CHECK_FALSE(ring.ready(0));
        for (auto& it : items) ring.try_publish(&it);
        CHECK(ring.ready(0));
        CHECK(ring.consume(0, [](Item*) {}, 3) == 3);
        CHECK(ring.consume(0, [](Item*) {}, 100) == 7);
        CHECK_FALSE(ring.ready(0));
    }

    TEST_CASE("the ring wraps around many times without losing or repeating an item") {
        BroadcastRing<Item> ring(4, 1);
        std::vector<Item> items(1000);
        size_t next = 0, seen = 0;
        for (uint32_t i = 0; i < items.size(); ++i) {
            items[i].index = i;
            while (!ring.try_publish(&items[i])) {
                ring.consume(0, [&](Item* it) {
                    CHECK(it->index == seen);
                    ++seen;
                });
            }
            ++next;
        }
        ring.consume(0, [&](Item* it) {
            CHECK(it->index == seen);
            ++seen;
        });
        CHECK(seen == items.size());
    }

    TEST_CASE("many producers and consumers: nothing lost or duplicated, one order for all") {
        constexpr uint32_t kProducers = 4, kConsumers = 3, kPerProducer = 20000;
        BroadcastRing<Item> ring(256, kConsumers);
        std::vector<Item> items(kProducers * kPerProducer);
        std::vector<std::vector<const Item*>> seen(kConsumers);
        std::vector<std::thread> threads;
        for (uint32_t c = 0; c < kConsumers; ++c) {
            threads.emplace_back([&, c] {
                auto& mine = seen[c];
                mine.reserve(items.size());
                while (mine.size() < items.size())
                    if (ring.consume(c, [&](Item* it) { mine.push_back(it); }) == 0)
                        std::this_thread::yield();
            });
        }
        for (uint32_t p = 0; p < kProducers; ++p) {
            threads.emplace_back([&, p] {
                for (uint32_t i = 0; i < kPerProducer; ++i) {
                    Item* it = &items[p * kPerProducer + i];
                    it->producer = p;
                    it->index = i;
                    while (!ring.try_publish(it)) std::this_thread::yield();  // full: retry
                }
            });
        }
        for (auto& t : threads) t.join();
        for (uint32_t c = 0; c < kConsumers; ++c) {
            REQUIRE(seen[c].size() == items.size());
            CHECK(seen[c] == seen[0]);  // the same global order everywhere
            std::vector<uint32_t> next(kProducers, 0);
            for (const Item* it : seen[c]) {
                REQUIRE(it->index == next[it->producer]);  // each producer's order, no gaps
                ++next[it->producer];
            }
        }
    }

    TEST_CASE("threads that both publish and consume never deadlock on a full ring") {
        // Each thread is a loop: it publishes and consumes the same ring. When its publish is
        // refused it consumes (moving its own cursor) and retries, so progress never waits
        // on a thread that is itself waiting.
        constexpr uint32_t kLoops = 3, kPerLoop = 5000;
        BroadcastRing<Item> ring(16, kLoops);
        std::vector<Item> items(kLoops * kPerLoop);
        std::vector<std::atomic<uint32_t>> counts(kLoops);
        std::vector<std::thread> threads;
        for (uint32_t l = 0; l < kLoops; ++l) {
            threads.emplace_back([&, l] {
                auto take = [&](Item*) { counts[l].fetch_add(1, std::memory_order_relaxed); };
                for (uint32_t i = 0; i < kPerLoop; ++i) {
                    Item* it = &items[l * kPerLoop + i];
                    it->producer = l;
                    it->index = i;
                    while (!ring.try_publish(it)) {
                        if (ring.consume(l, take) == 0) std::this_thread::yield();
                    }
                }
                while (counts[l].load(std::memory_order_relaxed) < items.size())
                    if (ring.consume(l, take) == 0) std::this_thread::yield();
            });
        }
        for (auto& t : threads) t.join();
        for (auto& c : counts) CHECK(c.load() == items.size());
    }
}
