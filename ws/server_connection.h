// ws/server_connection.h: the glue between one net::Connection and the ws/ codecs, server
// side: HTTP request -> upgrade -> frames -> close handshake. Layer: ws/.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "net/connection.h"
#include "net/peer_limit.h"
#include "ws/connection_stats.h"
#include "ws/deflate_engine.h"
#include "ws/deflate_params.h"
#include "ws/error.h"
#include "ws/frame.h"
#include "ws/message_reader.h"
#include "ws/server_context.h"

namespace epws::ws {

// Loop thread only. Owned by the loop (created in Server::on_accept); uses its loop's
// ServerContext, which outlives it.
class ServerConnection final : public net::Connection {
public:
    // peer: this connection's slot in the per-address count, given back on close (may be null).
    ServerConnection(ServerContext& ctx, int fd, net::PeerLimit::Slot* peer = nullptr,
                     net::TransportPtr transport = net::PlainTransport::make());

    // Sends one unfragmented message (text payload must be valid UTF-8; the caller's job),
    // compressed when permessage-deflate was agreed and it reaches the threshold (control
    // frames never are, RFC 7692 §6.1). A peer over its output cap is closed with 1008 and
    // counted: the frame is then either refused (kDropped) or, if it was queued whole,
    // followed by the close frame. A zlib failure closes with 1011 (kDropped).
    net::SendStatus send_message(Opcode op, std::span<const std::byte> payload);
    // Sends a frame whose header the caller encoded (unmasked): a message framed once for many
    // recipients. plain_bytes is the payload's size before compression (for the counters; the
    // payload's own size when it is not compressed). owner, if given, keeps the payload alive:
    // what cannot be sent at once is queued by reference. Same outcomes as send_message.
    net::SendStatus send_frame(std::span<const std::byte> header, std::span<const std::byte> payload,
                               size_t plain_bytes, net::SharedBytes* owner = nullptr);
    // Sends n complete uncompressed frames (each iovec one whole frame, n <= IOV_MAX) in one
    // write: a batch that many connections share goes to each without a copy, and what waits is
    // queued by reference to owners[i] (may be null: copied). payload_bytes is the frames'
    // payloads added up (for the counters). Same outcomes as send_message.
    net::SendStatus send_frames(const iovec* frames, int n, size_t payload_bytes,
                                net::SharedBytes* const* owners = nullptr);
    // Starts the close handshake (RFC 6455 §7.1.2): sends close(code, reason), waits up to
    // the close timeout for the peer's close, then ends the TCP connection.
    void close_websocket(CloseCode code, std::string_view reason);
    bool is_open() const { return state_ == State::kOpen; }

    // What permessage-deflate parameters this connection agreed (enabled == false: none).
    const DeflateParams& deflate_params() const { return deflate_params_; }
    // The subprotocol agreed at the upgrade (RFC 6455 §4.2.2), empty for none.
    std::string_view subprotocol() const;
    ServerContext& context() const { return ctx_; }

    // Counts this connection's traffic into `stats` from now on (null: stop counting, the
    // default). Not owned: the caller keeps it alive until it detaches it or on_close() returns
    // (the endpoint's on_close is the last call that may still count).
    void set_stats(ConnectionStats* stats) { stats_ = stats; }
    // Sends a ping whose payload is the moment it leaves (8 bytes, CLOCK_MONOTONIC microseconds,
    // big-endian). With stats attached, the pong that echoes it (RFC 6455 §5.5.3) records the
    // round trip in stats->ping_rtt_us. Same outcomes as send_message.
    net::SendStatus send_ping();

    // Every byte this connection writes goes through these two, which hide net::Connection's,
    // so that a trace (ServerContext::tracer) sees it as handed to the socket.
    net::SendStatus send(std::span<const std::byte> a, std::span<const std::byte> b = {},
                         bool force = false) {
        net::SendStatus s = net::Connection::send(a, b, force);
        if (ctx_.tracer != nullptr) [[unlikely]] trace_sent(a, b, s);
        return s;
    }
    net::SendStatus sendv(const iovec* iov, int n, bool force = false,
                          net::SharedBytes* const* shared = nullptr) {
        net::SendStatus s = net::Connection::sendv(iov, n, force, shared);
        if (ctx_.tracer != nullptr) [[unlikely]] trace_sentv(iov, n, s);
        return s;
    }

    // One word for the endpoint's own use (an index into its tables); 0 until set.
    uint32_t tag() const { return tag_; }
    void set_tag(uint32_t tag) { tag_ = tag; }

private:
    enum class State : uint8_t { kHttp, kOpen, kClosing, kDone };

    size_t on_data(std::span<std::byte> data) override;
    size_t consume(std::span<std::byte> data);
    size_t on_data_traced(std::span<std::byte> data);
    void trace_sent(std::span<const std::byte> a, std::span<const std::byte> b, net::SendStatus s);
    void trace_sentv(const iovec* iov, int n, net::SendStatus s);
    void on_eof() override;
    void on_timeout() override;
    uint32_t deadline_ms() const;
    void on_handshake_done() override { ++ctx_.stats.tls_handshakes; }
    void on_drain() override;
    void on_close(net::CloseCause cause) override;
    void on_over_budget() override;
    // The reader's MessageSink, made on the stack for each read (so a connection carries no
    // second vtable pointer); it forwards to these two.
    struct Sink;
    bool on_message(Opcode op, std::span<std::byte> payload, bool compressed);
    bool on_control(Opcode op, std::span<std::byte> payload);

    Endpoint& endpoint() const { return ctx_.routes.endpoint(endpoint_); }
    size_t on_http_data(std::span<std::byte> data);
    bool handle_request();
    bool upgrade();
    void reply_error(HttpError e);
    size_t on_frames(std::span<std::byte> data);
    bool on_compressed_message(Opcode op, std::span<std::byte> payload);
    net::SendStatus send_compressed(Opcode op, std::span<const std::byte> payload);
    net::SendStatus send_plain(Opcode op, std::span<const std::byte> payload);
    net::SendStatus after_send(net::SendStatus s, uint32_t messages);
    void count_out(size_t header_bytes, size_t payload_bytes, size_t plain_bytes, bool control);
    void on_pong(std::span<const std::byte> payload);
    void send_close(uint16_t code, std::string_view reason);
    void fail(ProtocolError e);
    void finish();

    ServerContext& ctx_;
    MessageReader reader_;
    ConnectionStats* stats_ = nullptr;  // not owned; null: nothing is counted per connection
    // Dedicated-mode zlib streams, created on the first message that needs one (never in shared
    // or off mode), freed on close: an idle connection pays one null pointer.
    std::unique_ptr<DeflateStreams> deflate_;
    net::PeerLimit::Slot* peer_slot_;  // our count in the per-address cap
    uint32_t scanned_ = 0;        // how far the request-head search got (slowloris stays O(n))
    uint32_t tag_ = 0;
    // The next 8 bytes share one word (ordered for no padding).
    DeflateParams deflate_params_;  // 3 bytes
    State state_ = State::kHttp;
    uint16_t peer_close_code_ = static_cast<uint16_t>(CloseCode::kAbnormal);
    uint8_t endpoint_ = Routes::kNoEndpoint;  // index in ctx_.routes, once upgraded
    uint8_t subprotocol_ = 0;                 // 1 + index in config.handshake.subprotocols; 0 none
};

}  // namespace epws::ws
