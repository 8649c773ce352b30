// net/transport.h: how a connection moves bytes over its fd. Layer: net/.
// Plain TCP today; native TLS slots in as a second implementation without touching ws/.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>

namespace epws::net {

// The result of one read or write: bytes moved, or one of the states below.
enum class IoStatus : unsigned char { kOk, kWouldBlock, kEof, kError };
struct IoResult {
    IoStatus status;
    size_t bytes;  // > 0 only with kOk
};

// Stateless for plain TCP, so one instance serves every connection. A TLS transport would
// hold per-connection state and report has_buffered_input() when OpenSSL holds decrypted
// bytes that epoll cannot see (STYLE.md: SSL_read until SSL_ERROR_WANT_READ).
class Transport {
public:
    virtual ~Transport() = default;
    virtual IoResult read(int fd, void* buf, size_t len) = 0;
    virtual IoResult writev(int fd, const iovec* iov, int iovcnt) = 0;
    virtual bool has_buffered_input() const { return false; }
};

// Plain TCP: read(2) and writev(2). Thread-safe (it has no state).
class PlainTransport final : public Transport {
public:
    IoResult read(int fd, void* buf, size_t len) override;
    IoResult writev(int fd, const iovec* iov, int iovcnt) override;
    static PlainTransport& instance();
};

}  // namespace epws::net
