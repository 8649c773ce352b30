// tests/chat/room_history_test.cc: a room's kept messages: the span, reads, the oldest leaving,
// and numbering restarted after a loss.
#include <doctest/doctest.h>

#include <string>

#include "chat/room_history.h"

using namespace epws::chat;

namespace {

RingEntry* numbered(uint64_t seq) {
    std::string text = "m" + std::to_string(seq);
    RingEntry* e = RingEntry::make(Topic::kRoom, 1, epws::ws::Opcode::kText,
                                   {reinterpret_cast<const std::byte*>(text.data()), text.size()});
    e->room_seq = seq;
    return e;
}

}  // namespace

TEST_SUITE("chat/room_history") {
    TEST_CASE("an empty history spans nothing after its last number") {
        RoomHistory h(3);
        CHECK(h.span().oldest == 1);
        CHECK(h.span().last == 0);
        h.restart_at(41);
        CHECK(h.span().oldest == 42);
        CHECK(h.span().last == 41);
    }

    TEST_CASE("the oldest leaves once the capacity is reached; reads are clipped to what is kept") {
        RoomHistory h(3);
        for (uint64_t s = 1; s <= 5; ++s) h.append(numbered(s));
        CHECK(h.span().oldest == 3);
        CHECK(h.span().last == 5);
        HeldEntries held;
        h.hold(1, UINT64_MAX, held);
        REQUIRE(held.entries.size() == 3);
        CHECK(held.entries[0]->room_seq == 3);
        CHECK(held.entries[2]->room_seq == 5);
        HeldEntries none;
        h.hold(6, UINT64_MAX, none);
        CHECK(none.entries.empty());
        HeldEntries reversed;
        h.hold(5, 4, reversed);
        CHECK(reversed.entries.empty());
    }

    TEST_CASE("a held entry outlives the history that let it go") {
        RoomHistory h(1);
        h.append(numbered(1));
        HeldEntries held;
        h.hold(1, 1, held);
        h.append(numbered(2));  // releases the history's reference on 1
        REQUIRE(held.entries.size() == 1);
        CHECK(held.entries[0]->room_seq == 1);
        CHECK(held.entries[0]->refs.load() == 1);
    }

    TEST_CASE("numbering restarted after a loss goes on from the number given") {
        RoomHistory h(4);
        for (uint64_t s = 1; s <= 3; ++s) h.append(numbered(s));
        h.restart_at(3);
        CHECK(h.span().oldest == 4);
        h.append(numbered(4));
        CHECK(h.span().oldest == 4);
        CHECK(h.span().last == 4);
        h.clear();
        CHECK(h.span().last == 0);
    }

    TEST_CASE("a history of capacity 0 keeps nothing but counts") {
        RoomHistory h(0);
        h.append(numbered(1));
        h.append(numbered(2));
        CHECK(h.span().oldest == 3);
        CHECK(h.span().last == 2);
        HeldEntries held;
        h.hold(1, 2, held);
        CHECK(held.entries.empty());
    }
}
