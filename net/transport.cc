// net/transport.cc: the plain TCP transport. Layer: net/.
#include "net/transport.h"

#include <cerrno>
#include <unistd.h>

namespace epws::net {
namespace {

// errno after a failed read(2) or writev(2), as a status.
IoStatus status_of(int err) {
    if (err == EAGAIN || err == EWOULDBLOCK) return IoStatus::kWouldBlock;
    if (err == ECONNRESET || err == EPIPE) return IoStatus::kReset;
    return IoStatus::kError;
}

}  // namespace

IoResult PlainTransport::read(int fd, void* buf, size_t len) {
    for (;;) {
        ssize_t n = ::read(fd, buf, len);
        if (n > 0) return {IoStatus::kOk, static_cast<size_t>(n)};
        if (n == 0) return {IoStatus::kEof, 0};
        if (errno != EINTR) return {status_of(errno), 0};
    }
}

IoResult PlainTransport::writev(int fd, const iovec* iov, int iovcnt) {
    for (;;) {
        ssize_t n = ::writev(fd, iov, iovcnt);
        if (n >= 0) return {IoStatus::kOk, static_cast<size_t>(n)};
        if (errno != EINTR) return {status_of(errno), 0};
    }
}

TransportPtr PlainTransport::make() {
    static PlainTransport plain;
    return TransportPtr(&plain);
}

}  // namespace epws::net
