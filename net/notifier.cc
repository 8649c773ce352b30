// net/notifier.cc: eventfd wake-ups. Layer: net/.
#include "net/notifier.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "net/loop.h"

namespace epws::net {

std::unique_ptr<Notifier> Notifier::create(Loop& loop, std::string& err) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) {
        err = std::string("eventfd: ") + std::strerror(errno);
        return nullptr;
    }
    std::unique_ptr<Notifier> n(new Notifier(loop, fd));
    if (!loop.watch(fd, EPOLLIN, n.get())) {
        err = std::string("epoll_ctl(eventfd): ") + std::strerror(errno);
        return nullptr;
    }
    return n;
}

Notifier::~Notifier() {
    loop_.unwatch(fd_);
    ::close(fd_);
}

void Notifier::notify() {
    uint64_t one = 1;
    // Fails only with EAGAIN when the counter is saturated, which still leaves it readable.
    ssize_t n = ::write(fd_, &one, sizeof(one));
    (void)n;
}

void Notifier::on_events(uint32_t) {
    uint64_t count = 0;
    // Level-triggered registration: reading resets the counter so the fd stops being ready.
    ssize_t n = ::read(fd_, &count, sizeof(count));
    (void)n;
}

}  // namespace epws::net
