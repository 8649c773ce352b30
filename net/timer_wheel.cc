// net/timer_wheel.cc: the coarse hashed timing wheel. Layer: net/.
#include "net/timer_wheel.h"

namespace epws::net {

TimerWheel::TimerWheel() {
    for (auto& s : slots_) s.prev = s.next = &s;
}

void TimerWheel::link(TimerNode* node, uint32_t slot) {
    TimerNode* head = &slots_[slot];
    node->prev = head->prev;
    node->next = head;
    head->prev->next = node;
    head->prev = node;
}

void TimerWheel::unlink(TimerNode* node) {
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = nullptr;
}

void TimerWheel::take_slot(uint32_t slot, TimerNode& into) {
    TimerNode* head = &slots_[slot];
    if (head->next == head) {
        into.prev = into.next = &into;
        return;
    }
    into.next = head->next;
    into.prev = head->prev;
    into.next->prev = &into;
    into.prev->next = &into;
    head->prev = head->next = head;
}

void TimerWheel::schedule(TimerNode* node, uint32_t deadline) {
    if (static_cast<int32_t>(deadline - now_) <= 0) deadline = now_ + 1;
    if (node->linked()) {
        // Later than before: the node's current slot comes up first, and re-hashes it then.
        if (static_cast<int32_t>(deadline - node->deadline) >= 0) {
            node->deadline = deadline;
            return;
        }
        unlink(node);
        --count_;
    }
    node->deadline = deadline;
    link(node, deadline % kSlots);
    ++count_;
}

void TimerWheel::cancel(TimerNode* node) {
    if (!node->linked()) return;
    unlink(node);
    --count_;
}

}  // namespace epws::net
