// tests/chat/connection_registry_test.cc: ids, snapshots, the capped list, and readers on other
// threads while the owning thread counts, adds and removes (run under TSan and ASan).
#include "chat/connection_registry.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace epws;
using namespace epws::chat;

TEST_SUITE("chat/connection_registry") {
    TEST_CASE("ids start at 1, grow, and are never reused after a remove") {
        ConnectionRegistry r;
        ws::ConnectionStats* s = nullptr;
        uint64_t a = r.add(0, "alice", {}, 10, s);
        uint64_t b = r.add(1, "bob", {}, 11, s);
        CHECK(a == 1);
        CHECK(b == 2);
        r.remove(a);
        CHECK(r.add(0, "carol", {}, 12, s) == 3);
    }

    TEST_CASE("a snapshot copies the entry and the counters as the owner left them") {
        ConnectionRegistry r;
        ws::ConnectionStats* s = nullptr;
        ws::DeflateParams d;
        d.enabled = true;
        d.server_window_bits = 12;
        uint64_t id = r.add(3, "名前", d, 1700000000000, s);
        REQUIRE(s != nullptr);
        ++s->messages_in;
        s->messages_out += 2;
        s->wire_bytes_in += 30;
        s->wire_bytes_out += 40;
        s->payload_bytes_in += 50;
        s->payload_bytes_out += 60;
        s->compressed_bytes_in += 25;
        s->compressed_bytes_out += 20;
        s->ping_rtt_us = 123;
        ConnectionView v;
        REQUIRE(r.snapshot(id, v));
        CHECK(v.id == id);
        CHECK(v.loop == 3);
        CHECK(v.user == "名前");
        CHECK(bool(v.deflate.enabled));
        CHECK(v.deflate.server_window_bits == 12);
        CHECK(v.opened_ms == 1700000000000);
        CHECK(v.messages_in == 1);
        CHECK(v.messages_out == 2);
        CHECK(v.wire_bytes_in == 30);
        CHECK(v.wire_bytes_out == 40);
        CHECK(v.payload_bytes_in == 50);
        CHECK(v.payload_bytes_out == 60);
        CHECK(v.compressed_bytes_in == 25);
        CHECK(v.compressed_bytes_out == 20);
        CHECK(v.ping_rtt_us == 123);
    }

    TEST_CASE("an unknown or removed id has no snapshot") {
        ConnectionRegistry r;
        ConnectionView v;
        CHECK_FALSE(r.snapshot(0, v));
        CHECK_FALSE(r.snapshot(1, v));
        ws::ConnectionStats* s = nullptr;
        uint64_t id = r.add(0, "a", {}, 0, s);
        CHECK(r.snapshot(id, v));
        r.remove(id);
        CHECK_FALSE(r.snapshot(id, v));
        r.remove(id);  // twice: nothing happens
        r.remove(12345);
    }

    TEST_CASE("the list holds the oldest max connections and counts them all") {
        ConnectionRegistry r;
        ws::ConnectionStats* s = nullptr;
        for (int i = 0; i < 10; ++i) r.add(0, "u" + std::to_string(i), {}, 0, s);
        r.remove(2);
        std::vector<ConnectionView> out;
        CHECK(r.list(4, out) == 9);
        REQUIRE(out.size() == 4);
        CHECK(out[0].id == 1);
        CHECK(out[1].id == 3);  // 2 is gone
        CHECK(out[3].id == 5);
        CHECK(out[3].user == "u4");
        out.clear();
        CHECK(r.list(100, out) == 9);
        CHECK(out.size() == 9);
        out.clear();
        CHECK(r.list(0, out) == 9);
        CHECK(out.empty());
    }

    TEST_CASE("readers on other threads see live counters while the owner adds, counts and removes") {
        // The owning loop's pattern: add, count without the lock, remove; readers on other
        // threads snapshot the ids the list shows them, racing the owner's removals. ASan
        // catches a read of a freed block, TSan a race between the owner's stores and the
        // readers' loads.
        ConnectionRegistry r;
        std::atomic<bool> done{false};
        std::atomic<uint64_t> seen{0};
        std::vector<std::thread> readers;
        for (int t = 0; t < 2; ++t) {
            readers.emplace_back([&] {
                while (!done.load(std::memory_order_acquire)) {  // the flag only
                    std::vector<ConnectionView> list;
                    r.list(3, list);
                    for (const ConnectionView& listed : list) {
                        ConnectionView v;
                        if (!r.snapshot(listed.id, v)) continue;  // removed in between
                        // Each counter is one value its owner stored, never torn or garbage
                        // (relaxed loads of two counters need not agree with each other).
                        CHECK(v.messages_in <= 100);
                        CHECK(v.wire_bytes_in % 7 == 0);
                        CHECK(v.wire_bytes_in <= 700);
                        seen.fetch_add(1, std::memory_order_relaxed);  // a count only
                    }
                }
            });
        }
        std::vector<std::pair<uint64_t, ws::ConnectionStats*>> open;
        // Until the readers have read plenty (bounded, should they never be scheduled).
        for (int round = 0; round < 1000000 && seen.load(std::memory_order_relaxed) < 2000;
             ++round) {
            ws::ConnectionStats* s = nullptr;
            open.emplace_back(r.add(0, "owner", {}, 0, s), s);
            for (auto& [oid, os] : open) {
                if (os->messages_in.load() < 100) {  // two counters per message, as a loop does
                    os->wire_bytes_in += 7;
                    ++os->messages_in;
                }
            }
            if (open.size() > 8) {
                r.remove(open.front().first);
                open.erase(open.begin());
            }
        }
        done.store(true, std::memory_order_release);  // the flag only
        for (auto& t : readers) t.join();
        for (auto& [oid, os] : open) r.remove(oid);
        std::vector<ConnectionView> list;
        CHECK(r.list(10, list) == 0);
        CHECK(seen.load() > 0);
    }
}
