// net/output_budget.h: how many bytes of unsent copies every connection of the process holds
// together, against a limit. Layer: net/. Shared by the loops of a process.
#pragma once

#include <atomic>
#include <cstdint>

namespace epws::net {

// Connections add what their output queues copy and subtract what they write or drop; a loop
// that finds the total over the limit cuts its connections holding the most (Loop). Shared
// references are not counted: their bytes are held once, whatever the number of readers, and
// each connection's own cap bounds how many it may hold. Thread-safe.
class OutputBudget {
public:
    explicit OutputBudget(uint64_t limit = 0) : limit_(limit) {}
    // relaxed: a total, read as a value; no other memory is ordered by it.
    void add(int64_t delta) { used_.fetch_add(delta, std::memory_order_relaxed); }
    int64_t used() const { return used_.load(std::memory_order_relaxed); }
    uint64_t limit() const { return limit_; }
    // 0: no limit.
    bool over() const { return limit_ != 0 && used() > static_cast<int64_t>(limit_); }

private:
    std::atomic<int64_t> used_{0};
    const uint64_t limit_;
};

}  // namespace epws::net
