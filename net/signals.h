// net/signals.h: SIGINT/SIGTERM/SIGHUP delivered through a signalfd into the loop. Layer: net/.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "net/watcher.h"

namespace epws::net {

class Loop;

// Blocks SIGINT, SIGTERM and SIGHUP for the calling thread (create it before starting any other
// thread, so they inherit the mask) and ignores SIGPIPE, so a write to a closed socket
// returns EPIPE instead of killing the process. on_signal(signo) runs on the loop thread.
class SignalWatcher final : public Watcher {
public:
    static std::unique_ptr<SignalWatcher> create(Loop& loop, std::function<void(int)> on_signal,
                                                 std::string& err);
    ~SignalWatcher() override;
    void on_events(uint32_t events) override;

private:
    SignalWatcher(Loop& loop, int fd, std::function<void(int)> on_signal);
    Loop& loop_;
    int fd_;
    std::function<void(int)> on_signal_;
};

}  // namespace epws::net
