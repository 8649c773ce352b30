// net/connection.h: one TCP connection owned by a Loop. Layer: net/ (knows no protocol).
// A protocol layer derives from Connection and implements the on_* events.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "net/buffer.h"
#include "net/cork.h"
#include "net/output_queue.h"
#include "net/shared_bytes.h"
#include "net/timer_wheel.h"
#include "net/transport.h"
#include "net/watcher.h"

namespace epws::net {

class Loop;

// What send() did with the bytes (like uWebSockets' SendStatus): nothing is dropped silently.
enum class SendStatus : unsigned char {
    kSent,     // handed to the kernel (or to the loop's cork buffer, written before the loop sleeps)
    kQueued,   // the kernel refused some bytes; they wait in the output buffer for EPOLLOUT
    kDropped,  // not accepted: the connection is closed, or its output buffer is over its cap
};

// Why a connection ended: one value per cause (close_cause_name() gives each its word for
// /stats and logs).
enum class CloseCause : unsigned char {
    kLocal,             // this side ended it (at once, or after its graceful close)
    kPeerEof,           // the peer closed its half (read 0) and the protocol ended there
    kPeerReset,         // the peer reset the connection (ECONNRESET, EPIPE)
    kReadError,         // read failed otherwise
    kWriteError,        // write failed otherwise
    kPollError,         // epoll reported EPOLLERR
    kTimeout,           // the deadline of set_timeout() passed
    kLeftoverOverflow,  // the protocol left more input unconsumed than it may (a bug)
    kOutOfMemory,       // a buffer could not grow
    kHandshakeFailed,   // the transport's handshake failed (TLS)
    kOverBudget,        // cut: the process's output budget was spent, this one held the most
};
inline constexpr size_t kCloseCauseCount = 11;
const char* close_cause_name(CloseCause cause);

// Lifecycle: created by the owner's accept callback, adopted by Loop::adopt() (which
// registers it with epoll once: EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP), closed by
// close(), and deleted by the loop after the current event batch, so a pointer seen earlier
// in the same batch stays valid. It owns its fd and its transport; bytes flow once the
// transport's handshake is done (at once for plain TCP). Loop thread only.
class Connection : public Watcher, private TimerNode {
public:
    Connection(Loop& loop, int fd, TransportPtr transport = PlainTransport::make());
    virtual ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    int fd() const { return fd_; }
    Loop& loop() const { return loop_; }
    bool closed() const { return state_ == State::kClosed; }
    const Transport& transport() const { return *transport_; }
    // Unsent bytes, copied or shared.
    size_t queued_bytes() const { return out_.size(); }
    // Memory the unsent copies hold (what the process-wide output budget counts).
    size_t queued_copies() const { return out_.owned_bytes(); }
    // More is queued than the mark at which reading pauses (set_output_limits): a protocol
    // should stop turning input into output until it drains (on_data may then leave any part
    // of its input unconsumed; it is offered again after on_drain).
    bool output_over_mark() const { return out_.size() > pause_reading_at_; }
    // Whether output still waits, ours or in the kernel's send buffer, and whether any of it
    // left since the last call: a peer that reads slowly makes progress, one that reads
    // nothing does not. A system call (SIOCOUTQ): for deadlines, not per message.
    struct Drain {
        bool pending;     // output waits, ours or the kernel's
        bool progressed;  // and the peer took some of it since the last call
        bool first;       // the first call to find it waiting: progress is judged from the next
    };
    Drain take_drain_progress();

    // Sends a then b (b may be empty: header + payload without copying the payload into a
    // frame). Bytes the kernel refuses are copied to the output queue; while it is non-empty
    // nothing is written out of order. Over the output cap the send is refused with kDropped
    // unless `force` (a close frame may still go out after the cap is hit).
    SendStatus send(std::span<const std::byte> a, std::span<const std::byte> b = {},
                    bool force = false);
    // The same for n pieces (n <= IOV_MAX) in one writev: a batch of frames that many
    // connections share is sent to each without being copied. shared (may be null): for each
    // piece, the owner of its bytes, or null; what the kernel refuses of an owned piece is
    // queued by reference (the owner retained), never copied.
    SendStatus sendv(const iovec* iov, int n, bool force = false, SharedBytes* const* shared = nullptr);

