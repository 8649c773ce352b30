// ws/server_connection.cc: one server-side WebSocket connection, from request to close.
// Layer: ws/ (the one glue file between the codecs and net::Connection on this side).
#include "ws/server_connection.h"

#include <algorithm>
#include <string_view>

#include "net/clock.h"
#include "net/log.h"
#include "net/socket.h"
#include "ws/handshake.h"
#include "ws/http/response.h"
#include "ws/server_trace.h"
#include "ws/utf8.h"

namespace epws::ws {
namespace {

std::string_view as_text(std::span<std::byte> data) {
    return {reinterpret_cast<const char*>(data.data()), data.size()};
}

std::span<const std::byte> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// A server ping carries its send time, big-endian CLOCK_MONOTONIC microseconds (the loop's
// millisecond clock is too coarse for a round trip on a LAN); read once per ping and pong.
constexpr size_t kPingPayload = 8;

}  // namespace

ServerConnection::ServerConnection(ServerContext& ctx, int fd, net::PeerLimit::Slot* peer,
                                   net::TransportPtr transport)
    : net::Connection(ctx.loop, fd, std::move(transport)), ctx_(ctx),
      reader_(Role::kServer, &ctx.config.reader), peer_slot_(peer) {}

std::string_view ServerConnection::subprotocol() const {
    if (subprotocol_ == 0) return {};
    return ctx_.config.handshake.subprotocols[subprotocol_ - 1u];
}

size_t ServerConnection::on_data(std::span<std::byte> data) {
    if (ctx_.tracer != nullptr) [[unlikely]] return on_data_traced(data);
    return consume(data);
}

// The bytes as they came, before a codec unmasks any in place.
size_t ServerConnection::on_data_traced(std::span<std::byte> data) {
    ctx_.tracer->received(*this, data);
    size_t used = consume(data);
    ctx_.tracer->kept(*this, data.size() - used);
    return used;
}

void ServerConnection::trace_sent(std::span<const std::byte> a, std::span<const std::byte> b,
                                  net::SendStatus s) {
    iovec iov[2] = {{const_cast<std::byte*>(a.data()), a.size()},
                    {const_cast<std::byte*>(b.data()), b.size()}};
    trace_sentv(iov, 2, s);
}

void ServerConnection::trace_sentv(const iovec* iov, int n, net::SendStatus s) {
    if (s != net::SendStatus::kDropped) ctx_.tracer->sent(*this, iov, n);  // dropped: never sent
}

size_t ServerConnection::consume(std::span<std::byte> data) {
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
    // RFC 9112 §9.3.2: pipelined requests are answered in order, every one. While the answers
    // already queued pass the output mark, the rest waits unparsed (net::Connection offers it
    // again once the output drains): memory stays bounded by the mark plus one response, however
    // deep the pipeline.
    while (state_ == State::kHttp && !closing() && !closed() && used < data.size() &&
           !output_over_mark()) {
        auto rest = data.subspan(used);
        size_t scanned = scanned_;
        ParseResult r = parse_request(as_text(rest), scanned, ctx_.config.http, ctx_.request);
        scanned_ = static_cast<uint32_t>(scanned);  // < max_header_bytes (64 KiB at most)
        if (r.status == ParseStatus::kNeedMore) return used;
        if (r.status == ParseStatus::kError) {
            ++ctx_.stats.bad_requests;
            reply_error(r.error);
            return data.size();
        }
        scanned_ = 0;
        // --trace-user: the identity is known now, before any byte of the answer.
        if (ctx_.tracer != nullptr) [[unlikely]] ctx_.tracer->request(*this, ctx_.request, rest);
        used += r.consumed;
        if (!handle_request()) return data.size();
    }
    if (state_ == State::kOpen && used < data.size()) {
        // The client's first frames may travel in the same segment as its request: keep them.
        used += on_frames(data.subspan(used));
    }
    return used;
}

// Answers one parsed request. False when the connection is closing after it.
bool ServerConnection::handle_request() {
    const HttpRequest& req = ctx_.request;
    if (is_upgrade_request(req)) return upgrade();
    ++ctx_.stats.http_requests;
    HttpReply reply;
    ctx_.routes.serve_http(req, reply);
    const std::string_view* conn_header = req.find("Connection");
    bool keep_alive = req.minor_version == 1 ? !(conn_header && header_has_token(*conn_header, "close"))
                                              : (conn_header && header_has_token(*conn_header, "keep-alive"));
    std::string& out = ctx_.response;
    out.clear();
    bool head_only = req.method == "HEAD";  // the GET's headers, with its Content-Length
    append_http_head(out, reply.status, reply.content_type, reply.body_size(), keep_alive,
                     reply.extra_headers);
    if (!head_only) out += reply.body;
    auto body = head_only ? std::span<const std::byte>{} : reply.shared_body.bytes();
    iovec iov[2] = {{out.data(), out.size()}, {const_cast<std::byte*>(body.data()), body.size()}};
    net::SharedBytes* owners[2] = {nullptr, reply.shared_body.get()};  // the file: by reference
    if (sendv(iov, body.empty() ? 1 : 2, false, owners) == net::SendStatus::kDropped) {
        // Never skip a response: a pipelining client would read the next answer as this one's.
        if (!closed()) close(net::CloseCause::kLocal);
        return false;
    }
    if (!keep_alive) {
        state_ = State::kDone;
        set_timeout(ctx_.config.close_timeout_ms);
        close_after_flush();
        return false;
    }
    set_timeout(ctx_.config.handshake_timeout_ms);  // the next request's deadline
    return true;
}

bool ServerConnection::upgrade() {
    const HttpRequest& req = ctx_.request;
    UpgradeRequest up = check_upgrade(req, ctx_.config.handshake);
    uint8_t route = ctx_.routes.find_websocket(req.path);
    if (up.error == HttpError::kNone && route == Routes::kNoEndpoint) up.error = HttpError::kNotFound;
    // Draining: this node takes no new WebSockets (503 with Retry-After: try another one).
    if (up.error == HttpError::kNone && ctx_.refusing_upgrades) up.error = HttpError::kServiceUnavailable;
    // RFC 7692 §5: accept the first permessage-deflate offer we can honour, or none.
    std::string& answer = ctx_.extensions_answer;
    std::string& out = ctx_.response;
    out.clear();
    if (up.error == HttpError::kNone) {
        deflate_params_ = negotiate_deflate(up.extensions, ctx_.config.deflate, answer);
        // OpenSSL could not hash the key: our failure.
        if (!append_upgrade_response(out, up.key, up.subprotocol, answer)) up.error = HttpError::kInternal;
    }
    // The endpoint decides last, so that once it accepts (and perhaps counts the connection)
    // nothing can fail before on_open().
    if (up.error == HttpError::kNone) up.error = ctx_.routes.endpoint(route).accept(*this, req);
    if (up.error != HttpError::kNone) {
        ++ctx_.stats.rejected_handshakes;
        reply_error(up.error);
        return false;
    }
    endpoint_ = route;
    const auto& offered = ctx_.config.handshake.subprotocols;
    for (size_t i = 0; i < offered.size(); ++i)
        if (up.subprotocol.data() == offered[i].data()) subprotocol_ = static_cast<uint8_t>(i + 1);
    send(as_bytes(out));
    state_ = State::kOpen;
    if (deflate_params_.enabled) {
        reader_.set_rsv1_allowed(true);  // RFC 7692 §6: RSV1 now marks a compressed message
        ++ctx_.stats.deflate.negotiated;
    }
    ++ctx_.stats.handshakes;
    ++ctx_.stats.websockets;
    if (route < kEndpointSlots) ++ctx_.stats.open_by_endpoint[route];
    set_timeout(ctx_.config.idle_timeout_ms);
    endpoint().on_open(*this);
    return state_ == State::kOpen;
}

void ServerConnection::reply_error(HttpError e) {
    std::string& out = ctx_.response;
    out.clear();
    append_http_error(out, e);
    ++ctx_.stats.refused[static_cast<size_t>(e)];
    if (net::log_enabled(net::LogLevel::kInfo)) {
        std::string status = std::to_string(http_status(e)), peer = net::peer_address(fd());
        net::log_limited(net::LogLevel::kInfo, "refused",
                         {{"reason", http_error_name(e)}, {"status", status}, {"peer", peer}});
    }
    send(as_bytes(out));
    state_ = State::kDone;
    set_timeout(ctx_.config.close_timeout_ms);
    close_after_flush();
}

struct ServerConnection::Sink final : MessageSink {
    explicit Sink(ServerConnection& c) : conn(c) {}
    bool on_message(Opcode op, std::span<std::byte> payload, bool compressed) override {
        return conn.on_message(op, payload, compressed);
    }
    bool on_control(Opcode op, std::span<std::byte> payload) override {
        return conn.on_control(op, payload);
    }
    ServerConnection& conn;
};

size_t ServerConnection::on_frames(std::span<std::byte> data) {
    if (ctx_.config.idle_timeout_ms && state_ == State::kOpen)
        set_timeout(ctx_.config.idle_timeout_ms);  // traffic: push the idle deadline out
    Sink sink(*this);
    ReadResult r = reader_.read(data, sink);
    // Each byte is consumed once (a partial header is offered again, unconsumed), so the sum is
    // exactly the frame bytes read. stats_ may have been detached during the read.
    ctx_.stats.wire_bytes_in += r.consumed;
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
    ++ctx_.stats.messages_in;
    ctx_.stats.payload_bytes_in += payload.size();
    if (stats_) {
        ++stats_->messages_in;
        stats_->compressed_bytes_in += payload.size();  // as it travelled
        if (!compressed) stats_->payload_bytes_in += payload.size();
    }
    if (compressed) return on_compressed_message(op, payload);
    endpoint().on_message(*this, op, payload);
    return !closed();
}

// RSV1 was set (only possible once permessage-deflate was agreed: the reader rejects it
// otherwise with 1002, RFC 7692 §6).
bool ServerConnection::on_compressed_message(Opcode op, std::span<std::byte> payload) {
    DeflateEngine& engine = ctx_.deflate;
    std::vector<std::byte>& plain = engine.inflate_scratch();
    // RFC 7692 §7.2.2 inflate; §8.1 / RFC 6455 §10.4: bounded by the message limit as it goes.
    ProtocolError e = engine.inflate(deflate_params_, deflate_, payload,
                                     ctx_.config.reader.max_message_bytes, plain);
    // RFC 6455 §8.1: text is UTF-8; compressed text can only be checked once inflated.
    if (e == ProtocolError::kNone && op == Opcode::kText && !is_valid_utf8(plain.data(), plain.size()))
        e = ProtocolError::kInvalidUtf8;
    if (e == ProtocolError::kNone) {
        if (stats_) stats_->payload_bytes_in += plain.size();
        endpoint().on_message(*this, op, plain);
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
    peer_close_code_ = payload.size() >= 2 ? close_payload_code(payload)
                                           : static_cast<uint16_t>(CloseCode::kNoStatus);
    ++ctx_.stats.close_received[close_code_slot(peer_close_code_)];
    if (state_ == State::kOpen) {
        // §5.5.1: echo the status code (Autobahn 7.7.x accepts the same code or 1000).
        if (payload.size() >= 2) {
            send_close(peer_close_code_, {});
        } else {
            std::byte header[kMaxFrameHeader];
            size_t n = encode_frame_header(header, Opcode::kClose, 0);
            if (send({header, n}, {}, true) != net::SendStatus::kDropped) {
                ++ctx_.stats.close_sent[close_code_slot(static_cast<uint16_t>(CloseCode::kNoStatus))];
                count_out(n, 0, 0, true);
            }
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
    stats_->ping_rtt_us = net::monotonic_us() - sent;
    stats_->ping_sent_us = 0;  // answered: a repeated pong measures nothing more
}

net::SendStatus ServerConnection::send_ping() {
    uint64_t now = net::monotonic_us();
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
    if (send({header, h}, {payload, n}, true) != net::SendStatus::kDropped) {
        ++ctx_.stats.close_sent[close_code_slot(code)];
        count_out(h, n, n, true);
    }
}

net::SendStatus ServerConnection::send_message(Opcode op, std::span<const std::byte> payload) {
    // RFC 7692 §6.1: control frames are never compressed.
    if (!is_control(op) && ctx_.deflate.should_compress(deflate_params_, payload.size()))
        return send_compressed(op, payload);
    return send_plain(op, payload);
}

net::SendStatus ServerConnection::send_plain(Opcode op, std::span<const std::byte> payload) {
    std::byte header[kMaxFrameHeader];
    size_t h = encode_frame_header(header, op, payload.size());
    return send_frame({header, h}, payload, payload.size());
}

net::SendStatus ServerConnection::send_compressed(Opcode op, std::span<const std::byte> payload) {
    if (state_ != State::kOpen) return net::SendStatus::kDropped;
    std::vector<std::byte>& body = ctx_.deflate.deflate_scratch();
    if (!ctx_.deflate.compress(deflate_params_, deflate_, payload, body)) {
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
        s = send_frame({header, h}, body, payload.size());
    }
    DeflateEngine::trim(body);
    return s;
}

net::SendStatus ServerConnection::send_frame(std::span<const std::byte> header,
                                             std::span<const std::byte> payload,
                                             size_t plain_bytes, net::SharedBytes* owner) {
    if (state_ != State::kOpen) return net::SendStatus::kDropped;
    iovec iov[2] = {{const_cast<std::byte*>(header.data()), header.size()},
                    {const_cast<std::byte*>(payload.data()), payload.size()}};
    net::SharedBytes* owners[2] = {nullptr, owner};  // the header is ours: copied if it waits
    net::SendStatus s = sendv(iov, payload.empty() ? 1 : 2, false, owners);
    if (s != net::SendStatus::kDropped) {
        bool control = is_control(static_cast<Opcode>(static_cast<uint8_t>(header[0]) & 0x0Fu));
        count_out(header.size(), payload.size(), plain_bytes, control);
    }
    return after_send(s, 1);
}

net::SendStatus ServerConnection::send_frames(const iovec* frames, int n, size_t payload_bytes,
                                              net::SharedBytes* const* owners) {
    if (state_ != State::kOpen) return net::SendStatus::kDropped;
    net::SendStatus s = sendv(frames, n, false, owners);
    if (s != net::SendStatus::kDropped) {
        size_t wire = 0;
        for (int i = 0; i < n; ++i) wire += frames[i].iov_len;
        ctx_.stats.wire_bytes_out += wire;
        ctx_.stats.payload_bytes_out += payload_bytes;
        if (stats_) {
            stats_->wire_bytes_out += wire;
            stats_->messages_out += static_cast<uint64_t>(n);
            stats_->compressed_bytes_out += payload_bytes;  // uncompressed frames: as framed
            stats_->payload_bytes_out += payload_bytes;
        }
    }
    return after_send(s, static_cast<uint32_t>(n));
}

// One frame the socket accepted (sent or queued): header_bytes, then payload_bytes as framed,
// which are plain_bytes before compression. Control frames count as wire bytes only.
void ServerConnection::count_out(size_t header_bytes, size_t payload_bytes, size_t plain_bytes,
                                 bool control) {
    ctx_.stats.wire_bytes_out += header_bytes + payload_bytes;
    if (!control) ctx_.stats.payload_bytes_out += plain_bytes;
    if (stats_ == nullptr) return;
    stats_->wire_bytes_out += header_bytes + payload_bytes;
    if (control) return;
    ++stats_->messages_out;
    stats_->compressed_bytes_out += payload_bytes;
    stats_->payload_bytes_out += plain_bytes;
}

net::SendStatus ServerConnection::after_send(net::SendStatus s, uint32_t messages) {
    if (s != net::SendStatus::kDropped) ctx_.stats.messages_out += messages;
    // Over the cap: either this frame was refused (kDropped), or it was queued whole but
    // left more than the cap waiting (one large message to a peer that does not read).
    // Either way the peer is closed with 1008; the close frame goes after any queued frame,
    // so the stream stays well formed, and the close timeout ends it if it never reads.
    bool over = s == net::SendStatus::kDropped ||
                (s == net::SendStatus::kQueued && queued_bytes() > ctx_.config.max_output_bytes);
    if (over && !closed()) {
        ++ctx_.stats.closed_output_overflow;
        if (net::log_enabled(net::LogLevel::kWarn)) {
            std::string queued = std::to_string(queued_bytes()), peer = net::peer_address(fd());
            net::log_limited(net::LogLevel::kWarn, "cut_output_overflow",
                             {{"queued_bytes", queued}, {"peer", peer}, {"code", "1008"}});
        }
        fail(ProtocolError::kOutputOverflow);
    }
    return s;
}

void ServerConnection::close_websocket(CloseCode code, std::string_view reason) {
    if (state_ != State::kOpen) return;
    send_close(static_cast<uint16_t>(code), reason);
    state_ = State::kClosing;  // wait for the peer's close frame
    set_timeout(ctx_.config.close_timeout_ms);
}

void ServerConnection::fail(ProtocolError e) {
    if (e != ProtocolError::kOutputOverflow && e != ProtocolError::kTimeout &&
        e != ProtocolError::kDeflateFailed)
        ++ctx_.stats.protocol_errors;
    if (state_ == State::kOpen) send_close(static_cast<uint16_t>(close_code(e)), close_reason(e));
    finish();
}

// The close handshake is over on our side: flush, FIN, wait for the peer's FIN or timeout.
void ServerConnection::finish() {
    state_ = State::kDone;
    set_timeout(ctx_.config.close_timeout_ms);
    close_after_flush();
}

void ServerConnection::on_eof() {
    // The peer half-closed without a close handshake (or before finishing one).
    close(net::CloseCause::kPeerEof);
}

void ServerConnection::on_drain() {
    if (state_ == State::kOpen) endpoint().on_drain(*this);
}

// The deadline this state set (the one that just passed, when nothing drains).
uint32_t ServerConnection::deadline_ms() const {
    switch (state_) {
    case State::kHttp: return ctx_.config.handshake_timeout_ms;
    case State::kOpen: return ctx_.config.idle_timeout_ms;
    case State::kClosing:
    case State::kDone: return ctx_.config.close_timeout_ms;
    }
    return ctx_.config.close_timeout_ms;
}

void ServerConnection::on_timeout() {
    // A deadline passing while our output drains is judged by the drain: bytes the kernel took
    // are activity, whichever timeout this was (a large file read slowly, an echo read slowly
    // while reading pauses and the peer's pings wait unread). The peer is cut only when it has
    // taken nothing for a whole send timeout.
    if (ctx_.config.send_timeout_ms != 0) {
        Drain d = take_drain_progress();
        if (d.first) {
            // One more period, as long as the deadline that passed, to take anything at all.
            uint32_t period = deadline_ms();
            set_timeout(period ? std::min(ctx_.config.send_timeout_ms, period) : ctx_.config.send_timeout_ms);
            return;
        }
        if (d.pending) {
            if (d.progressed) {
                set_timeout(ctx_.config.send_timeout_ms);
                return;
            }
            ++ctx_.stats.send_timeouts;
            close(net::CloseCause::kTimeout);
            return;
        }
    }
    switch (state_) {
    case State::kHttp:
        // Slowloris (in the TLS handshake or the request head) or an idle keep-alive one.
        ++(handshaking() ? ctx_.stats.tls_handshake_timeouts : ctx_.stats.handshake_timeouts);
        close(net::CloseCause::kTimeout);
        return;
    case State::kOpen:
        ++ctx_.stats.idle_timeouts;
        close_websocket(CloseCode::kGoingAway, "idle timeout");
        return;
    case State::kClosing:
    case State::kDone:
        ++ctx_.stats.close_timeouts;
        close(net::CloseCause::kTimeout);
        return;
    }
}

void ServerConnection::on_over_budget() {
    // The process's output budget is spent and this peer holds the most of it: it is reset
    // (what it has not read is what we want back), and counted.
    ++ctx_.stats.closed_over_budget;
    if (net::log_enabled(net::LogLevel::kWarn)) {
        std::string queued = std::to_string(queued_bytes()), peer = net::peer_address(fd());
        net::log_limited(net::LogLevel::kWarn, "cut_over_budget", {{"queued_bytes", queued}, {"peer", peer}});
    }
    close(net::CloseCause::kOverBudget);
}

void ServerConnection::on_close(net::CloseCause cause) {
    if (ctx_.tracer != nullptr) [[unlikely]] ctx_.tracer->closed(*this, cause);
    ++ctx_.stats.closes[static_cast<size_t>(cause)];
    if (endpoint_ != Routes::kNoEndpoint && net::log_enabled(net::LogLevel::kDebug)) {
        std::string code = std::to_string(peer_close_code_);
        net::log_limited(net::LogLevel::kDebug, "close",
                         {{"endpoint", ctx_.routes.websocket_path(endpoint_)},
                          {"cause", net::close_cause_name(cause)}, {"peer_code", code}});
    }
    if (cause == net::CloseCause::kHandshakeFailed) ++ctx_.stats.tls_handshake_failures;
    ctx_.deflate.release(deflate_);  // dedicated zlib streams die with the connection
    if (endpoint_ != Routes::kNoEndpoint) {
        --ctx_.stats.websockets;
        if (endpoint_ < kEndpointSlots) --ctx_.stats.open_by_endpoint[endpoint_];
        endpoint().on_close(*this, peer_close_code_);
    }
    ctx_.connection_closed(peer_slot_);
}

}  // namespace epws::ws
