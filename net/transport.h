// net/transport.h: how a connection moves bytes over its fd: plain TCP here, TLS beside it.
// Layer: net/. Each connection owns its transport; nothing above net/ asks which one it holds.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace epws::net {

// The result of one read or write: bytes moved, or why none were.
enum class IoStatus : unsigned char {
    kOk,          // `bytes` moved (> 0)
    kWouldBlock,  // nothing now; epoll reports when to try again
    kEof,         // the peer's orderly end (read 0; for TLS, its close_notify)
    kReset,       // the peer reset the connection (ECONNRESET, EPIPE)
    kError,       // any other failure (a TLS protocol error, ETIMEDOUT, ...)
};
struct IoResult {
    IoStatus status;
    size_t bytes;  // > 0 only with kOk
};

// Where a transport is before it carries bytes (a TLS handshake in flight).
enum class HandshakeStatus : unsigned char { kDone, kWantRead, kWantWrite, kFailed };

// One connection's way of reading and writing. A transport may need a handshake before it
// carries application bytes (TLS); the connection drives it from its epoll events and reads or
// writes only once handshake() said kDone. Loop thread only.
class Transport {
public:
    virtual ~Transport() = default;
    // Advances the handshake; kDone at once for a transport that has none.
    virtual HandshakeStatus handshake(int fd) = 0;
    virtual IoResult read(int fd, void* buf, size_t len) = 0;
    // Gathers iov in order; a partial write reports the bytes taken, and the caller offers the
    // rest again later, starting where this one stopped (what TLS requires of a retried write).
    virtual IoResult writev(int fd, const iovec* iov, int iovcnt) = 0;
    // True when the transport holds decrypted input that epoll cannot see (OpenSSL may read a
    // whole record while the caller asked for less): the reader must read on before waiting.
    virtual bool has_buffered_input() const { return false; }
    // True for a transport that encrypts (TLS): wss:// and https:// rather than ws://, http://.
    virtual bool secure() const { return false; }
    // Before our FIN (and before a TLS transport forgets its state): a TLS close_notify.
    virtual void shutdown(int) {}
    // For people reading a trace: once the handshake is done, the protocol version and cipher
    // ("TLSv1.3 TLS_AES_128_GCM_SHA256"); empty for plain TCP or before then.
    virtual std::string session_summary() const { return {}; }
    // After handshake() said kFailed: why, in words (a certificate that failed verification
    // says how: expired, unknown CA, name mismatch); empty for plain TCP.
    virtual std::string handshake_error() const { return {}; }
    // The connection is done with it. A stateless transport is shared and stays; a stateful
    // one deletes itself.
    virtual void destroy() = 0;
};

struct TransportDeleter {
    void operator()(Transport* t) const { t->destroy(); }
};
// What a connection holds: its own transport, released through destroy().
using TransportPtr = std::unique_ptr<Transport, TransportDeleter>;

// Makes the transport of each connection a listener accepts (nullptr: refuse it, out of memory).
using TransportFactory = std::function<TransportPtr()>;

// Plain TCP: read(2) and writev(2). Stateless, so one instance serves every connection (an idle
// plain connection pays one pointer for its transport) and destroy() keeps it.
class PlainTransport final : public Transport {
public:
    HandshakeStatus handshake(int) override { return HandshakeStatus::kDone; }
    IoResult read(int fd, void* buf, size_t len) override;
    IoResult writev(int fd, const iovec* iov, int iovcnt) override;
    void destroy() override {}
    // A handle on the shared instance. Thread-safe (it has no state).
    static TransportPtr make();
};

}  // namespace epws::net
