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
#include "ws/frame.h"
#include "ws/message_reader.h"

namespace epws::ws {

class Server;

// Loop thread only. Owned by the loop (created in Server::on_accept).
class ServerConnection final : public net::Connection, private MessageSink {
public:
    ServerConnection(Server& server, int fd);

    // Sends one unfragmented message (text payload must be valid UTF-8; the caller's job),
    // compressed when permessage-deflate was agreed and it reaches the threshold (control
    // frames never are, RFC 7692 §6.1). A peer over its output cap is closed with 1008 and
    // counted: the frame is then either refused (kDropped) or, if it was queued whole,
    // followed by the close frame. A zlib failure closes with 1011 (kDropped).
    net::SendStatus send_message(Opcode op, std::span<const std::byte> payload);
    // Sends a frame whose header the caller encoded (encode_frame_header, unmasked): a
    // broadcast encodes it once for every recipient. Same outcomes as send_message.
    net::SendStatus send_frame(std::span<const std::byte> header, std::span<const std::byte> payload);
    // Sends n complete frames (each iovec one whole frame, n <= IOV_MAX) in one write: a batch
    // that many connections share goes to each without a copy. Same outcomes as send_frame.
    net::SendStatus send_frames(const iovec* frames, int n);
    // Starts the close handshake (RFC 6455 §7.1.2): sends close(code, reason), waits up to
    // the close timeout for the peer's close, then ends the TCP connection.
    void close_websocket(uint16_t code, std::string_view reason);
    bool is_open() const { return state_ == State::kOpen; }

    // What permessage-deflate parameters this connection agreed (enabled == false: none).
    const DeflateParams& deflate_params() const { return deflate_params_; }

    // Counts this connection's traffic into `stats` from now on (null: stop counting, the
    // default). Not owned: the caller keeps it alive until it detaches it or on_close() returns
    // (the application's on_close is the last call that may still count).
    void set_stats(ConnectionStats* stats) { stats_ = stats; }
    // Sends a ping whose payload is the moment it leaves (8 bytes, CLOCK_MONOTONIC microseconds,
    // big-endian). With stats attached, the pong that echoes it (RFC 6455 §5.5.3) records the
    // round trip in stats->ping_rtt_us. Same outcomes as send_message.
    net::SendStatus send_ping();

    // One word for the application's own use (an index into its tables); 0 until set.
    uint32_t app_tag() const { return app_tag_; }
    void set_app_tag(uint32_t tag) { app_tag_ = tag; }

private:
    friend class Broadcast;
    friend class Server;  // sets peer_slot_ at accept
    enum class State : uint8_t { kHttp, kOpen, kClosing, kDone };

    size_t on_data(std::span<std::byte> data) override;
    void on_eof() override;
    void on_timeout() override;
    void on_drain() override;
    void on_close(net::CloseCause cause) override;
    bool on_message(Opcode op, std::span<std::byte> payload, bool compressed) override;
    bool on_control(Opcode op, std::span<std::byte> payload) override;

    size_t on_http_data(std::span<std::byte> data);
    bool handle_request(size_t head_bytes);
    bool upgrade();
    void reply_error(HttpError e);
    size_t on_frames(std::span<std::byte> data);
    bool on_compressed_message(Opcode op, std::span<std::byte> payload);
    net::SendStatus send_compressed(Opcode op, std::span<const std::byte> payload);
    net::SendStatus send_plain(Opcode op, std::span<const std::byte> payload);
    net::SendStatus after_send(net::SendStatus s, uint32_t messages);
    // send_frame for a payload that is plain_bytes long before compression (for the counters).
    net::SendStatus send_frame_of(std::span<const std::byte> header,
                                  std::span<const std::byte> payload, size_t plain_bytes);
    void count_out(std::span<const std::byte> header, size_t payload_bytes, size_t plain_bytes);
    void on_pong(std::span<const std::byte> payload);
    void send_close(uint16_t code, std::string_view reason);
    void fail(ProtocolError e);
    void finish();

    Server& server_;
    MessageReader reader_;
    ConnectionStats* stats_ = nullptr;  // not owned; null: nothing is counted per connection
    // Dedicated-mode zlib streams, created on the first message that needs one (never in shared
    // or off mode), freed on close: an idle connection pays one null pointer.
    std::unique_ptr<DeflateStreams> deflate_;
    net::PeerLimit::Slot* peer_slot_ = nullptr;  // our count in Server's per-address cap
    uint32_t scanned_ = 0;        // how far the request-head search got (slowloris stays O(n))
    uint32_t app_tag_ = 0;
    DeflateParams deflate_params_;  // 3 bytes: fits beside the fields below
    uint16_t peer_close_code_ = 1006;
    State state_ = State::kHttp;
    bool upgraded_ = false;
};

}  // namespace epws::ws
