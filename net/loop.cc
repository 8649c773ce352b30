// net/loop.cc: the edge-triggered epoll reactor. Layer: net/.
#include "net/loop.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "net/clock.h"

namespace epws::net {

std::unique_ptr<Loop> Loop::create(std::string& err) {
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        err = std::string("epoll_create1: ") + std::strerror(errno);
        return nullptr;
    }
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (tfd < 0) {
        err = std::string("timerfd_create: ") + std::strerror(errno);
        ::close(epfd);
        return nullptr;
    }
    std::unique_ptr<Loop> loop(new Loop(epfd, tfd));
    itimerspec its{};
    its.it_interval.tv_nsec = kTickMs * 1000000L;
    its.it_value = its.it_interval;
    if (timerfd_settime(tfd, 0, &its, nullptr) != 0 || !loop->watch(tfd, EPOLLIN, &loop->tick_watcher_)) {
        err = std::string("timerfd: ") + std::strerror(errno);
        return nullptr;
    }
    return loop;
}

Loop::Loop(int epfd, int timerfd)
    : epfd_(epfd), timerfd_(timerfd), scratch_(new std::byte[kScratchBytes]) {
    now_ms_ = start_ms_ = monotonic_ms();
}

Loop::~Loop() {
    // Connections still open are deleted without callbacks: whatever their on_close would
    // reach (a server, an application) may already be gone. A graceful stop closes them
    // before the loop returns from run().
    closed_.clear();
    conns_.clear();
    ::close(timerfd_);
    ::close(epfd_);
}

bool Loop::adopt(std::unique_ptr<Connection> conn) {
    int fd = conn->fd();
    epoll_event ev{};
    // Registered once for both directions; readiness is tracked by the connection, never by
    // flipping the interest mask on every write (as nginx does).
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
    ev.data.ptr = static_cast<Watcher*>(conn.get());
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) return false;
    auto index = static_cast<size_t>(fd);
    if (conns_.size() <= index) conns_.resize(index + 1);
    conns_[index] = std::move(conn);
    ++count_;
    return true;
}

bool Loop::watch(int fd, uint32_t events, Watcher* w) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = w;
    return epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void Loop::unwatch(int fd) { epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }

void Loop::run() {
    running_ = true;
    while (running_) {
        int wait_ms = before_wait_ ? before_wait_() : -1;
        if (!running_ || !run_once(wait_ms)) break;
    }
}

bool Loop::run_once(int timeout_ms) {
    constexpr int kBatch = 512;
    epoll_event events[kBatch];
    // The previous wake-up's work ends here: its batch and the before-wait hook after it.
    if (woke_us_ != 0) stats_.observe(monotonic_us() - woke_us_);
    int n = epoll_wait(epfd_, events, kBatch, timeout_ms);
    if (n < 0) return errno == EINTR;
    woke_us_ = monotonic_us();
    now_ms_ = woke_us_ / 1000;  // the same clock as monotonic_ms(), read once
    for (int i = 0; i < n; ++i)
        static_cast<Watcher*>(events[i].data.ptr)->on_events(events[i].events);
    // Sends from this batch, or from the hook before it, may have spent the budget.
    if (budget_->over()) shed_over_budget();
    // Freed only now, so every pointer seen in this batch stayed valid.
    closed_.clear();
    return true;
}

// The process holds more unsent copies than its budget: cut this loop's connections holding the
// most, largest first, until the total is back under it or this loop holds none. Other loops do
// the same with theirs. A scan of the connections, only while over budget.
void Loop::shed_over_budget() {
    while (budget_->over()) {
        Connection* largest = nullptr;
        for (auto& c : conns_) {
            if (c && !c->closed() && c->queued_copies() > 0 &&
                (largest == nullptr || c->queued_copies() > largest->queued_copies()))
                largest = c.get();
        }
        if (largest == nullptr) return;
        ++budget_cuts_;
        largest->cut_over_budget();
        if (!largest->closed()) largest->close(CloseCause::kOverBudget);
    }
}

void Loop::on_tick() {
    uint64_t expirations = 0;
    // A failed read means no tick is due yet (EAGAIN); nothing to do then.
    if (::read(timerfd_, &expirations, sizeof(expirations)) != sizeof(expirations)) return;
    now_ms_ = monotonic_ms();
    auto now_tick = static_cast<uint32_t>((now_ms_ - start_ms_) / kTickMs);
    timers_.advance(now_tick, [](TimerNode* node) { Connection::expire(node); });
}

void Loop::retire(Connection* c) {
    auto index = static_cast<size_t>(c->fd());
    --count_;
    closed_.push_back(std::move(conns_[index]));
}

}  // namespace epws::net
