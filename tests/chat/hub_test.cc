// tests/chat/hub_test.cc: ring entries, their reclamation, and waking sleeping loops.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "chat/hub.h"
#include "net/loop.h"
#include "net/notifier.h"

using namespace epws;
using chat::Hub;
using chat::RingEntry;
using chat::Topic;

TEST_SUITE("chat/hub") {
    TEST_CASE("an entry lives until every loop has drained it") {
        Hub hub(2, 8);
        RingEntry* e = RingEntry::make(Topic::kBroadcast, 3, 2);
        REQUIRE(e != nullptr);
        std::memcpy(e->data(), "abc", 3);
        REQUIRE(hub.publish(e));
        size_t seen = 0;
        hub.drain(0, [&](RingEntry* r) {
            CHECK(std::string_view(reinterpret_cast<const char*>(r->data()), 3) == "abc");
            ++seen;
            r->release();
        }, 10);
        CHECK(e->refs.load() == 1);  // loop 1 has not passed it yet
        hub.drain(1, [&](RingEntry* r) {
            ++seen;
            r->release();
        }, 10);
        CHECK(seen == 2);  // and the entry is freed now (ASan reports it if not)
    }

    TEST_CASE("a loop about to sleep is told to drain instead when an entry is ready") {
        Hub hub(1, 8);
        CHECK(hub.prepare_to_sleep(0));
        hub.awake(0);
        RingEntry* e = RingEntry::make(Topic::kRoom, 0, 1);
        REQUIRE(hub.publish(e));
        CHECK_FALSE(hub.prepare_to_sleep(0));
        hub.drain(0, [](RingEntry* r) { r->release(); }, 10);
        CHECK(hub.prepare_to_sleep(0));
    }

    TEST_CASE("sleeping loops on other threads are woken for every entry, none is lost") {
        constexpr size_t kLoops = 2;
        constexpr uint32_t kEntries = 20000;
        Hub hub(kLoops, 64);
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
            hub.attach(i, notifiers[i].get());
        }
        std::atomic<bool> give_up{false};
        std::atomic<int> ready{0};
        std::vector<std::thread> loops;
        for (size_t i = 0; i < kLoops; ++i) {
            loops.emplace_back([&, i] {
                net::Loop* l = loop_objs[i].get();
                l->set_before_wait([&, i, l] {
                    hub.awake(i);
                    hub.drain(i, [&](RingEntry* r) {
                        got[i].fetch_add(1);
                        r->release();
                    }, 256);
                    if (got[i].load() == kEntries || give_up.load()) {
                        l->stop();
                        return 0;
                    }
                    // Sleep with no timeout: only a wake-up from publish() can end it.
                    return hub.prepare_to_sleep(i) ? -1 : 0;
                });
                ready.fetch_add(1);
                l->run();
            });
        }
        while (ready.load() < int(kLoops)) std::this_thread::yield();
        for (uint32_t n = 0; n < kEntries; ++n) {
            RingEntry* e = RingEntry::make(Topic::kBroadcast, 0, kLoops);
            while (!hub.publish(e)) std::this_thread::yield();
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
        CHECK(hub.wakeups() > 0);
    }
}
