// chat/program/drain.h: the pace of a graceful stop: how many WebSockets one loop closes by
// when, so that its connections leave spread over --drain-seconds instead of all at once and
// do not stampede back into the next node together. Layer: chat/program/. Pure arithmetic.
#pragma once

#include <cstddef>
#include <cstdint>

namespace epws::chat {

// One loop's drain. Loop thread only.
class PacedDrain {
public:
    // open: the WebSockets open when the drain starts; over drain_ms (0: all at once).
    void start(uint64_t now_ms, size_t open, uint32_t drain_ms) {
        start_ms_ = now_ms;
        total_ = open;
        drain_ms_ = drain_ms;
        closed_ = 0;
        started_ = true;
    }
    bool started() const { return started_; }
    // How many more to close now: a share growing linearly from 0 to the whole by the end,
    // less those already closed (rounded up, so the last goes at the deadline, not after it).
    size_t due(uint64_t now_ms) const {
        uint64_t elapsed = now_ms - start_ms_;
        if (drain_ms_ == 0 || elapsed >= drain_ms_) return total_ - closed_;
        uint64_t share = (static_cast<uint64_t>(total_) * elapsed + drain_ms_ - 1) / drain_ms_;
        return share > closed_ ? static_cast<size_t>(share) - closed_ : 0;
    }
    void closed(size_t n) { closed_ += n; }
    bool over(uint64_t now_ms) const { return now_ms - start_ms_ >= drain_ms_; }
    // How long the loop may sleep before the next close is due (at least 1 ms).
    int wait_ms(uint64_t now_ms) const {
        if (over(now_ms)) return 0;
        uint64_t step = total_ > 0 ? drain_ms_ / total_ : drain_ms_;
        uint64_t left = drain_ms_ - (now_ms - start_ms_);
        uint64_t w = step < left ? step : left;
        return static_cast<int>(w < 1 ? 1 : w > 250 ? 250 : w);
    }

private:
    uint64_t start_ms_ = 0;
    size_t total_ = 0;
    size_t closed_ = 0;
    uint32_t drain_ms_ = 0;
    bool started_ = false;
};

}  // namespace epws::chat
