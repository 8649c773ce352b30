// net/tls_transport.cc: a connection's TLS session: handshake, reads until WANT_READ, writes
// that resume where they stopped, close_notify. Layer: net/.
#include "net/tls_transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace epws::net {
namespace {

// One TLS record carries at most 2^14 plaintext bytes (RFC 8446 §5.1): small pieces of a
// gathered write are copied into one record's worth before SSL_write, so a frame header and
// its payload, or a batch of small frames, travel as one record instead of one each.
constexpr size_t kRecordBytes = 16384;
// Pieces at least this large are written from where they are (the copy would buy nothing).
constexpr size_t kDirectBytes = 4096;

// Empties this thread's error queue, which SSL_get_error(3) needs empty before the call it
// judges. ERR_clear_error walks every slot of the queue (some 800 instructions in OpenSSL
// 3.0, callgrind); the peek is cheap, and the queue is almost always empty already since
// every failure here clears it.
void clear_errors() {
    if (ERR_peek_error() != 0) ERR_clear_error();
}

}  // namespace

// A source/sink BIO on the connection's socket, like OpenSSL's socket BIO (BIO_s_socket) but
// for one thing: after a short read(2) it answers "retry" without asking the kernel, since
// under EPOLLET a drained socket raises a new event for whatever arrives next. This saves the
// read(2) that ends every SSL_read-until-WANT_READ with EAGAIN (one of three system calls per
// event on a small echo). Its data is the TlsTransport.
struct SocketBio {
    static TlsTransport* owner(BIO* b) { return static_cast<TlsTransport*>(BIO_get_data(b)); }

    static int read(BIO* b, char* buf, size_t len, size_t* got) {
        TlsTransport* t = owner(b);
        BIO_clear_retry_flags(b);
        if (t->drained_) {
            BIO_set_retry_read(b);
            return 0;
        }
        ssize_t n = ::read(t->fd_, buf, len);
        if (n > 0) {
            *got = static_cast<size_t>(n);
            t->drained_ = static_cast<size_t>(n) < len;
            return 1;
        }
        if (n == 0) {
            BIO_set_flags(b, BIO_FLAGS_IN_EOF);  // BIO_eof(): OpenSSL tells a truncation apart
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            BIO_set_retry_read(b);
        }
        return 0;
    }

