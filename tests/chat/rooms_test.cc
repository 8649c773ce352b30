// tests/chat/rooms_test.cc: rooms (names, ids, presence) and users.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "chat/rooms.h"

using namespace epws::chat;

TEST_SUITE("chat/rooms") {
    TEST_CASE("presence counts connections: join on the first, leave on the last") {
        Room room(1, "lobby");
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
        RoomRegistry rooms(2);
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


    TEST_CASE("members are this process's and the other nodes', each name once, sorted") {
        Room room(1, "dev");
        room.add_member("bob");
        room.set_remote_members({"carol", "alice", "bob", "carol"});
        CHECK(room.members() == std::vector<std::string>{"alice", "bob", "carol"});
        CHECK(room.local_members() == std::vector<std::string>{"bob"});
        room.set_remote_members({});
        CHECK(room.members() == std::vector<std::string>{"bob"});
    }
}