    // Closes at once: unsent output is discarded, nothing more is read or sent, on_close()
    // runs, the fd is closed now and the object deleted after the event batch. Called while
    // one of this connection's callbacks (on_data, on_eof, on_drain, on_timeout) runs, say by
    // a send that meets a reset peer, on_close() and the fd's close wait until that callback
    // returns, so a handler never has its own state torn down under it.
    void close(CloseCause cause = CloseCause::kLocal);
    // Graceful end: once output is flushed, half-close (FIN), then drain and discard input
    // until the peer closes too or the timeout set with set_timeout() fires.
    void close_after_flush();
    bool closing() const { return state_ == State::kDraining; }
    // True until the transport's handshake (TLS) is done; never for plain TCP.
    bool handshaking() const { return state_ == State::kHandshaking; }

    // The one deadline of this connection, in milliseconds from now (0 cancels). On expiry
    // on_timeout() runs. Re-arming to a later time on every message is cheap (no re-link).
    void set_timeout(uint32_t ms);

    // Output cap in bytes (see send()). Reading pauses while more than pause_reading_at
    // bytes wait, so a peer that sends without reading is slowed by TCP instead of growing
    // our buffer; it resumes once the output has drained.
    void set_output_limits(uint32_t cap, uint32_t pause_reading_at);

    // The loop's timer wheel calls this when the deadline passes: on_timeout() runs.
    void expire();
    // The same, from the wheel's node (this connection's TimerNode base, private otherwise).
    static void expire(TimerNode* node) { static_cast<Connection*>(node)->expire(); }
    // The loop cuts this connection to bring the output budget back (see on_over_budget).
    void cut_over_budget() { call_owner([this] { on_over_budget(); }); }

protected:
    // Bytes arrived: data holds what was left unconsumed last time followed by the new
    // bytes. It is mutable (a codec may unmask in place) and valid only during the call.
    // Returns how many bytes were consumed; the rest are offered again, with more, next
    // time, so a protocol should leave only small remainders (a partial header).
    virtual size_t on_data(std::span<std::byte> data) = 0;
    // The peer half-closed (read returned 0) while the connection was open.
    virtual void on_eof() { close(CloseCause::kPeerReset); }
    // The output buffer drained after send() had queued.
    virtual void on_drain() {}
    virtual void on_timeout() { close(CloseCause::kTimeout); }
    // The transport's handshake has just finished (never called for plain TCP, which has none).
    virtual void on_handshake_done() {}
    // The connection is closing: the last event. Do not send from here.
    virtual void on_close(CloseCause) {}
    // The process's output budget is spent and this connection holds the most of it: the loop
    // cuts it (close(kOverBudget) by default; a protocol may say goodbye first).
    virtual void on_over_budget() { close(CloseCause::kOverBudget); }

private:
    enum class State : unsigned char { kHandshaking, kOpen, kDraining, kClosed };

    TimerNode* timer() { return this; }
    void on_events(uint32_t events) final;
    bool advance_handshake();
    void handle_readable(bool peer_closed);
    void handle_writable();
    bool deliver(std::byte* data, size_t len);
    bool write_out();
    bool redeliver();
    bool queue(const iovec* iov, int n, size_t skip, SharedBytes* const* shared);
    void account_copies(size_t before);
    void finish_draining();
    void finish_close(CloseCause cause);
    // Runs one of the owner's callbacks (f), then a close() it asked for.
    template <class F>
    void call_owner(F&& f) {
        ++in_callback_;
        f();
        if (--in_callback_ == 0 && close_deferred_) {
            close_deferred_ = false;
            finish_close(deferred_cause_);
        }
    }

    // Kept small: there is one per connection (docs/benchmarks.md has the byte table). fd_
    // comes first so that it fills the TimerNode base's tail padding.
    int fd_;
    Loop& loop_;
    TransportPtr transport_;
    Buffer in_;   // bytes on_data() left unconsumed
    OutputQueue out_;  // bytes the kernel refused
    uint32_t out_cap_ = UINT32_MAX;
    uint32_t pause_reading_at_ = UINT32_MAX;
    uint32_t drain_mark_ = 0;  // what the peer had taken at the last take_drain_progress()
    State state_ = State::kHandshaking;
    uint8_t in_callback_ = 0;     // owner callbacks running (nested: a handler's send)
    CloseCause deferred_cause_ = CloseCause::kLocal;
    bool read_pending_ : 1 = false;  // paused with input possibly left in the kernel
    bool shut_wr_ : 1 = false;
    bool close_deferred_ : 1 = false; // close() ran inside a callback: finish it on return
    bool output_progress_ : 1 = false;  // queued output was written since take_drain_progress()
    bool drain_marked_ : 1 = false;     // drain_mark_ was taken while output waited
};

}  // namespace epws::net