    static int write(BIO* b, const char* buf, size_t len, size_t* put) {
        TlsTransport* t = owner(b);
        BIO_clear_retry_flags(b);
        // MSG_NOSIGNAL: a peer gone is EPIPE here, never a signal.
        ssize_t n = ::send(t->fd_, buf, len, MSG_NOSIGNAL);
        if (n >= 0) {
            *put = static_cast<size_t>(n);
            return 1;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(b);
        return 0;
    }

    static long ctrl(BIO* b, int cmd, long, void*) {
        switch (cmd) {
        case BIO_CTRL_FLUSH:
            return 1;  // nothing is held here
        case BIO_CTRL_EOF:
            return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
        default:
            return 0;  // no kTLS, no duplication, no fd to hand out
        }
    }

    static int create(BIO* b) {
        BIO_set_init(b, 1);
        return 1;
    }

    // Made once per process: BIO_METHOD is shared and immutable after setup (thread-safe
    // initialisation of a function-local static).
    static const BIO_METHOD* method() {
        static BIO_METHOD* m = [] {
            int type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK;
            BIO_METHOD* bm = BIO_meth_new(type, "epws socket");
            if (bm == nullptr) return bm;
            if (BIO_meth_set_read_ex(bm, read) != 1 || BIO_meth_set_write_ex(bm, write) != 1 ||
                BIO_meth_set_ctrl(bm, ctrl) != 1 || BIO_meth_set_create(bm, create) != 1) {
                BIO_meth_free(bm);
                return static_cast<BIO_METHOD*>(nullptr);
            }
            return bm;
        }();
        return m;
    }
};

TlsTransport::TlsTransport(ssl_st* ssl, std::shared_ptr<const void> keep_alive)
    : ssl_(ssl), keep_alive_(std::move(keep_alive)) {}

TlsTransport::~TlsTransport() { SSL_free(ssl_); }

void TlsTransport::destroy() { delete this; }

// What a failed SSL call means for the connection. Clears the error queue, which OpenSSL needs
// empty before the next call on this thread (SSL_get_error(3)).
IoStatus TlsTransport::status_of(int ret) {
    int saved_errno = errno;  // of the socket call that failed, before anything else runs
    int err = SSL_get_error(ssl_, ret);
    unsigned long lib_err = ERR_peek_error();
    if (lib_err != 0) ERR_clear_error();  // WANT_READ and WANT_WRITE leave it empty
    switch (err) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        // WANT_WRITE while reading (a TLS 1.3 KeyUpdate answer that did not fit) resolves
        // on the next write; renegotiation, the other cause, is off.
        return IoStatus::kWouldBlock;
    case SSL_ERROR_ZERO_RETURN:
        return IoStatus::kEof;  // the peer's close_notify: an orderly end
    case SSL_ERROR_SYSCALL:
        // errno 0: the socket ended without close_notify (a truncated stream).
        if (saved_errno == ECONNRESET || saved_errno == EPIPE || saved_errno == 0)
            return IoStatus::kReset;
        return IoStatus::kError;
    case SSL_ERROR_SSL:
        // OpenSSL 3 reports the end of the socket before close_notify (possibly in the
        // middle of a record) this way: the peer went without an orderly end.
        if (ERR_GET_REASON(lib_err) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            return IoStatus::kReset;
        return IoStatus::kError;
    default:
        return IoStatus::kError;
    }
}

HandshakeStatus TlsTransport::handshake(int fd) {
    if (done_) return HandshakeStatus::kDone;
    if (fd_ < 0) {
        const BIO_METHOD* m = SocketBio::method();
        BIO* bio = m != nullptr ? BIO_new(m) : nullptr;
        if (bio == nullptr) {
            ERR_clear_error();
            return HandshakeStatus::kFailed;
        }
        BIO_set_data(bio, this);
        SSL_set_bio(ssl_, bio, bio);  // one reference, owned by the SSL from here
        fd_ = fd;
    }
    int r, err;
    do {
        // The skipped read(2) is made here: a handshake stalls on WANT_READ until the next
        // event, so a FIN behind a partial record must be seen now (they are few; the system
        // call does not matter).
        drained_ = false;
        clear_errors();
        r = SSL_do_handshake(ssl_);
        if (r == 1) {
            done_ = true;
            return HandshakeStatus::kDone;
        }
        int saved_errno = errno;  // of a socket call that failed (SSL_ERROR_SYSCALL)
        err = SSL_get_error(ssl_, r);
        if (err == SSL_ERROR_SYSCALL && failure_ == 0 && sys_errno_ == 0) sys_errno_ = saved_errno;
        // The first failure is the one to tell; a call after it only finds the socket closed.
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE && failure_ == 0)
            failure_ = ERR_peek_error();
        clear_errors();
    } while (err == SSL_ERROR_WANT_READ && drained_);
    if (err == SSL_ERROR_WANT_READ) return HandshakeStatus::kWantRead;
    if (err == SSL_ERROR_WANT_WRITE) return HandshakeStatus::kWantWrite;
    // Garbage, plain HTTP, a protocol or cipher we refuse, a certificate the client rejects,
    // or the peer leaving: the connection ends here.
    return HandshakeStatus::kFailed;
}

// Reads record after record into buf until it is full or OpenSSL needs the socket to say more
// (WANT_READ: the socket is drained, so under EPOLLET a new edge will come). A short result
// therefore means the same as a short read(2) on plain TCP.
IoResult TlsTransport::read(int, void* buf, size_t len) {
    if (stashed_ != IoStatus::kOk) {
        IoStatus s = stashed_;
        stashed_ = IoStatus::kOk;
        return {s, 0};
    }
    auto* out = static_cast<char*>(buf);
    size_t got = 0;
    drained_ = false;  // a new call from the connection: read(2) at least once
    clear_errors();
    while (got < len) {
        int want = static_cast<int>(std::min<size_t>(len - got, INT_MAX));
        int n = SSL_read(ssl_, out + got, want);
        if (n > 0) {
            got += static_cast<size_t>(n);
            // The socket was drained and OpenSSL holds no byte, not even part of a record:
            // another SSL_read could only end in WANT_READ, so it is not made.
            if (drained_ && SSL_has_pending(ssl_) == 0) break;
            continue;
        }
        IoStatus s = status_of(n);
        if (s == IoStatus::kWouldBlock && got == 0 && drained_) {
            // Nothing for the caller yet (a ticket, a partial record): ask the kernel after
            // all. The caller waits for an event now, and an end of stream queued behind the
            // short read raised none; with bytes returned it reads again itself (as after a
            // short read(2) on plain TCP).
            drained_ = false;
            continue;
        }
        if (got == 0) return {s, 0};
        if (s != IoStatus::kWouldBlock) stashed_ = s;  // after the bytes already read
        break;
    }
    return {IoStatus::kOk, got};
}

