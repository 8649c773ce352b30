// chat/connection_registry.h: every loop's /chat connections by process-unique id, so that an
// HTTP request answered by any loop can read any connection's counters. Layer: chat/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ws/connection_stats.h"
#include "ws/deflate_params.h"

namespace epws::chat {

// A copy of one connection's registry entry and counters, taken under the registry's lock.
struct ConnectionView {
    uint64_t id = 0;
    uint32_t loop = 0;  // the loop that owns the connection
    std::string user;
    ws::DeflateParams deflate;
    uint64_t opened_ms = 0;  // wall clock, milliseconds since the Unix epoch
    uint64_t messages_in = 0, messages_out = 0;
    uint64_t wire_bytes_in = 0, wire_bytes_out = 0;
    uint64_t payload_bytes_in = 0, payload_bytes_out = 0;
    uint64_t compressed_bytes_in = 0, compressed_bytes_out = 0;
    uint64_t ping_rtt_us = 0;  // 0: no ping answered yet
};

// Why a cross-loop lookup cannot read freed memory. The registry owns each connection's counter
// block (inside its std::map node, whose address never moves), and:
//  - only the owning loop adds and removes its entries, both under mu_, and it detaches the
//    block from its ws::ServerConnection before remove(), so nothing writes a removed block;
//  - the owning loop writes the counters without the lock: they are net::Counters (relaxed
//    single-writer atomics), so a concurrent read is no data race, and the node cannot vanish
//    under its writer, since only that same thread removes it;
//  - any other thread dereferences a block only while holding mu_ (snapshot(), list()), so
//    remove() waits for a reader that is copying, and a reader after it finds no entry.
// The plain fields (user, loop, deflate, opened_ms) are set before the entry is published under
// mu_ and never change, so the mutex orders them for every reader. The alternative, asking the
// owning loop through its notifier, would need the HTTP answer to wait for another thread: the
// lock is held only for a map operation or a copy of ten counters, once per /chat open and close
// and per request, never per message.
// Thread-safe.
class ConnectionRegistry {
public:
    // Registers a connection owned by `loop` and returns its id (1, 2, 3, ... never reused in the
    // process) and its counter block, which stays valid until remove(id). Owning loop only.
    uint64_t add(uint32_t loop, std::string_view user, const ws::DeflateParams& deflate,
                 uint64_t opened_ms, ws::ConnectionStats*& stats);
    // Forgets the connection; its block is freed. The caller must have detached it first. Owning
    // loop only.
    void remove(uint64_t id);

    // A copy of connection id, or false when no open connection has it. Any thread.
    bool snapshot(uint64_t id, ConnectionView& out) const;
    // Appends copies of the first `max` connections in id order (the oldest); returns how many are
    // open in all. The lock is held for the copies only, whatever the number open. With a
    // non-empty `user`, only that user's connections are copied and counted (the lock is then
    // held for one pass over every entry). Any thread.
    size_t list(size_t max, std::vector<ConnectionView>& out, std::string_view user = {}) const;

private:
    struct Entry {
        uint32_t loop = 0;
        std::string user;
        ws::DeflateParams deflate;
        uint64_t opened_ms = 0;
        ws::ConnectionStats stats;
    };
    static void copy(uint64_t id, const Entry& e, ConnectionView& out);

    mutable std::mutex mu_;
    std::map<uint64_t, Entry> entries_;  // node-based: a block's address is stable
    uint64_t next_id_ = 1;               // under mu_
};

}  // namespace epws::chat
