// chat/broadcast_ring.h: the lock-free multi-producer, multi-consumer broadcast ring that
// carries messages between event loops. Layer: chat/. In the spirit of the LMAX Disruptor.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace epws::chat {

// Every consumer (one per loop) sees every published item, in one global order.
//
//   slots:   [ s0 | s1 | s2 | ... | s(N-1) ]      N = capacity, a power of two
//   claim_:  next sequence a producer may take      (fetch by CAS, never past the gate)
//   cursor[c]: next sequence consumer c will read   (only consumer c writes it)
//   gate:    a producer may claim sequence q only while q - min(cursor) < N, so it never
//            overwrites a slot some consumer has not read yet.
//
// A slot's `seq` holds q + 1 once item q is published there (0: never used), so a consumer at
// cursor q knows slot q & (N-1) is ready exactly when seq == q + 1; items claimed later but
// published sooner wait behind it, which keeps the order global and gap-free.
//
// Full ring: try_publish() returns false instead of waiting. A producer that is itself a
// consumer (every loop is) could otherwise wait forever on its own cursor; the caller keeps
// the item and retries after consuming (see chat/memory_bus.h), so no thread ever blocks on another.
//
// The ring does not own items: T* values are handed from producer to consumers; reclaiming
// them is the caller's business (RingEntry counts the consumers that have yet to pass it).
template <class T>
class BroadcastRing {
public:
    BroadcastRing(size_t capacity, size_t consumers)
        : mask_(capacity - 1), slots_(new Slot[capacity]), cursors_(consumers) {}

    size_t capacity() const { return mask_ + 1; }
    size_t consumers() const { return cursors_.size(); }

    // Any thread. Publishes item after every item published before it; false (and nothing
    // published) when the slowest consumer is a whole ring behind.
    bool try_publish(T* item) {
        // relaxed: a stale value only makes the CAS below fail and retry.
        uint64_t q = claim_.load(std::memory_order_relaxed);
        do {
            if (q - min_cursor() >= capacity()) return false;
            // relaxed on success: the claim itself publishes nothing; the slot's seq does.
        } while (!claim_.compare_exchange_weak(q, q + 1, std::memory_order_relaxed,
                                               std::memory_order_relaxed));
        Slot& s = slots_[q & mask_];
        s.item = item;
        // seq_cst (release would do for consumers: one that reads seq == q + 1 also sees
        // item): the hub's sleep/wake handshake needs this store ordered before its
        // following seq_cst load of the sleeping flags (see chat/memory_bus.cc).
        s.seq.store(q + 1, std::memory_order_seq_cst);
        return true;
    }

    // Consumer c only. Calls f(T*) for up to `max` ready items in order and moves the cursor
    // past them. Returns how many it handled.
    template <class F>
    size_t consume(size_t c, F&& f, size_t max = SIZE_MAX) {
        Cursor& cur = cursors_[c];
        // relaxed: only this thread writes its own cursor.
        uint64_t q = cur.next.load(std::memory_order_relaxed);
        size_t n = 0;
        while (n < max) {
            Slot& s = slots_[q & mask_];
            // acquire: pairs with the producer's release store, so item is visible.
            if (s.seq.load(std::memory_order_acquire) != q + 1) break;
            f(s.item);
            ++q;
            ++n;
            // release: the producer that later reuses this slot (after an acquire load of
            // this cursor in min_cursor) sees our read of the slot as finished.
            cur.next.store(q, std::memory_order_release);
        }
        return n;
    }

    // Consumer c only: is an item ready for it?
    bool ready(size_t c) const {
        uint64_t q = cursors_[c].next.load(std::memory_order_relaxed);  // our own cursor
        // seq_cst: acquire as in consume(), and ordered after the caller's seq_cst store of
        // its sleeping flag (the hub's sleep/wake handshake).
        return slots_[q & mask_].seq.load(std::memory_order_seq_cst) == q + 1;
    }

    // Consumer c's next sequence, from any thread (for statistics: a value only, relaxed).
    uint64_t cursor(size_t c) const { return cursors_[c].next.load(std::memory_order_relaxed); }
    // Sequences published in total (claimed, strictly; for statistics).
    uint64_t claimed() const { return claim_.load(std::memory_order_relaxed); }  // a count only

private:
    struct alignas(64) Slot {
        std::atomic<uint64_t> seq{0};
        T* item = nullptr;
    };
    // One cache line per cursor, so consumers do not false-share.
    struct alignas(64) Cursor {
        std::atomic<uint64_t> next{0};
    };

    uint64_t min_cursor() const {
        uint64_t m = UINT64_MAX;
        for (const Cursor& c : cursors_) {
            // acquire: pairs with the consumer's release store (see consume()).
            uint64_t v = c.next.load(std::memory_order_acquire);
            if (v < m) m = v;
        }
        return m;
    }

    const size_t mask_;
    std::unique_ptr<Slot[]> slots_;
    alignas(64) std::atomic<uint64_t> claim_{0};
    std::vector<Cursor> cursors_;
};

}  // namespace epws::chat
