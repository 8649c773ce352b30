// net/listener.cc: accept4 until EAGAIN, with the reserve-fd trick for EMFILE. Layer: net/.
#include "net/listener.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "net/loop.h"
#include "net/socket.h"

namespace epws::net {
namespace {

int open_reserve() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

}  // namespace

Listener::Listener(Loop& loop, int listen_fd, AcceptFn on_accept, Counter& dropped)
    : loop_(loop), fd_(listen_fd), reserve_fd_(open_reserve()), on_accept_(std::move(on_accept)),
      dropped_fd_limit_(dropped) {}

bool Listener::start(std::string& err) {
    // Edge-triggered like everything else, so accept() must run until EAGAIN.
    if (loop_.watch(fd_, EPOLLIN | EPOLLET, this)) return true;
    err = std::string("epoll_ctl(listening socket): ") + std::strerror(errno);
    return false;
}

Listener::~Listener() {
    close();
    if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

void Listener::close() {
    if (fd_ < 0) return;
    loop_.unwatch(fd_);
    ::close(fd_);
    fd_ = -1;
}

void Listener::on_events(uint32_t) {
    while (fd_ >= 0) {
        sockaddr_storage peer{};
        socklen_t len = sizeof(peer);
        int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            set_nodelay(fd);
            on_accept_(fd, peer);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE) {
            if (shed_one()) continue;
            return;
        }
        // EAGAIN: drained. Anything else (ENOBUFS, ENOMEM): wait for the next edge.
        return;
    }
}

// Out of descriptors: the pending connection would wake us forever (edge-triggered, it stays
// in the backlog). Spend the reserve fd to accept and close it, then take the reserve back.
// False when even that failed; the next connection attempt raises a new edge.
bool Listener::shed_one() {
    ++dropped_fd_limit_;
    uint64_t now = loop_.now_ms();
    if (now - last_log_ms_ >= 1000 || last_log_ms_ == 0) {
        last_log_ms_ = now;
        std::fprintf(stderr, "epws: out of file descriptors (%s): refusing new connections "
                     "(%llu so far); open ones are still served\n", std::strerror(errno),
                     static_cast<unsigned long long>(dropped_fd_limit_.load()));
    }
    if (reserve_fd_ >= 0) {
        ::close(reserve_fd_);
        reserve_fd_ = -1;
    }
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) ::close(fd);
    reserve_fd_ = open_reserve();
    return fd >= 0;
}

}  // namespace epws::net
