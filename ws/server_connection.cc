// ws/server_connection.cc: one server-side WebSocket connection, from request to close.
// Layer: ws/ (the one glue file between the codecs and net::Connection on this side).
#include "ws/server_connection.h"

#include <time.h>

#include <string_view>

#include "ws/handshake.h"
#include "ws/server.h"
#include "ws/utf8.h"

namespace epws::ws {
namespace {

std::string_view as_text(std::span<std::byte> data) {
    return {reinterpret_cast<const char*>(data.data()), data.size()};
}

std::span<const std::byte> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Microseconds on CLOCK_MONOTONIC: the loop's millisecond clock is too coarse for a round trip
// on a LAN. Read once per ping and once per pong, never per message.
uint64_t monotonic_us() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

constexpr size_t kPingPayload = 8;  // a server ping carries its send time, big-endian

}  // namespace

ServerConnection::ServerConnection(Server& server, int fd)
    : net::Connection(server.loop(), fd), server_(server),
      reader_(Role::kServer, &server.config().reader) {}

size_t ServerConnection::on_data(std::span<std::byte> data) {
    switch (state_) {
    case State::kHttp:
        return on_http_data(data);
    case State::kOpen:
    case State::kClosing:
        return on_frames(data);
    case State::kDone:
        break;
    }
    return data.size();  // after the close handshake, input is discarded
}

// Parses request heads until the data runs out, the connection upgrades, or it fails.
size_t ServerConnection::on_http_data(std::span<std::byte> data) {
    size_t used = 0;
    while (state_ == State::kHttp && !closing() && !closed() && used < data.size()) {
        auto rest = data.subspan(used);
        size_t scanned = scanned_;
        ParseResult r = parse_request(as_text(rest), scanned, server_.config().http,
                                      server_.request_);
        scanned_ = static_cast<uint32_t>(scanned);  // < max_header_bytes (64 KiB at most)
        if (r.status == ParseStatus::kNeedMore) return used;
        if (r.status == ParseStatus::kError) {
            ++server_.stats_.bad_requests;
            reply_error(r.error);
            return data.size();
        }
        scanned_ = 0;
        used += r.consumed;
        if (!handle_request(r.consumed)) return data.size();
    }
    if (state_ == State::kOpen && used < data.size()) {
        // The client's first frames may travel in the same segment as its request: keep them.
        used += on_frames(data.subspan(used));
    }
    return used;
}

// Answers one parsed request. False when the connection is closing after it.
bool ServerConnection::handle_request(size_t) {
    const HttpRequest& req = server_.request_;
    if (is_upgrade_request(req)) return upgrade();
    ++server_.stats_.http_requests;
    HttpReply reply;
    server_.app_.on_http(req, reply);
    const std::string_view* conn_header = req.find("Connection");
    bool keep_alive = req.minor_version == 1 ? !(conn_header && header_has_token(*conn_header, "close"))
                                              : (conn_header && header_has_token(*conn_header, "keep-alive"));
    std::string& out = server_.response_;
    out.clear();
    append_http_response(out, reply.status, reply.content_type, reply.body, keep_alive,
                         reply.extra_headers);
    if (req.method == "HEAD") out.resize(out.size() - reply.body.size());  // headers only
    send(as_bytes(out));
    if (!keep_alive) {
        state_ = State::kDone;
        set_timeout(server_.config().close_timeout_ms);
        close_after_flush();
        return false;
    }
    set_timeout(server_.config().handshake_timeout_ms);  // the next request's deadline
    return true;
}

bool ServerConnection::upgrade() {
    const HttpRequest& req = server_.request_;
    UpgradeRequest up = check_upgrade(req, server_.config().handshake);
    // RFC 7692 §5: accept the first permessage-deflate offer we can honour, or none.
    std::string& answer = server_.extensions_answer_;
    std::string& out = server_.response_;
    out.clear();
    if (up.error == HttpError::kNone) {
        deflate_params_ = negotiate_deflate(up.extensions, server_.config().deflate, answer);
        // OpenSSL could not hash the key: our failure.
        if (!append_upgrade_response(out, up.key, up.subprotocol, answer)) up.error = HttpError::kInternal;
    }
    // The application decides last, so that once it accepts (and perhaps counts the
    // connection) nothing can fail before on_open().
    if (up.error == HttpError::kNone) up.error = server_.app_.check_websocket(req);
    if (up.error != HttpError::kNone) {
        ++server_.stats_.rejected_handshakes;
        reply_error(up.error);
        return false;
    }
    send(as_bytes(out));
    state_ = State::kOpen;
    upgraded_ = true;
    if (deflate_params_.enabled) {
        reader_.set_rsv1_allowed(true);  // RFC 7692 §6: RSV1 now marks a compressed message
        ++server_.stats_.deflate.negotiated;
    }
    ++server_.stats_.handshakes;
    ++server_.stats_.websockets;
    set_timeout(server_.config().idle_timeout_ms);
    server_.app_.on_open(*this, req);
    return state_ == State::kOpen;
}

void ServerConnection::reply_error(HttpError e) {
    std::string& out = server_.response_;
    out.clear();
    append_http_error(out, e);
    send(as_bytes(out));
    state_ = State::kDone;
    set_timeout(server_.config().close_timeout_ms);
    close_after_flush();
}

size_t ServerConnection::on_frames(std::span<std::byte> data) {
    if (server_.config().idle_timeout_ms && state_ == State::kOpen)
        set_timeout(server_.config().idle_timeout_ms);  // traffic: push the idle deadline out
    ReadResult r = reader_.read(data, *this);
    // Each byte is consumed once (a partial header is offered again, unconsumed), so the sum is
    // exactly the frame bytes read. stats_ may have been detached during the read.
    if (stats_) stats_->wire_bytes_in += r.consumed;
    if (r.error != ProtocolError::kNone) {
        fail(r.error);
        return data.size();
    }
    if (state_ == State::kDone) return data.size();
    return r.consumed;
}

bool ServerConnection::on_message(Opcode op, std::span<std::byte> payload, bool compressed) {
    // RFC 6455 §5.5.1: after sending a close frame, an endpoint sends no more data; messages
    // that were already in flight from the peer are dropped.
    if (state_ != State::kOpen) return true;
    ++server_.stats_.messages_in;
    if (stats_) {
        ++stats_->messages_in;
        stats_->compressed_bytes_in += payload.size();  // as it travelled
        if (!compressed) stats_->payload_bytes_in += payload.size();
    }
    if (compressed) return on_compressed_message(op, payload);
    server_.app_.on_message(*this, op, payload);
    return !closed();
}

// RSV1 was set (only possible once permessage-deflate was agreed: the reader rejects it
// otherwise with 1002, RFC 7692 §6).
bool ServerConnection::on_compressed_message(Opcode op, std::span<std::byte> payload) {
    DeflateEngine& engine = server_.deflate_;
    std::vector<std::byte>& plain = engine.inflate_scratch();
    // RFC 7692 §7.2.2 inflate; §8.1 / RFC 6455 §10.4: bounded by the message limit as it goes.
    ProtocolError e = engine.inflate(deflate_params_, deflate_, payload,
                                     server_.config().reader.max_message_bytes, plain);
    // RFC 6455 §8.1: text is UTF-8; compressed text can only be checked once inflated.
    if (e == ProtocolError::kNone && op == Opcode::kText && !is_valid_utf8(plain.data(), plain.size()))
        e = ProtocolError::kInvalidUtf8;
    if (e == ProtocolError::kNone) {
        if (stats_) stats_->payload_bytes_in += plain.size();
        server_.app_.on_message(*this, op, plain);
    }
    DeflateEngine::trim(plain);  // nothing views it any more
    if (e != ProtocolError::kNone) {
        fail(e);
        return false;
    }
    return !closed();
}

bool ServerConnection::on_control(Opcode op, std::span<std::byte> payload) {
    if (op == Opcode::kPing) {
        // RFC 6455 §5.5.2: answer with a pong carrying the same application data.
        if (state_ == State::kOpen) send_message(Opcode::kPong, payload);
        return !closed();
    }
    if (op == Opcode::kPong) {
        on_pong(payload);
        return true;
    }
    // Close. The reader has checked the payload (§7.4: code and UTF-8 reason).
    peer_close_code_ = payload.size() >= 2 ? close_payload_code(payload) : 1005;
    if (state_ == State::kOpen) {
        // §5.5.1: echo the status code (Autobahn 7.7.x accepts the same code or 1000).
        if (payload.size() >= 2) {
            send_close(peer_close_code_, {});
        } else {
            std::byte header[kMaxFrameHeader];
            size_t n = encode_frame_header(header, Opcode::kClose, 0);
            if (send({header, n}, {}, true) != net::SendStatus::kDropped)
                count_out({header, n}, 0, 0);
        }
    }
    finish();
    return false;  // nothing after a close frame is read (§5.5.1)
}

// §5.5.3: a pong echoes its ping's payload; one that echoes our outstanding ping ends the
// round trip. Any other pong (unsolicited, a heartbeat, or an older ping's) measures nothing.
void ServerConnection::on_pong(std::span<const std::byte> payload) {
    if (stats_ == nullptr || payload.size() != kPingPayload) return;
    uint64_t sent = stats_->ping_sent_us;
    if (sent == 0 || get_be(payload.data(), kPingPayload) != sent) return;
    stats_->ping_rtt_us = monotonic_us() - sent;
    stats_->ping_sent_us = 0;  // answered: a repeated pong measures nothing more
}

net::SendStatus ServerConnection::send_ping() {
    uint64_t now = monotonic_us();
    std::byte payload[kPingPayload];
    put_be(payload, now, kPingPayload);
    net::SendStatus s = send_message(Opcode::kPing, payload);
    // A newer ping replaces an unanswered one: a peer may answer only the latest (§5.5.3).
    if (stats_ && s != net::SendStatus::kDropped) stats_->ping_sent_us = now;
    return s;
}

void ServerConnection::send_close(uint16_t code, std::string_view reason) {
    std::byte payload[kMaxControlPayload];
    size_t n = encode_close_payload(payload, code, reason);
    std::byte header[kMaxFrameHeader];
    size_t h = encode_frame_header(header, Opcode::kClose, n);
    // force: a close frame still goes out when the output is over its cap.
    if (send({header, h}, {payload, n}, true) != net::SendStatus::kDropped)
        count_out({header, h}, n, n);
}

net::SendStatus ServerConnection::send_message(Opcode op, std::span<const std::byte> payload) {
    // RFC 7692 §6.1: control frames are never compressed.
    if (!is_control(op) && server_.deflate_.should_compress(deflate_params_, payload.size()))
        return send_compressed(op, payload);
    return send_plain(op, payload);
}

net::SendStatus ServerConnection::send_plain(Opcode op, std::span<const std::byte> payload) {
    std::byte header[kMaxFrameHeader];
    size_t h = encode_frame_header(header, op, payload.size());
    return send_frame({header, h}, payload);
}

net::SendStatus ServerConnection::send_compressed(Opcode op, std::span<const std::byte> payload) {
    if (state_ != State::kOpen) return net::SendStatus::kDropped;
    std::vector<std::byte>& body = server_.deflate_.deflate_scratch();
    if (!server_.deflate_.compress(deflate_params_, deflate_, payload, body)) {
        fail(ProtocolError::kDeflateFailed);
        return net::SendStatus::kDropped;
    }
    net::SendStatus s;
    if (DeflateEngine::output_is_shareable(deflate_params_) && body.size() >= payload.size()) {
        // The peer keeps no context from us, so the plain message is just as valid and smaller.
        s = send_plain(op, payload);
    } else {
        // RFC 7692 §6: RSV1 on the first frame (our only one) marks the message compressed.
        std::byte header[kMaxFrameHeader];
        size_t h = encode_frame_header(header, op, body.size(), true, true);
        // send() copies what it cannot write now.
        s = send_frame_of({header, h}, body, payload.size());
    }
    DeflateEngine::trim(body);
    return s;
}

net::SendStatus ServerConnection::send_frame(std::span<const std::byte> header,
                                             std::span<const std::byte> payload) {
    return send_frame_of(header, payload, payload.size());
}

net::SendStatus ServerConnection::send_frame_of(std::span<const std::byte> header,
                                                std::span<const std::byte> payload,
                                                size_t plain_bytes) {
    if (state_ != State::kOpen) return net::SendStatus::kDropped;
    net::SendStatus s = send(header, payload);
    if (s != net::SendStatus::kDropped) count_out(header, payload.size(), plain_bytes);
    return after_send(s, 1);
}

net::SendStatus ServerConnection::send_frames(const iovec* frames, int n) {
    if (state_ != State::kOpen) return net::SendStatus::kDropped;
    net::SendStatus s = sendv(frames, n);
    if (stats_ && s != net::SendStatus::kDropped) {
        // Each piece is one whole uncompressed frame: its header says where the payload starts.
        for (int i = 0; i < n; ++i) {
            std::span<const std::byte> frame(static_cast<const std::byte*>(frames[i].iov_base),
                                             frames[i].iov_len);
            size_t h = header_size_from(frame[1]);
            count_out(frame.first(h), frame.size() - h, frame.size() - h);
        }
    }
    return after_send(s, static_cast<uint32_t>(n));
}

// One frame the socket accepted (sent or queued): header, then payload_bytes as framed, which
// are plain_bytes before compression.
void ServerConnection::count_out(std::span<const std::byte> header, size_t payload_bytes,
                                 size_t plain_bytes) {
    if (stats_ == nullptr) return;
    stats_->wire_bytes_out += header.size() + payload_bytes;
    if (is_control(static_cast<Opcode>(static_cast<uint8_t>(header[0]) & 0x0Fu))) return;
    ++stats_->messages_out;
    stats_->compressed_bytes_out += payload_bytes;
    stats_->payload_bytes_out += plain_bytes;
}

net::SendStatus ServerConnection::after_send(net::SendStatus s, uint32_t messages) {
    if (s != net::SendStatus::kDropped) server_.stats_.messages_out += messages;
    // Over the cap: either this frame was refused (kDropped), or it was queued whole but
    // left more than the cap waiting (one large message to a peer that does not read).
    // Either way the peer is closed with 1008; the close frame goes after any queued frame,
    // so the stream stays well formed, and the close timeout ends it if it never reads.
    bool over = s == net::SendStatus::kDropped ||
                (s == net::SendStatus::kQueued && queued_bytes() > server_.config().max_output_bytes);
    if (over && !closed()) {
        ++server_.stats_.closed_output_overflow;
        fail(ProtocolError::kOutputOverflow);
    }
    return s;
}

void ServerConnection::close_websocket(uint16_t code, std::string_view reason) {
    if (state_ != State::kOpen) return;
    send_close(code, reason);
    state_ = State::kClosing;  // wait for the peer's close frame
    set_timeout(server_.config().close_timeout_ms);
}

void ServerConnection::fail(ProtocolError e) {
    if (e != ProtocolError::kOutputOverflow && e != ProtocolError::kTimeout &&
        e != ProtocolError::kDeflateFailed)
        ++server_.stats_.protocol_errors;
    if (state_ == State::kOpen) send_close(static_cast<uint16_t>(close_code(e)), close_reason(e));
    finish();
}

// The close handshake is over on our side: flush, FIN, wait for the peer's FIN or timeout.
void ServerConnection::finish() {
    state_ = State::kDone;
    set_timeout(server_.config().close_timeout_ms);
    close_after_flush();
}

void ServerConnection::on_eof() {
    // The peer half-closed without a close handshake (or before finishing one).
    close();
}

void ServerConnection::on_drain() {
    if (state_ == State::kOpen) server_.app_.on_drain(*this);
}

void ServerConnection::on_timeout() {
    switch (state_) {
    case State::kHttp:
        ++server_.stats_.handshake_timeouts;  // slowloris or an idle keep-alive connection
        close(net::CloseCause::kTimeout);
        return;
    case State::kOpen:
        ++server_.stats_.idle_timeouts;
        close_websocket(1001, "idle timeout");
        return;
    case State::kClosing:
    case State::kDone:
        ++server_.stats_.close_timeouts;
        close(net::CloseCause::kTimeout);
        return;
    }
}

void ServerConnection::on_close(net::CloseCause) {
    server_.deflate_.release(deflate_);  // dedicated zlib streams die with the connection
    if (upgraded_) {
        --server_.stats_.websockets;
        server_.app_.on_close(*this, peer_close_code_);
    }
    server_.connection_closed(peer_slot_);
}

}  // namespace epws::ws
