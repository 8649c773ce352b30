// tests/chat/rooms_test.cc: rooms (names, ids, presence, notices, expiry) and users.
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "chat/rooms.h"

using namespace epws::chat;

namespace {

// Publishes every notice (records it) or refuses them all.
struct Notices {
    std::vector<PresenceChange> got;
    std::vector<uint64_t> numbers;
    bool accept = true;
    std::function<bool(const PresenceChange&, uint64_t)> fn() {
        return [this](const PresenceChange& c, uint64_t n) {
            if (!accept) return false;
            got.push_back(c);
            numbers.push_back(n);
            return true;
        };
    }
};

RoomRegistry::Joined join(RoomRegistry& rooms, const char* room, const char* user) {
    return rooms.join(room, user, 100, nullptr);
}

}  // namespace

TEST_SUITE("chat/rooms") {
    TEST_CASE("presence counts connections: join on the first, leave on the last") {
        Room room(1, "lobby", 1);
        CHECK(room.add_member("alice"));
        CHECK_FALSE(room.add_member("alice"));  // a second tab
        CHECK(room.add_member("bob"));
        CHECK(room.members() == std::vector<std::string>{"alice", "bob"});
        CHECK_FALSE(room.remove_member("alice"));
        CHECK(room.remove_member("alice"));
        CHECK_FALSE(room.remove_member("carol"));
        CHECK(room.member_count() == 1);
    }

    TEST_CASE("a page lists members in byte order after a name, with the total and whether more follow") {
        Room room(1, "big", 7);
        for (int i = 0; i < 250; ++i) room.add_member("u" + std::to_string(1000 + i));
        PresencePage p = room.page({}, 100);
        CHECK(p.users.size() == 100);
        CHECK(p.users.front() == "u1000");
        CHECK(p.users.back() == "u1099");
        CHECK(p.count == 250);
        CHECK(p.more);
        CHECK(p.epoch == 7);
        p = room.page("u1099", 100);
        CHECK(p.users.front() == "u1100");
        p = room.page("u1199", 100);
        CHECK(p.users.size() == 50);
        CHECK_FALSE(p.more);
        CHECK(room.page("u1249", 100).users.empty());
        CHECK(room.page("a", 1).users == std::vector<std::string>{"u1000"});  // after no member
    }

    TEST_CASE("joins and leaves wait for one notice, numbered, with what changed since the last") {
        Room room(1, "dev", 1);
        Notices n;
        CHECK_FALSE(room.publish_changes(100, n.fn()));  // nothing to say
        uint64_t change = 99;
        room.add_member("alice", &change);
        CHECK(change == 0);  // no notice published yet
        room.add_member("bob");
        room.add_member("carol");
        room.remove_member("carol");  // joined and left within the round: not announced
        CHECK_FALSE(room.publish_changes(100, n.fn()));
        REQUIRE(n.got.size() == 1);
        CHECK(n.numbers[0] == 1);
        CHECK(n.got[0].joined == std::vector<std::string>{"alice", "bob"});
        CHECK(n.got[0].left.empty());
        CHECK(n.got[0].count == 2);
        room.add_member("dave", &change);
        CHECK(change == 1);  // a member joining now has notice 1 covered by its presence reply
        room.remove_member("alice");
        room.add_member("alice");  // left and came back: no change
        room.remove_member("bob");
        CHECK_FALSE(room.publish_changes(100, n.fn()));
        REQUIRE(n.got.size() == 2);
        CHECK(n.numbers[1] == 2);
        CHECK(n.got[1].joined == std::vector<std::string>{"dave"});
        CHECK(n.got[1].left == std::vector<std::string>{"bob"});
        CHECK(n.got[1].count == 2);
    }

    TEST_CASE("a refused notice keeps its changes and its number for the next try") {
        Room room(1, "dev", 1);
        Notices n;
        room.add_member("alice");
        n.accept = false;
        CHECK(room.publish_changes(100, n.fn()));  // still waiting
        room.add_member("bob");
        n.accept = true;
        CHECK_FALSE(room.publish_changes(100, n.fn()));
        REQUIRE(n.got.size() == 1);
        CHECK(n.numbers[0] == 1);
        CHECK(n.got[0].joined == std::vector<std::string>{"alice", "bob"});
    }

    TEST_CASE("a notice names at most the cap and counts the rest") {
        Room room(1, "big", 1);
        Notices n;
        for (int i = 0; i < 30; ++i) room.add_member("u" + std::to_string(i));
        room.publish_changes(10, n.fn());
        REQUIRE(n.got.size() == 1);
        CHECK(n.got[0].joined.size() == 10);
        CHECK(n.got[0].omitted == 20);
        CHECK(n.got[0].count == 30);
    }

    TEST_CASE("rooms are found by name and id, and their number is capped") {
        RoomRegistry rooms(2);
        Room* a = rooms.find("lobby", true);
        REQUIRE(a);
        CHECK(rooms.find("lobby", false) == a);
        CHECK(rooms.by_id(a->id()) == a);
        CHECK(rooms.find("nope", false) == nullptr);
        CHECK(rooms.find("second", true) != nullptr);
        CHECK(rooms.find("third", true) == nullptr);
        CHECK(join(rooms, "third", "alice").status == RoomRegistry::JoinStatus::kFull);
        CHECK(rooms.size() == 2);
    }

    TEST_CASE("join creates and joins in one step, and may refuse the creation") {
        RoomRegistry rooms(8);
        int asked = 0;
        auto refuse = [&] { ++asked; return false; };
        auto j = rooms.join("dev", "alice", 100, refuse);
        CHECK(j.status == RoomRegistry::JoinStatus::kCreateRefused);
        CHECK(asked == 1);
        CHECK(rooms.create_refused() == 1);
        CHECK(rooms.find("dev", false) == nullptr);
        j = join(rooms, "dev", "alice");
        REQUIRE(j.status == RoomRegistry::JoinStatus::kJoined);
        CHECK(j.created);
        CHECK(j.first);
        CHECK(j.page.users == std::vector<std::string>{"alice"});
        CHECK(j.page.epoch == j.room->epoch());
        CHECK(j.room->epoch() != 0);
        // An existing room is joined without asking.
        j = rooms.join("dev", "bob", 100, refuse);
        CHECK(j.status == RoomRegistry::JoinStatus::kJoined);
        CHECK_FALSE(j.created);
        CHECK(asked == 1);
        CHECK(j.page.count == 2);
    }

    TEST_CASE("rooms lists only the rooms that have members") {
        RoomRegistry rooms(8);
        auto a = join(rooms, "lobby", "alice");
        auto d = join(rooms, "dev", "alice");
        d.room->remove_member("alice", 5);
        auto list = rooms.list();
        REQUIRE(list.size() == 1);
        CHECK(list[0].name == "lobby");
        CHECK(list[0].members == 1);
        CHECK(a.room->member_count() == 1);
    }

    TEST_CASE("an empty room expires after the idle time; its id comes back with a new epoch") {
        RoomRegistry rooms(2);
        Notices n;
        std::vector<uint32_t> forgotten;
        auto forget = [&](uint32_t id) { forgotten.push_back(id); };
        auto j = join(rooms, "dev", "alice");
        Room* dev = j.room;
        uint64_t epoch = dev->epoch();
        dev->publish_changes(100, n.fn());  // notice 1: alice joined
        join(rooms, "lobby", "alice");
        CHECK(rooms.sweep(1000000, 0, forget) == 0);  // both have members
        dev->remove_member("alice", 1000);
        CHECK(rooms.sweep(1000, 0, forget) == 0);  // its leave is not announced yet
        dev->publish_changes(100, n.fn());
        CHECK(rooms.sweep(1500, 1000, forget) == 0);  // empty for 500 ms of 1000
        Room* pinned = rooms.pin("dev");
        CHECK(pinned == dev);
        CHECK(rooms.sweep(5000, 1000, forget) == 0);  // pinned
        rooms.unpin(pinned);
        CHECK(rooms.sweep(2000, 1000, forget) == 1);
        CHECK(forgotten == std::vector<uint32_t>{dev->id()});
        CHECK(rooms.find("dev", false) == nullptr);
        CHECK(rooms.expired() == 1);
        // The server was full (lobby + dev); the expired slot is reused, with a new epoch, and
        // its notices go on numbering where they stopped.
        auto again = join(rooms, "music", "bob");
        REQUIRE(again.status == RoomRegistry::JoinStatus::kJoined);
        CHECK(again.room == dev);
        CHECK(again.room->name() == "music");
        CHECK(again.room->epoch() != epoch);
        CHECK(again.change == 2);  // notices 1 (alice joined) and 2 (she left) were dev's
        CHECK(rooms.created() == 3);
    }

    TEST_CASE("joins, leaves, notices and sweeps from many threads keep every room consistent") {
        RoomRegistry rooms(4);
        std::atomic<bool> stop{false};
        std::vector<std::thread> threads;
        for (int t = 0; t < 3; ++t) {
            threads.emplace_back([&, t] {
                std::string user = "u" + std::to_string(t);
                for (int i = 0; i < 2000; ++i) {
                    std::string name = "r" + std::to_string(i % 6);
                    auto j = rooms.join(name, user, 10, nullptr);
                    if (j.status != RoomRegistry::JoinStatus::kJoined) continue;
                    CHECK(j.room->name() == name);  // a member's room keeps its name
                    j.room->publish_changes(10, [](const PresenceChange&, uint64_t) { return true; });
                    j.room->remove_member(user, static_cast<uint64_t>(i));
                    j.room->publish_changes(10, [](const PresenceChange&, uint64_t) { return true; });
                }
            });
        }
        std::thread sweeper([&] {
            uint64_t now = 0;
            while (!stop.load()) rooms.sweep(now += 10, 0, [](uint32_t) {});
        });
        for (auto& t : threads) t.join();
        stop = true;
        sweeper.join();
        rooms.sweep(UINT64_MAX / 2, 0, [](uint32_t) {});
        CHECK(rooms.size() == 0);
        CHECK(rooms.list().empty());
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

    TEST_CASE("room creation takes a per-user token that reconnecting does not refill") {
        UserRegistry users(4);
        users.connect("alice");
        for (int i = 0; i < 3; ++i) CHECK(users.take_room_token("alice", 0, 1.0, 3));
        CHECK_FALSE(users.take_room_token("alice", 500, 1.0, 3));
        CHECK(users.take_room_token("alice", 1000, 1.0, 3));  // one second: one more
        CHECK_FALSE(users.take_room_token("bob", 0, 1.0, 3));  // not connected
        users.disconnect("alice");
        users.sweep(1500, 1.0, 3);  // not full yet: kept, offline
        CHECK(users.size() == 1);
        CHECK(users.online_id("alice") == 0);
        users.connect("alice");
        CHECK_FALSE(users.take_room_token("alice", 1500, 1.0, 3));
        users.disconnect("alice");
        users.sweep(10000, 1.0, 3);  // refilled: forgotten
        CHECK(users.size() == 0);
    }

    TEST_CASE("members are this process's and the other nodes', each name once, sorted") {
        RoomRegistry rooms(4);
        Room* room = rooms.find("dev", true);
        REQUIRE(room);
        room->add_member("bob");
        room->set_remote_members({"carol", "alice", "bob", "carol"});
        CHECK(room->members() == std::vector<std::string>{"alice", "bob", "carol"});
        CHECK(room->local_members() == std::vector<std::string>{"bob"});
        PresencePage p = room->page({}, 2);
        CHECK(p.users == std::vector<std::string>{"alice", "bob"});
        CHECK(p.count == 3);
        CHECK(p.more);
        room->set_remote_members({});
        CHECK(room->members() == std::vector<std::string>{"bob"});
    }
}
