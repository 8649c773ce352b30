// net/tls_transport.h: one connection's TLS session on OpenSSL, reading and writing its socket
// through a BIO of our own (no memory BIO, no copy). Layer: net/.
#pragma once

#include <memory>

#include "net/transport.h"

struct ssl_st;

namespace epws::net {

// Server or client side, as the SSL was made (SSL_set_accept_state / SSL_set_connect_state).
// The handshake is driven by the connection's events; read() calls SSL_read until OpenSSL wants
// more from the socket, since it may hold decrypted bytes epoll will never report; a write
// that would block leaves its record inside OpenSSL, and the caller offers the same bytes again
// (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets them move to the connection's output buffer).
// Deletes itself in destroy(). Loop thread only.
class TlsTransport final : public Transport {
public:
    // Takes the SSL (freed in destroy()); keep_alive is held as long as the transport (the
    // certificate set whose callbacks the SSL may still call).
    TlsTransport(ssl_st* ssl, std::shared_ptr<const void> keep_alive);
    HandshakeStatus handshake(int fd) override;
    IoResult read(int fd, void* buf, size_t len) override;
    IoResult writev(int fd, const iovec* iov, int iovcnt) override;
    bool has_buffered_input() const override;
    bool secure() const override { return true; }
    // Sends close_notify once (RFC 8446 §6.1), if the handshake finished.
    void shutdown(int fd) override;
    void destroy() override;
    std::string session_summary() const override;
    std::string handshake_error() const override;

    ssl_st* ssl() const { return ssl_; }

private:
    ~TlsTransport() override;
    IoStatus status_of(int ret);
    IoResult write_flat(const std::byte* p, size_t len);
    // The BIO's callbacks (tls_transport.cc) reach the fd and the drained mark through these.
    friend struct SocketBio;

    ssl_st* ssl_;
    std::shared_ptr<const void> keep_alive_;
    int fd_ = -1;  // set by the first handshake() (the BIO is attached then)
    // A read that had already returned bytes met the end or an error: reported by the next
    // read, so the bytes before it are delivered first.
    IoStatus stashed_ = IoStatus::kOk;
    unsigned long failure_ = 0;  // the OpenSSL error that failed the handshake (0: none seen)
    int sys_errno_ = 0;          // or the socket's errno, when that failed it
    // The last read(2) returned less than asked: the socket was empty then, and under EPOLLET
    // whatever comes after raises a new event. Cleared at each read() and handshake().
    bool drained_ = false;
    bool done_ = false;
    bool shut_ = false;
};

}  // namespace epws::net
