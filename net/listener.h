// net/listener.h: accepts connections on a listening socket until EAGAIN. Layer: net/.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>

#include "net/counter.h"
#include "net/watcher.h"

namespace epws::net {

class Loop;

// Calls on_accept(fd, peer) for every accepted socket (non-blocking, close-on-exec, Nagle
// off); the callback owns the fd. When the process is out of descriptors (EMFILE/ENFILE)
// it frees a reserved descriptor, accepts and at once closes the pending connection (so it
// is not left to retry forever in the backlog), reopens the reserve and logs, at most once
// a second. Loop thread only; does not own the Loop.
class Listener final : public Watcher {
public:
    using AcceptFn = std::function<void(int fd, const sockaddr_storage& peer)>;

    // Takes ownership of listen_fd; start() begins accepting.
    // dropped counts the connections closed at once for want of descriptors; not owned.
    Listener(Loop& loop, int listen_fd, AcceptFn on_accept, Counter& dropped);
    // Starts watching the socket; false (with err) if epoll refused it.
    bool start(std::string& err);
    ~Listener() override;
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    // Stops accepting and closes the listening socket (graceful shutdown).
    void close();
    bool listening() const { return fd_ >= 0; }
    int fd() const { return fd_; }

    void on_events(uint32_t events) override;

private:
    bool shed_one();

    Loop& loop_;
    int fd_;
    int reserve_fd_;
    AcceptFn on_accept_;
    Counter& dropped_fd_limit_;
    uint64_t last_log_ms_ = 0;
};

}  // namespace epws::net
