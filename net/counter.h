// net/counter.h: a statistics counter that one thread writes and any thread may read.
// Layer: net/.
#pragma once

#include <atomic>
#include <cstdint>

namespace epws::net {

// Only the owning loop's thread changes it, so an update is a plain load and store (no
// locked read-modify-write on the hot path); the atomic makes reads from other threads (a
// /stats request served by another loop) well defined. Copies take a snapshot.
class Counter {
public:
    Counter() = default;
    Counter(const Counter& other) : v_(other.load()) {}
    Counter& operator=(const Counter& other) {
        v_.store(other.load(), std::memory_order_relaxed);  // a snapshot: no ordering needed
        return *this;
    }
    Counter& operator=(uint64_t v) {
        v_.store(v, std::memory_order_relaxed);  // single writer
        return *this;
    }
    Counter& operator++() { return *this += 1; }
    Counter& operator--() { return *this -= 1; }
    Counter& operator+=(uint64_t n) {
        // relaxed load + store: single writer, so no update is lost; readers want a value,
        // not an ordering with other memory.
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
        return *this;
    }
    Counter& operator-=(uint64_t n) {
        v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);  // as +=
        return *this;
    }
    uint64_t load() const { return v_.load(std::memory_order_relaxed); }  // a value only
    operator uint64_t() const { return load(); }

private:
    std::atomic<uint64_t> v_{0};
};

}  // namespace epws::net
