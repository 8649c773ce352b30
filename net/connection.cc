// net/connection.cc: reading until EAGAIN, corked writes, backpressure and closing.
// Layer: net/.
#include "net/connection.h"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

#include "net/loop.h"

namespace epws::net {
namespace {

// A protocol leaves at most a partial header unconsumed (its codec streams the rest), so a
// remainder this large means a bug or an unbounded protocol limit: refuse to hold it.
constexpr size_t kMaxLeftover = Loop::kScratchBytes / 2;

// A failed read or write, as the cause the connection closes with.
CloseCause cause_of(IoStatus s, CloseCause otherwise) {
    return s == IoStatus::kReset ? CloseCause::kPeerReset : otherwise;
}

}  // namespace

const char* close_cause_name(CloseCause cause) {
    switch (cause) {
    case CloseCause::kLocal: return "local";
    case CloseCause::kPeerEof: return "peer_eof";
    case CloseCause::kPeerReset: return "peer_reset";
    case CloseCause::kReadError: return "read_error";
    case CloseCause::kWriteError: return "write_error";
    case CloseCause::kPollError: return "poll_error";
    case CloseCause::kTimeout: return "timeout";
    case CloseCause::kLeftoverOverflow: return "leftover_overflow";
    case CloseCause::kOutOfMemory: return "out_of_memory";
    case CloseCause::kHandshakeFailed: return "handshake_failed";
    case CloseCause::kOverBudget: return "over_budget";
    }
    return "unknown";
}

Connection::Connection(Loop& loop, int fd, TransportPtr transport)
    : fd_(fd), loop_(loop), transport_(std::move(transport)) {
    // Plain TCP is ready at once; a TLS transport starts its handshake and goes on from the
    // connection's events (a failure now shows again, and closes, at the first event). One
    // that finished already (the client's whole flight, and maybe its first request, had
    // arrived) still waits for that first event, which the loop raises when it adopts the
    // writable socket: the owner hears on_handshake_done() there, and the request that
    // OpenSSL read along with the handshake, which epoll will never report, is read then.
    if (transport_->handshake(fd_) == HandshakeStatus::kDone && !transport_->secure())
        state_ = State::kOpen;
}

Connection::~Connection() {
    if (fd_ >= 0) ::close(fd_);
}

void Connection::set_output_limits(uint32_t cap, uint32_t pause_reading_at) {
    out_cap_ = cap;
    pause_reading_at_ = pause_reading_at;
}

void Connection::set_timeout(uint32_t ms) {
    if (ms == 0) {
        loop_.timers().cancel(timer());
        return;
    }
    // From the loop's clock as of this wake-up, not the wheel's last tick: after a stall (a
    // stopped process, a long batch) the wheel lags, and a deadline counted from it would
    // already have passed for a client that just arrived. +1 tick: never fire early.
    uint32_t ticks = (ms + Loop::kTickMs - 1) / Loop::kTickMs + 1;
    loop_.timers().schedule(timer(), loop_.current_tick() + ticks);
}

Connection::Drain Connection::take_drain_progress() {
    // What the peer has taken: for TCP the bytes it acknowledged (tcp_info, Linux 4.1), else
    // the fall of the kernel's unsent bytes (SIOCOUTQ), with our own queue's writes.
    int outq = 0;
    if (::ioctl(fd_, SIOCOUTQ, &outq) != 0 || outq < 0) outq = 0;  // unknown: none waits there
    bool pending = !out_.empty() || outq > 0;
    tcp_info info{};
    socklen_t len = sizeof info;
    uint32_t mark = 0;
    bool progressed = false;
    if (::getsockopt(fd_, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
        len >= offsetof(tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked) {
        mark = static_cast<uint32_t>(info.tcpi_bytes_acked);  // a change is all that counts
        progressed = mark != drain_mark_;
    } else {
        mark = static_cast<uint32_t>(outq);
        progressed = output_progress_ || mark < drain_mark_;
    }
    // The first deadline to pass while output waits only takes the mark: the peer then has one
    // more period to show it takes anything.
    Drain d{pending, pending && drain_marked_ && progressed, pending && !drain_marked_};
    drain_marked_ = pending;
    drain_mark_ = mark;
    output_progress_ = false;
    return d;
}

void Connection::expire() {
    if (state_ != State::kClosed) call_owner([this] { on_timeout(); });
}

void Connection::on_events(uint32_t events) {
    if (state_ == State::kClosed) return;  // a stale event from earlier in this batch
    if (events & EPOLLERR) {
        close(CloseCause::kPollError);
        return;
    }
    if (state_ == State::kHandshaking) {
        if (!advance_handshake()) return;
        // The handshake may have finished on EPOLLOUT after an earlier EPOLLIN edge brought
        // application data it left unread (TLS 1.3 clients send it with their Finished):
        // read as if the socket had just become readable.
        events |= EPOLLIN;
    }
    if (events & EPOLLOUT) handle_writable();
    if (state_ != State::kClosed && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))) {
        loop_.cork().begin(this);
        handle_readable((events & (EPOLLRDHUP | EPOLLHUP)) != 0);
        loop_.cork().end();
    }
}

// Drives the transport's handshake on any event (under EPOLLET both directions are watched
// all along, so whichever it waits for will be reported). True once bytes may flow.
bool Connection::advance_handshake() {
    switch (transport_->handshake(fd_)) {
    case HandshakeStatus::kDone:
        state_ = State::kOpen;
        call_owner([this] { on_handshake_done(); });
        if (state_ == State::kClosed) return false;
        // Anything sent meanwhile waits in out_; EPOLLOUT may not come again, so write it now.
        if (!out_.empty() && !write_out()) return false;
        return true;
    case HandshakeStatus::kWantRead:
    case HandshakeStatus::kWantWrite:
        return false;
    case HandshakeStatus::kFailed:
        close(CloseCause::kHandshakeFailed);
        return false;
    }
    return false;
}

void Connection::handle_readable(bool peer_closed) {
    for (;;) {
        if (state_ == State::kClosed) return;
        if (out_.size() > pause_reading_at_) {
            // Backpressure: leave the input in the kernel (TCP slows the peer down) and come
            // back from handle_writable() once the output has drained.
            read_pending_ = true;
            return;
        }
        std::byte* buf = loop_.scratch();
        size_t have = in_.size();
        if (have) std::memcpy(buf, in_.readable().data(), have);
        size_t room = Loop::kScratchBytes - have;
        IoResult r = transport_->read(fd_, buf + have, room);
        if (r.status == IoStatus::kWouldBlock) return;
        if (r.status == IoStatus::kError || r.status == IoStatus::kReset) {
            close(cause_of(r.status, CloseCause::kReadError));
            return;
        }
        if (r.status == IoStatus::kEof) {
            if (state_ == State::kDraining) {
                close(CloseCause::kLocal);  // the peer finished its half too: a clean end
            } else {
                call_owner([this] { on_eof(); });
            }
            return;
        }
        in_.release();
        if (state_ == State::kDraining) continue;  // after our close, input is discarded
        if (!deliver(buf, have + r.bytes)) return;
        // A short read drained the socket: under EPOLLET any byte arriving after it raises a
        // new event, so the EAGAIN read is skipped (as nginx does). A FIN that came with these
        // bytes raised no new edge, so keep reading when the peer may have closed.
        if (r.bytes < room && !peer_closed && !transport_->has_buffered_input()) return;
    }
}

bool Connection::deliver(std::byte* data, size_t len) {
    size_t used = 0;
    call_owner([&] { used = on_data({data, len}); });
    if (state_ == State::kClosed) return false;
    if (used < len) {
        if (state_ == State::kDraining) return true;
        size_t rest = len - used;
        // Under backpressure a protocol may stop consuming whole messages (pipelined HTTP
        // requests): what it left, at most one read, is offered again once the output drains.
        // Otherwise only a partial header may be left.
        if (rest > kMaxLeftover && !output_over_mark()) {
            close(CloseCause::kLeftoverOverflow);
            return false;
        }
        if (!in_.append(data + used, rest)) {
            close(CloseCause::kOutOfMemory);
            return false;
        }
    }
    return true;
}

void Connection::handle_writable() {
    if (!out_.empty() && !write_out()) return;
    if (!out_.empty()) return;
    if (state_ == State::kDraining && !shut_wr_) {
        finish_draining();
        return;
    }
    call_owner([this] { on_drain(); });
    if (state_ == State::kClosed) return;
    if (read_pending_ && state_ == State::kOpen) {
        read_pending_ = false;
        loop_.cork().begin(this);
        // What the protocol left while paused comes first, whether or not the kernel has more.
        if (!in_.empty() && !redeliver()) {
            loop_.cork().end();
            return;
        }
        handle_readable(true);  // read until EAGAIN: the edge was consumed while paused
        loop_.cork().end();
    }
}

// Offers the kept input again on its own. False if the connection closed or paused again.
bool Connection::redeliver() {
    std::byte* buf = loop_.scratch();
    size_t have = in_.size();
    std::memcpy(buf, in_.readable().data(), have);
    in_.release();
    if (!deliver(buf, have)) return false;
    if (state_ == State::kOpen && output_over_mark()) {
        read_pending_ = true;  // still over the mark: wait for the next drain
        return false;
    }
    return state_ == State::kOpen;
}

// Writes the output queue until it empties or the kernel says EAGAIN. False if closed.
bool Connection::write_out() {
    constexpr int kGather = 64;  // pieces per writev: enough to fill a socket buffer
    while (!out_.empty()) {
        iovec iov[kGather];
        int n = out_.gather(iov, kGather);
        IoResult r = transport_->writev(fd_, iov, n);
        if (r.status == IoStatus::kWouldBlock) return true;
        if (r.status != IoStatus::kOk) {
            close(cause_of(r.status, CloseCause::kWriteError));
            return false;
        }
        size_t before = out_.owned_bytes();
        out_.consume(r.bytes);
        account_copies(before);
        if (r.bytes > 0) output_progress_ = true;
    }
    return true;
}

// Tells the loop's output budget how the queue's copies changed since `before`.
void Connection::account_copies(size_t before) {
    size_t now = out_.owned_bytes();
    if (now != before) loop_.budget().add(static_cast<int64_t>(now) - static_cast<int64_t>(before));
}

SendStatus Connection::send(std::span<const std::byte> a, std::span<const std::byte> b,
                            bool force) {
    iovec iov[2] = {{const_cast<std::byte*>(a.data()), a.size()},
                    {const_cast<std::byte*>(b.data()), b.size()}};
    return sendv(iov, b.empty() ? 1 : 2, force);
}

namespace {

size_t iov_total(const iovec* iov, int n) {
    size_t total = 0;
    for (int i = 0; i < n; ++i) total += iov[i].iov_len;
    return total;
}

// Appends iov to out, skipping its first `skip` bytes: by reference where shared names an owner,
// else copied. False if a copy could not be made.
bool append_iov(OutputQueue& out, const iovec* iov, int n, size_t skip, SharedBytes* const* shared) {
    for (int i = 0; i < n; ++i) {
        size_t len = iov[i].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        auto* p = static_cast<const std::byte*>(iov[i].iov_base) + skip;
        SharedBytes* owner = shared ? shared[i] : nullptr;
        bool ok = owner ? out.append_shared(p, len - skip, owner) : out.append_copy(p, len - skip);
        if (!ok) return false;
        skip = 0;
    }
    return true;
}

}  // namespace

SendStatus Connection::sendv(const iovec* iov, int n, bool force, SharedBytes* const* shared) {
    if (state_ != State::kOpen && state_ != State::kHandshaking) return SendStatus::kDropped;
    size_t total = iov_total(iov, n);
    Cork& cork = loop_.cork();
    if (cork.holds(this)) {
        if (out_.empty() && cork.append(iov, n, total)) return SendStatus::kSent;
        cork.flush();  // keep order: what was corked goes first
        if (state_ != State::kOpen) return SendStatus::kDropped;
        cork.begin(this);  // and go on gathering what follows
    }
    if (!out_.empty() || state_ == State::kHandshaking) {
        if (!force && out_.size() + total > out_cap_) return SendStatus::kDropped;
        return queue(iov, n, 0, shared) ? SendStatus::kQueued : SendStatus::kDropped;
    }
    // One writev for all of it (the kernel takes at most IOV_MAX pieces: callers pass fewer).
    IoResult r = transport_->writev(fd_, iov, n);
    if (r.status == IoStatus::kError || r.status == IoStatus::kReset) {
        close(cause_of(r.status, CloseCause::kWriteError));
        return SendStatus::kDropped;
    }
    size_t sent = r.status == IoStatus::kOk ? r.bytes : 0;
    if (sent == total) return SendStatus::kSent;
    // Keep what the kernel refused; EPOLLOUT (edge-triggered) tells us when to go on.
    return queue(iov, n, sent, shared) ? SendStatus::kQueued : SendStatus::kDropped;
}

// Appends iov (less its first `skip` bytes) to the output buffer. A buffer that cannot grow
// would leave a frame cut in two on the wire: the connection is closed instead.
bool Connection::queue(const iovec* iov, int n, size_t skip, SharedBytes* const* shared) {
    size_t before = out_.owned_bytes();
    bool ok = append_iov(out_, iov, n, skip, shared);
    account_copies(before);
    if (ok) return true;
    close(CloseCause::kOutOfMemory);
    return false;
}

void Connection::close_after_flush() {
    if (state_ != State::kOpen) return;
    if (loop_.cork().holds(this)) loop_.cork().flush();
    if (state_ != State::kOpen) return;
    state_ = State::kDraining;
    read_pending_ = false;
    if (out_.empty()) finish_draining();
}

// Output is flushed: send our FIN and wait for the peer's (or the timeout).
void Connection::finish_draining() {
    shut_wr_ = true;
    transport_->shutdown(fd_);
    ::shutdown(fd_, SHUT_WR);
}

void Connection::close(CloseCause cause) {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    loop_.timers().cancel(timer());
    loop_.cork().drop(this);
    size_t before = out_.owned_bytes();
    out_.clear();
    account_copies(before);
    in_.release();
    if (in_callback_ > 0) {
        close_deferred_ = true;
        deferred_cause_ = cause;
        return;
    }
    finish_close(cause);
}

void Connection::finish_close(CloseCause cause) {
    on_close(cause);
    loop_.retire(this);
    // An orderly end says so inside the transport too (TLS close_notify, RFC 8446 §6.1), so
    // the peer can tell it from a truncation; a failed or timed-out one just goes.
    if (!shut_wr_ && (cause == CloseCause::kLocal || cause == CloseCause::kPeerEof))
        transport_->shutdown(fd_);
    if (cause == CloseCause::kTimeout || cause == CloseCause::kOverBudget) {
        // The peer let a deadline pass (a head that never completes, a close never answered,
        // output it never reads): reset rather than FIN, so the kernel drops at once what it
        // still holds for this peer instead of keeping an orphaned socket that probes a
        // zero window for minutes (nginx: reset_timedout_connection). A connection cut for the
        // output budget is reset for the same reason: what it holds is what we want back.
        linger abort{1, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    }
    ::close(fd_);
    fd_ = -1;
}

}  // namespace epws::net
