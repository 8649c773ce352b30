// net/cork.h: gathers the replies one readable event produces for one connection, so they
// leave in one write. Layer: net/. One per loop.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <memory>

namespace epws::net {

class Connection;

// While a connection handles its input, what it sends is copied here (up to kBytes) instead of
// being written at once; end() writes it all with one call. Order is kept: a send that does not
// fit first flushes what is gathered, then goes out itself. Loop thread only.
class Cork {
public:
    static constexpr size_t kBytes = 64 * 1024;

    Cork() : buf_(new std::byte[kBytes]) {}
    Cork(const Cork&) = delete;
    Cork& operator=(const Cork&) = delete;

    // Starts gathering for c (after flushing whatever another connection left).
    void begin(Connection* c) {
        if (owner_ != c) flush();
        owner_ = c;
    }
    // Writes what was gathered and stops gathering.
    void end() { flush(); }
    bool holds(const Connection* c) const { return owner_ == c; }
    // Copies iov in if it fits whole; false (nothing copied) if it does not.
    bool append(const iovec* iov, int n, size_t total);
    // Forgets c's gathered bytes without writing them (c is closing).
    void drop(const Connection* c) {
        if (owner_ != c) return;
        owner_ = nullptr;
        len_ = 0;
    }
    // Writes the gathered bytes to their connection and stops gathering.
    void flush();

private:
    std::unique_ptr<std::byte[]> buf_;
    size_t len_ = 0;
    Connection* owner_ = nullptr;
};

}  // namespace epws::net