bool TlsTransport::has_buffered_input() const {
    return stashed_ != IoStatus::kOk || SSL_has_pending(ssl_) == 1;
}

// SSL_write until len bytes went or a record would block. With SSL_MODE_ENABLE_PARTIAL_WRITE
// each call returns once a record is out, so the count reported is exactly what left.
IoResult TlsTransport::write_flat(const std::byte* p, size_t len) {
    size_t sent = 0;
    clear_errors();
    while (sent < len) {
        int want = static_cast<int>(std::min<size_t>(len - sent, INT_MAX));
        int n = SSL_write(ssl_, p + sent, want);
        if (n > 0) {
            sent += static_cast<size_t>(n);
            continue;
        }
        IoStatus s = status_of(n);
        if (s != IoStatus::kWouldBlock) return {s, 0};
        break;
    }
    return {IoStatus::kOk, sent};
}

IoResult TlsTransport::writev(int, const iovec* iov, int iovcnt) {
    if (iovcnt == 1) return write_flat(static_cast<const std::byte*>(iov[0].iov_base), iov[0].iov_len);
    // Copied pieces are encrypted before SSL_write returns, so one buffer per thread serves.
    thread_local std::byte gather[kRecordBytes];
    size_t total = 0;
    int i = 0;
    size_t off = 0;  // into iov[i]
    while (i < iovcnt) {
        const auto* base = static_cast<const std::byte*>(iov[i].iov_base);
        size_t left = iov[i].iov_len - off;
        if (left == 0) {
            ++i;
            off = 0;
            continue;
        }
        IoResult r;
        size_t offered;
        if (left >= kDirectBytes) {
            offered = left;
            r = write_flat(base + off, left);
            off += r.bytes;
        } else {
            // Gather small pieces (and the head of the next large one) into one record.
            size_t fill = 0;
            while (i < iovcnt && fill < kRecordBytes) {
                size_t piece = iov[i].iov_len - off;
                size_t take = std::min(piece, kRecordBytes - fill);
                if (fill > 0 && piece >= kDirectBytes) break;  // it goes on its own
                std::memcpy(gather + fill, static_cast<const std::byte*>(iov[i].iov_base) + off, take);
                fill += take;
                off += take;
                if (off == iov[i].iov_len) {
                    ++i;
                    off = 0;
                }
            }
            offered = fill;
            r = write_flat(gather, fill);
            if (r.bytes < fill) {
                // The rest of this record's bytes stay with the caller, who offers them again.
                total += r.bytes;
                return {r.status, r.status == IoStatus::kOk ? total : 0};
            }
        }
        if (r.status != IoStatus::kOk) return {r.status, 0};
        total += r.bytes;
        if (r.bytes < offered) break;  // the socket is full
    }
    return {IoStatus::kOk, total};
}

void TlsTransport::shutdown(int) {
    if (!done_ || shut_) return;
    shut_ = true;
    clear_errors();
    // Sends our close_notify; the peer's is read (kEof) by read() afterwards. A full socket
    // loses it, which the peer sees as a truncation; the TCP FIN follows either way.
    if (SSL_shutdown(ssl_) < 0) ERR_clear_error();
}

std::string TlsTransport::session_summary() const {
    if (!done_) return {};
    return std::string(SSL_get_version(ssl_)) + " " + SSL_get_cipher_name(ssl_);
}

// The words a person needs first, then OpenSSL's own (X509_verify_cert_error_string(3)).
std::string TlsTransport::handshake_error() const {
    if (failure_ == 0 && sys_errno_ != 0)
        return std::string("TLS handshake failed: ") + std::strerror(sys_errno_);
    if (failure_ == 0) return "the peer ended the connection during the TLS handshake";
    if (ERR_GET_REASON(failure_) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        long v = SSL_get_verify_result(ssl_);
        const char* why = "";
        switch (v) {
        case X509_V_ERR_CERT_HAS_EXPIRED: why = "expired: "; break;
        case X509_V_ERR_CERT_NOT_YET_VALID: why = "not yet valid: "; break;
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH: why = "name mismatch: "; break;
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: why = "unknown CA: "; break;
        default: break;
        }
        return std::string("certificate verification failed: ") + why +
               X509_verify_cert_error_string(v);
    }
    char buf[256];
    ERR_error_string_n(failure_, buf, sizeof(buf));
    return std::string("TLS handshake failed: ") + buf;
}

}  // namespace epws::net
