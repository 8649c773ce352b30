// tests/net/timer_wheel_test.cc: the coarse timing wheel.
#include <doctest/doctest.h>

#include <vector>

#include "net/timer_wheel.h"

using epws::net::TimerNode;
using epws::net::TimerWheel;

namespace {
// What a connection is to the wheel: a type deriving from TimerNode, found again by a cast.
struct Node : TimerNode {
    int* owner = nullptr;
};
std::vector<int> advance_to(TimerWheel& w, uint32_t now) {
    std::vector<int> fired;
    w.advance(now, [&](TimerNode* n) { fired.push_back(*static_cast<Node*>(n)->owner); });
    return fired;
}
}  // namespace

TEST_SUITE("net/timer_wheel") {
    TEST_CASE("a node fires at its deadline, not before") {
        TimerWheel w;
        int id = 1;
        Node n;
        n.owner = &id;
        w.schedule(&n, 10);
        CHECK(advance_to(w, 9).empty());
        CHECK(advance_to(w, 10) == std::vector<int>{1});
        CHECK(!n.linked());
        CHECK(w.size() == 0);
    }

    TEST_CASE("a deadline more than a turn away waits for its round") {
        TimerWheel w;
        int id = 7;
        Node n;
        n.owner = &id;
        w.schedule(&n, TimerWheel::kSlots * 2 + 5);
        CHECK(advance_to(w, TimerWheel::kSlots + 5).empty());
        CHECK(advance_to(w, TimerWheel::kSlots * 2 + 4).empty());
        CHECK(advance_to(w, TimerWheel::kSlots * 2 + 5) == std::vector<int>{7});
    }

    TEST_CASE("moving a deadline later postpones the firing without losing it") {
        TimerWheel w;
        int id = 3;
        Node n;
        n.owner = &id;
        w.schedule(&n, 5);
        w.schedule(&n, 50);
        CHECK(advance_to(w, 49).empty());
        CHECK(advance_to(w, 50) == std::vector<int>{3});
    }

    TEST_CASE("moving a deadline earlier fires it earlier") {
        TimerWheel w;
        int id = 4;
        Node n;
        n.owner = &id;
        w.schedule(&n, 100);
        w.schedule(&n, 3);
        CHECK(advance_to(w, 3) == std::vector<int>{4});
        CHECK(advance_to(w, 200).empty());
    }

    TEST_CASE("a cancelled node never fires, and a jump over many turns fires all due nodes") {
        TimerWheel w;
        int ids[3] = {0, 1, 2};
        Node nodes[3];
        for (int i = 0; i < 3; ++i) {
            nodes[i].owner = &ids[i];
            w.schedule(&nodes[i], static_cast<uint32_t>(10 + i * 1000));
        }
        w.cancel(&nodes[1]);
        auto fired = advance_to(w, 100000);
        CHECK(fired.size() == 2);
        CHECK(w.size() == 0);
    }

    TEST_CASE("fire may cancel another node of the same slot") {
        TimerWheel w;
        int a = 1, b = 2;
        Node na, nb;
        na.owner = &a;
        nb.owner = &b;
        w.schedule(&na, 8);
        w.schedule(&nb, 8);
        std::vector<int> fired;
        w.advance(8, [&](TimerNode* n) {
            fired.push_back(*static_cast<Node*>(n)->owner);
            w.cancel(n == &na ? &nb : &na);
        });
        CHECK(fired.size() == 1);
    }
}
