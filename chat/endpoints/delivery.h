// chat/endpoints/delivery.h: one loop's share of the bus: drains it in rounds, groups the entries
// by recipient set, and hands each group to the endpoint whose connections receive it.
// Layer: chat/.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "chat/bus.h"
#include "chat/ring_entry.h"
#include "ws/server_connection.h"
#include "ws/shared_message.h"

namespace epws::chat {

// The entries of one round for one recipient set (a topic and a target), in bus order. Every
// recipient is sent its entries in one write whatever their number, each frame shared by
// reference (never copied per recipient); a compressed recipient gets each message compressed
// once for all recipients of the group that can share it. Loop thread only; valid during
// TopicSink::deliver().
class Group {
public:
    Topic topic() const { return entries_[0]->topic; }
    uint32_t target() const { return entries_[0]->target; }
    size_t size() const { return entries_.size(); }
    const RingEntry& entry(size_t i) const { return *entries_[i]; }

    // Sends entries [first, size()) to `to`.
    net::SendStatus send_from(ws::ServerConnection& to, size_t first);
    // Sends the entries at `which` (increasing indices) to `to`.
    net::SendStatus send_some(ws::ServerConnection& to, std::span<const uint32_t> which);

private:
    friend class Delivery;
    void reset(std::span<RingEntry* const> entries);
    net::SendStatus send_compressed(ws::ServerConnection& to, size_t i);

    std::span<RingEntry* const> entries_;
    std::vector<iovec> frames_;          // entries_[i]'s frame
    std::vector<net::SharedBytes*> owners_;  // entries_[i] itself, for a recipient that queues
    std::vector<size_t> payload_sums_;   // payload bytes of entries_[0..i), for the counters
    std::vector<iovec> some_;            // send_some's selection (reused)
    std::vector<net::SharedBytes*> some_owners_;
    // Compressed variants, made on first need (only when a recipient negotiated compression).
    std::vector<std::unique_ptr<ws::SharedMessage>> shared_;
};

// What receives a topic's groups: the endpoint that knows its recipients.
class TopicSink {
public:
    virtual ~TopicSink() = default;
    virtual void deliver(Group& group) = 0;
};

// Loop thread only.
class Delivery {
public:
    static constexpr size_t kBatch = 512;  // entries per round before the loop polls I/O again

    Delivery(Bus& bus, size_t loop) : bus_(bus), loop_(loop) {}
    ~Delivery();
    Delivery(const Delivery&) = delete;
    Delivery& operator=(const Delivery&) = delete;

    // Not owned. A topic without a sink is drained and dropped.
    void set_sink(Topic topic, TopicSink* sink) { sinks_[static_cast<size_t>(topic)] = sink; }
    // One round; returns how many entries it drained (kBatch: more may be waiting).
    size_t drain();

private:
    Bus& bus_;
    const size_t loop_;
    TopicSink* sinks_[3] = {};
    std::vector<RingEntry*> batch_;  // drained this round, released after sending
    Group group_;
};

}  // namespace epws::chat
