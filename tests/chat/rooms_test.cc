// tests/chat/rooms_test.cc: room sequence numbers, history, presence and users.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "chat/rooms.h"

using namespace epws::chat;

namespace {

// A bus that takes everything (or refuses when told) and lets a test read what it took.
class FakeBus final : public Bus {
public:
    bool refuse = false;
    std::vector<RingEntry*> taken;
    bool publish(RingEntry* e) override {
        if (refuse) return false;
        taken.push_back(e);
        return true;
    }
    ~FakeBus() override {
        for (RingEntry* e : taken) e->release();  // the "loop's" reference
    }
};

RingEntry* text_entry(uint64_t seq, const std::string& text) {
    RingEntry* e = RingEntry::make(Topic::kRoom, static_cast<uint32_t>(text.size()), 2);
    std::memcpy(e->data(), text.data(), text.size());
    e->room_seq = seq;
    return e;
}

std::string text_of(const RingEntry& e) {
    return {reinterpret_cast<const char*>(e.data()), e.frame_len};
}

}  // namespace

TEST_SUITE("chat/rooms") {
    TEST_CASE("messages get consecutive sequence numbers from 1") {
        FakeBus bus;
        Room room(1, "lobby", 10);
        for (uint64_t i = 1; i <= 5; ++i)
            CHECK(room.publish(bus, [&](uint64_t seq) { return text_entry(seq, "m"); }) == i);
        CHECK(room.last_seq() == 5);
    }

    TEST_CASE("a refused publish takes no sequence number and keeps nothing") {
        FakeBus bus;
        Room room(1, "lobby", 10);
        room.publish(bus, [&](uint64_t seq) { return text_entry(seq, "a"); });
        bus.refuse = true;
        CHECK(room.publish(bus, [&](uint64_t seq) { return text_entry(seq, "b"); }) == 0);
        bus.refuse = false;
        CHECK(room.publish(bus, [&](uint64_t seq) { return text_entry(seq, "c"); }) == 2);
        std::string seen;
        room.read_history(1, 10, [&](const RingEntry& e) { seen += text_of(e); });
        CHECK(seen == "ac");
    }

    TEST_CASE("history keeps the last N messages and says where it now starts") {
        FakeBus bus;
        Room room(1, "lobby", 3);
        for (int i = 1; i <= 5; ++i)
            room.publish(bus, [&](uint64_t seq) { return text_entry(seq, std::to_string(i)); });
        std::string seen;
        Room::Span span = room.read_history(1, 100, [&](const RingEntry& e) { seen += text_of(e); });
        CHECK(span.oldest == 3);
        CHECK(span.last == 5);
        CHECK(seen == "345");
        seen.clear();
        room.read_history(4, 4, [&](const RingEntry& e) { seen += text_of(e); });
        CHECK(seen == "4");
    }

    TEST_CASE("presence counts connections: join on the first, leave on the last") {
        Room room(1, "lobby", 0);
        CHECK(room.add_member("alice"));
        CHECK_FALSE(room.add_member("alice"));  // a second tab
        CHECK(room.add_member("bob"));
        CHECK(room.members() == std::vector<std::string>{"alice", "bob"});
        CHECK_FALSE(room.remove_member("alice"));
        CHECK(room.remove_member("alice"));
        CHECK_FALSE(room.remove_member("carol"));
        CHECK(room.member_count() == 1);
    }

    TEST_CASE("rooms are found by name and id, and their number is capped") {
        RoomRegistry rooms(10, 2);
        Room* a = rooms.find("lobby", true);
        REQUIRE(a);
        CHECK(rooms.find("lobby", false) == a);
        CHECK(rooms.by_id(a->id()) == a);
        CHECK(rooms.find("nope", false) == nullptr);
        CHECK(rooms.find("second", true) != nullptr);
        CHECK(rooms.find("third", true) == nullptr);
        CHECK(rooms.list().size() == 2);
    }

    TEST_CASE("users are counted per connection up to a limit, and forgotten when gone") {
        UserRegistry users(2);
        uint32_t id = users.connect("alice");
        CHECK(id != 0);
        CHECK(users.connect("alice") == id);
        CHECK(users.connect("alice") == 0);  // over the per-user limit
        CHECK(users.online_id("alice") == id);
        users.disconnect("alice");
        users.disconnect("alice");
        CHECK(users.online_id("alice") == 0);
        CHECK(users.connect("alice") != id);  // ids are never reused
    }

    TEST_CASE("concurrent publishers get distinct, gap-free sequence numbers") {
        FakeBus bus;  // not thread-safe itself: guard it
        std::mutex mu;
        class LockedBus final : public Bus {
        public:
            LockedBus(FakeBus& b, std::mutex& m) : b_(b), m_(m) {}
            bool publish(RingEntry* e) override {
                std::lock_guard<std::mutex> lock(m_);
                return b_.publish(e);
            }

        private:
            FakeBus& b_;
            std::mutex& m_;
        } locked(bus, mu);
        Room room(1, "lobby", 100);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 1000; ++i)
                    room.publish(locked, [&](uint64_t seq) { return text_entry(seq, "x"); });
            });
        for (auto& t : threads) t.join();
        REQUIRE(bus.taken.size() == 4000);
        for (size_t i = 0; i < bus.taken.size(); ++i) CHECK(bus.taken[i]->room_seq == i + 1);
    }
}
