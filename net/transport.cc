// net/transport.cc: plain TCP transport. Layer: net/.
#include "net/transport.h"

#include <cerrno>
#include <unistd.h>

namespace epws::net {

IoResult PlainTransport::read(int fd, void* buf, size_t len) {
    for (;;) {
        ssize_t n = ::read(fd, buf, len);
        if (n > 0) return {IoStatus::kOk, static_cast<size_t>(n)};
        if (n == 0) return {IoStatus::kEof, 0};
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoStatus::kWouldBlock, 0};
        return {IoStatus::kError, 0};
    }
}

IoResult PlainTransport::writev(int fd, const iovec* iov, int iovcnt) {
    for (;;) {
        ssize_t n = ::writev(fd, iov, iovcnt);
        if (n >= 0) return {IoStatus::kOk, static_cast<size_t>(n)};
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoStatus::kWouldBlock, 0};
        return {IoStatus::kError, 0};
    }
}

PlainTransport& PlainTransport::instance() {
    static PlainTransport plain;
    return plain;
}

}  // namespace epws::net
