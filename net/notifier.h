// net/notifier.h: wakes a loop from another thread through an eventfd. Layer: net/.
#pragma once

#include <memory>
#include <string>

#include "net/watcher.h"

namespace epws::net {

class Loop;

// notify() may be called from any thread; the loop it is watched by wakes from epoll_wait and
// runs its before-wait hook (Loop::set_before_wait), which is where the work is found. Several
// notify() calls before the loop wakes cost one wake-up.
class Notifier final : public Watcher {
public:
    static std::unique_ptr<Notifier> create(Loop& loop, std::string& err);
    ~Notifier() override;
    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;

    void notify();  // any thread
    void on_events(uint32_t events) override;

private:
    Notifier(Loop& loop, int fd) : loop_(loop), fd_(fd) {}
    Loop& loop_;
    int fd_;
};

}  // namespace epws::net
