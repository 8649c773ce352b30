// net/output_queue.h: what a connection could not write yet, in order: copies of its own
// bytes, and references to shared bytes (net/shared_bytes.h) instead of copies. Layer: net/.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "net/shared_bytes.h"

namespace epws::net {

// A list of pieces, written front to back:
//
//   [ copy: own block ][ ref: entry A ][ ref: entry B ][ copy: own block ] ...
//     ^ head_                                                     appends ^
//
// A copied piece owns a malloc'd block that later copies append to while it has room; a
// shared piece holds one reference, released once its last byte is written (or on clear()).
// Holds no memory while empty: an idle connection pays one pointer. size() is the unsent bytes,
// whoever owns them. Loop thread only.
class OutputQueue {
public:
    OutputQueue() = default;
    ~OutputQueue() { clear(); }
    OutputQueue(const OutputQueue&) = delete;
    OutputQueue& operator=(const OutputQueue&) = delete;

    bool empty() const { return q_ == nullptr; }
    size_t size() const { return q_ ? q_->bytes : 0; }
    // Bytes of the copies this queue holds (its blocks), not counting shared bytes.
    size_t owned_bytes() const { return q_ ? q_->owned : 0; }

    // Copies len bytes in; false (nothing queued) if memory runs out.
    bool append_copy(const std::byte* p, size_t len);
    // Queues a reference to len bytes at p, which owner keeps alive (retained here).
    bool append_shared(const std::byte* p, size_t len, SharedBytes* owner);
    // Fills up to max iovecs with the first unsent bytes; returns how many.
    int gather(iovec* iov, int max) const;
    // Drops the first n unsent bytes (n <= size()).
    void consume(size_t n);
    // Drops everything, releasing references and memory.
    void clear();

private:
    struct Piece {
        const std::byte* data;  // first unsent byte
        size_t len;             // unsent bytes
        std::byte* block;       // a copy's own storage (null for a shared piece)
        size_t room;            // a copy's free bytes after data + len
        SharedBytes* owner;     // a shared piece's owner (null for a copy)
    };
    struct Queue {
        std::vector<Piece> pieces;  // pieces[head ...] are unsent
        size_t head = 0;
        size_t bytes = 0;
        size_t owned = 0;
    };
    Queue& queue();
    static void drop(Queue& q, Piece& p);

    std::unique_ptr<Queue> q_;  // made on the first byte queued, freed when it empties
};

}  // namespace epws::net
