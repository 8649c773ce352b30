// net/loop.h: the edge-triggered epoll reactor, one per thread. Layer: net/.
// It owns its connections, a timer wheel, one scratch receive buffer and one cork.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "net/connection.h"
#include "net/cork.h"
#include "net/counter.h"
#include "net/output_budget.h"
#include "net/timer_wheel.h"
#include "net/watcher.h"

namespace epws::net {

// How long each wake-up kept the loop busy, from epoll_wait's return to its next call (the
// event batch, then the before-wait hook): a histogram with fixed bounds. Written by the loop's
// thread only (Counter: a relaxed load and store); any thread may read it.
struct LoopStats {
    static constexpr uint32_t kBoundsUs[] = {50,    100,   250,   500,    1000,   2500,   5000,
                                             10000, 25000, 50000, 100000, 250000, 1000000};
    static constexpr size_t kBuckets = std::size(kBoundsUs) + 1;  // the last: above them all
    Counter buckets[kBuckets];  // wake-ups per bucket (not cumulative)
    Counter busy_us;            // their sum
    Counter wakeups;            // their count
    void observe(uint64_t us) {
        size_t b = 0;
        while (b < std::size(kBoundsUs) && us > kBoundsUs[b]) ++b;
        ++buckets[b];
        busy_us += us;
        ++wakeups;
    }
};

class Loop {
public:
    static constexpr size_t kScratchBytes = 256 * 1024;  // one receive buffer for all reads
    static constexpr uint32_t kTickMs = 250;               // timer resolution

    // Creates the epoll instance and the tick timer; returns nullptr and fills err on failure.
    static std::unique_ptr<Loop> create(std::string& err);
    ~Loop();  // deletes (and so closes) every connection still open, without callbacks
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    // Takes ownership of conn and registers its fd once, edge-triggered, for reading and
    // writing. Returns false (and deletes conn, closing its fd) if epoll refuses it.
    bool adopt(std::unique_ptr<Connection> conn);
    // Watches a non-connection fd; w is not owned and must outlive the registration.
    bool watch(int fd, uint32_t events, Watcher* w);
    void unwatch(int fd);

    // Runs until stop(); returns after finishing the current event batch.
    void run();
    // A hook run before every wait for events (so after every batch): it does work that did
    // not come from a file descriptor (messages from other loops) and returns how long the
    // loop may then sleep: -1 until an event, 0 not at all, or milliseconds.
    void set_before_wait(std::function<int()> hook) { before_wait_ = std::move(hook); }
    // Waits up to timeout_ms (-1: forever) for one batch of events and handles it. Returns
    // false if epoll_wait failed. For tests and for embedding in another loop.
    bool run_once(int timeout_ms);
    // Ends run() after the current batch. Loop thread only (another thread posts it through
    // a Notifier and the before-wait hook).
    void stop() { running_ = false; }
    bool running() const { return running_; }

    size_t connection_count() const { return count_; }
    // Calls f(Connection&) for every open connection; f may close the one it is given.
    template <class F>
    void for_each_connection(F&& f) {
        for (size_t i = 0; i < conns_.size(); ++i)
            if (conns_[i] && !conns_[i]->closed()) f(*conns_[i]);
    }
    // The monotonic clock as of the last wake-up (CLOCK_MONOTONIC milliseconds).
    uint64_t now_ms() const { return now_ms_; }
    const LoopStats& stats() const { return stats_; }
    // now_ms() in timer-wheel ticks (kTickMs), which the wheel may not have reached yet.
    uint32_t current_tick() const { return static_cast<uint32_t>((now_ms_ - start_ms_) / kTickMs); }

    // What the loop lends its connections: the one receive buffer (kScratchBytes, valid until
    // the next read), the cork and the timer wheel. Loop thread only.
    std::byte* scratch() { return scratch_.get(); }
    Cork& cork() { return cork_; }
    TimerWheel& timers() { return timers_; }
    // The output budget its connections count their unsent copies in: the loop's own (no
    // limit) unless shared. Not owned; set before the loop runs.
    OutputBudget& budget() { return *budget_; }
    void share_output_budget(OutputBudget* budget) { budget_ = budget; }
    uint64_t budget_cuts() const { return budget_cuts_; }

private:
    friend class Connection;  // retire() only: a closed connection hands itself back
    Loop(int epfd, int timerfd);
    void on_tick();
    void retire(Connection* c);
    void shed_over_budget();

    class TickWatcher final : public Watcher {
    public:
        explicit TickWatcher(Loop& l) : loop_(l) {}
        void on_events(uint32_t) override { loop_.on_tick(); }

    private:
        Loop& loop_;
    };

    int epfd_;
    int timerfd_;
    std::function<int()> before_wait_;
    bool running_ = false;
    size_t count_ = 0;
    uint64_t now_ms_ = 0;
    uint64_t start_ms_ = 0;
    uint64_t woke_us_ = 0;  // when the last epoll_wait returned (0: not yet)
    LoopStats stats_;
    TimerWheel timers_;
    TickWatcher tick_watcher_{*this};
    std::vector<std::unique_ptr<Connection>> conns_;  // indexed by fd
    std::vector<std::unique_ptr<Connection>> closed_;  // deleted after each event batch
    std::unique_ptr<std::byte[]> scratch_;
    Cork cork_;
    OutputBudget own_budget_;
    OutputBudget* budget_ = &own_budget_;
    uint64_t budget_cuts_ = 0;
};

}  // namespace epws::net
