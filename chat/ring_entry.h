// chat/ring_entry.h: one message on its way to every loop: framed once, shared by reference.
// Layer: chat/.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "net/shared_bytes.h"
#include "ws/frame.h"

namespace epws::chat {

// What an entry is addressed to.
enum class Topic : uint8_t {
    kBroadcast,  // every /broadcast connection
    kRoom,       // every member of room `target`
    kUser,       // every connection of user `target` (a direct message)
};

// `frame` holds the complete WebSocket frame (header and payload) that every recipient is sent
// as is, queued by reference while it waits. Immutable once published. Each holder (a loop that
// has yet to pass it, a room's history, a reply being sent) keeps one reference; the last
// release() frees it. The bus sets the count when it publishes the entry. A connection that
// cannot send it at once queues a reference (net::SharedBytes), never a copy.
struct RingEntry final : net::SharedBytes {
    std::atomic<uint32_t> refs{1};
    Topic topic = Topic::kBroadcast;
    ws::Opcode opcode = ws::Opcode::kText;
    uint32_t target = 0;          // room or user id, by topic
    uint64_t room_seq = 0;        // the room's sequence number, for kRoom messages (0: a notice)
    uint64_t presence = 0;        // the room's presence change number, for kRoom join/leave notices
    uint32_t origin = 0;          // the loop that published it
    uint32_t frame_len = 0;
    uint32_t payload_offset = 0;  // where the payload starts inside frame

    std::span<const std::byte> frame() const { return {data(), frame_len}; }
    std::span<const std::byte> payload() const {
        return {data() + payload_offset, frame_len - payload_offset};
    }
    size_t payload_size() const { return frame_len - payload_offset; }
    const std::byte* data() const { return reinterpret_cast<const std::byte*>(this + 1); }

    // One allocation holding the entry and the frame of `payload` (ws::encode_shared_frame),
    // with one reference, the caller's. nullptr when memory runs out.
    static RingEntry* make(Topic topic, uint32_t target, ws::Opcode op,
                           std::span<const std::byte> payload);
    // Takes one more reference (a holder beyond those the bus counted).
    void retain() override {
        // relaxed: the caller already holds a reference, which keeps the entry alive; the
        // release that pairs with this one orders the holder's reads.
        refs.fetch_add(1, std::memory_order_relaxed);
    }
    // Drops one reference; the last one frees the entry.
    void release() override;

private:
    std::byte* data() { return reinterpret_cast<std::byte*>(this + 1); }
};

// References on entries (a history read), released when it goes: what a reply holds while it is
// being sent after the lock that found the entries is gone.
struct HeldEntries {
    std::vector<RingEntry*> entries;
    HeldEntries() = default;
    HeldEntries(const HeldEntries&) = delete;
    HeldEntries& operator=(const HeldEntries&) = delete;
    ~HeldEntries() {
        for (RingEntry* e : entries) e->release();
    }
    void hold(RingEntry& e) {
        e.retain();
        entries.push_back(&e);
    }
};

}  // namespace epws::chat
