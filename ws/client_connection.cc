// ws/client_connection.cc: one client-side WebSocket connection, from request to close.
// Layer: ws/ (the one glue file between the codecs and net::Connection on the client side).
#include "ws/client_connection.h"

#include <openssl/rand.h>

#include <cstring>
#include <string>

namespace epws::ws {
namespace {

// Masking goes through a stack buffer of this size: no allocation, few send() calls.
constexpr size_t kMaskChunk = 4096;

std::string_view as_text(std::span<std::byte> data) {
    return {reinterpret_cast<const char*>(data.data()), data.size()};
}

// One response parse target per thread, reused by every connection (capacity kept), as the
// server shares its request object: connections on one loop never parse at the same time.
HttpResponse& shared_response() {
    thread_local HttpResponse response;
    return response;
}

}  // namespace

ClientConnection::ClientConnection(net::Loop& loop, int fd, const ClientConfig& config,
                                   ClientHandler& handler)
    : net::Connection(loop, fd), config_(config), handler_(handler),
      reader_(Role::kClient, &config.reader) {
    // Any non-zero seed will do for xorshift; fall back to the address if OpenSSL fails.
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&rng_), sizeof(rng_)) != 1 || rng_ == 0)
        rng_ = reinterpret_cast<uintptr_t>(this) | 1;
}

bool ClientConnection::start() {
    std::string key = make_client_key();
    if (key.size() != sizeof(key_)) {
        fail(ClientFailure::kHandshake);
        return false;
    }
    std::memcpy(key_, key.data(), sizeof(key_));
    std::string request;
    append_client_request(request, config_.host, config_.path, key);
    // Before the TCP handshake completes the kernel refuses the bytes (EAGAIN); they wait in
    // the output buffer and leave on the first EPOLLOUT.
    auto sent = send({reinterpret_cast<const std::byte*>(request.data()), request.size()});
    if (sent == net::SendStatus::kDropped) {
        fail(ClientFailure::kReset);
        return false;
    }
    set_timeout(config_.handshake_timeout_ms);
    return true;
}

size_t ClientConnection::on_data(std::span<std::byte> data) {
    switch (state_) {
    case State::kHandshake:
        return on_response(data);
    case State::kOpen:
    case State::kClosing:
        return on_frames(data);
    case State::kDone:
        break;
    }
    return data.size();  // after the close handshake, input is discarded
}

size_t ClientConnection::on_response(std::span<std::byte> data) {
    HttpResponse& resp = shared_response();
    ResponseParseResult r = parse_response(as_text(data), scanned_, config_.http, resp);
    if (r.status == ParseStatus::kNeedMore) return 0;
    if (r.status == ParseStatus::kError) {
        response_error_ = r.error;
        fail(ClientFailure::kHandshake);
        return data.size();
    }
    // RFC 6455 §4.1: the client MUST fail the connection unless the 101 checks out.
    response_error_ = check_upgrade_response(resp, {key_, sizeof(key_)}, {}, false);
    if (response_error_ != ResponseError::kNone) {
        fail(ClientFailure::kHandshake);
        return data.size();
    }
    state_ = State::kOpen;
    set_timeout(0);
    handler_.on_open(*this);
    if (state_ != State::kOpen && state_ != State::kClosing) return data.size();
    // The server's first frames may travel in the same segment as its 101: keep them.
    return r.consumed + on_frames(data.subspan(r.consumed));
}

size_t ClientConnection::on_frames(std::span<std::byte> data) {
    ReadResult r = reader_.read(data, *this);
    if (r.error != ProtocolError::kNone) {
        protocol_error_ = r.error;
        if (state_ == State::kOpen) {
            std::byte payload[kMaxControlPayload];
            size_t n = encode_close_payload(payload, static_cast<uint16_t>(close_code(r.error)),
                                            close_reason(r.error));
            send_frame(Opcode::kClose, {payload, n}, true);
        }
        fail(ClientFailure::kProtocol);
        return data.size();
    }
    if (state_ == State::kDone) return data.size();
    return r.consumed;
}

bool ClientConnection::on_message(Opcode op, std::span<std::byte> payload, bool) {
    // RFC 6455 §5.5.1: once we have sent a close, messages still in flight are dropped.
    if (state_ != State::kOpen) return true;
    handler_.on_message(*this, op, payload);
    return !closed();
}

bool ClientConnection::on_control(Opcode op, std::span<std::byte> payload) {
    if (op == Opcode::kPing) {
        // RFC 6455 §5.5.2: answer with a pong carrying the same application data.
        if (state_ == State::kOpen) send_frame(Opcode::kPong, payload, false);
        return !closed();
    }
    if (op == Opcode::kPong) return true;  // §5.5.3: unsolicited pongs need no answer
    peer_close_code_ = close_payload_code(payload);
    // §5.5.1: answer a close we did not start with one echoing its code.
    if (state_ == State::kOpen) send_frame(Opcode::kClose, payload.first(payload.size() >= 2 ? 2 : 0), true);
    finish();
    return false;  // nothing after a close frame is read (§5.5.1)
}

net::SendStatus ClientConnection::send_message(Opcode op, std::span<const std::byte> payload) {
    if (state_ != State::kOpen) return net::SendStatus::kDropped;
    net::SendStatus s = send_frame(op, payload, false);
    if (s == net::SendStatus::kDropped && !closed()) fail(ClientFailure::kOverflow);
    return s;
}

// Header, then the payload masked chunk by chunk: send() keeps the pieces in order.
net::SendStatus ClientConnection::send_frame(Opcode op, std::span<const std::byte> payload,
                                             bool force) {
    std::byte mask[4];
    next_mask(mask);
    std::byte header[kMaxFrameHeader];
    size_t h = encode_frame_header(header, op, payload.size(), true, false, mask);
    std::byte chunk[kMaskChunk];
    size_t first = std::min(payload.size(), kMaskChunk - h);
    std::memcpy(chunk, header, h);
    std::memcpy(chunk + h, payload.data(), first);
    size_t phase = apply_mask(chunk + h, first, mask);
    net::SendStatus s = send({chunk, h + first}, {}, force);
    for (size_t off = first; off < payload.size() && s != net::SendStatus::kDropped;) {
        size_t n = std::min(payload.size() - off, kMaskChunk);
        std::memcpy(chunk, payload.data() + off, n);
        phase = apply_mask(chunk, n, mask, phase);
        net::SendStatus t = send({chunk, n}, {}, force);
        if (t != net::SendStatus::kSent) s = t;
        off += n;
    }
    return s;
}

void ClientConnection::next_mask(std::byte out[4]) {
    rng_ ^= rng_ << 13;  // xorshift64 (Marsaglia): three shifts, full period over non-zero states
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    auto word = static_cast<uint32_t>(rng_ >> 32);
    std::memcpy(out, &word, 4);
}

void ClientConnection::close_websocket(uint16_t code) {
    if (state_ != State::kOpen) return;
    std::byte payload[kMaxControlPayload];
    size_t n = encode_close_payload(payload, code, {});
    send_frame(Opcode::kClose, {payload, n}, true);
    state_ = State::kClosing;  // wait for the server's close frame
    set_timeout(config_.close_timeout_ms);
}

// Our side of the close handshake is done. RFC 6455 §7.1.1: the server should close the TCP
// connection first, so we flush, half-close and wait for its FIN (or the timeout).
void ClientConnection::finish() {
    state_ = State::kDone;
    set_timeout(config_.close_timeout_ms);
    close_after_flush();
}

void ClientConnection::fail(ClientFailure why) {
    if (failure_ == ClientFailure::kNone) failure_ = why;
    if (state_ == State::kHandshake) {
        state_ = State::kDone;
        close(net::CloseCause::kLocal);  // no WebSocket yet: nothing to say goodbye with
        return;
    }
    finish();
}

void ClientConnection::on_eof() {
    // The server ended TCP without finishing the close handshake.
    if (failure_ == ClientFailure::kNone) failure_ = ClientFailure::kReset;
    close(net::CloseCause::kPeerReset);
}

void ClientConnection::on_timeout() {
    if (failure_ == ClientFailure::kNone && state_ != State::kDone)
        failure_ = ClientFailure::kTimeout;
    close(net::CloseCause::kTimeout);
}

void ClientConnection::on_close(net::CloseCause cause) {
    // A close handshake that completed is clean even if the final FIN raced a reset.
    if (failure_ == ClientFailure::kNone && state_ != State::kDone)
        failure_ = cause == net::CloseCause::kTimeout ? ClientFailure::kTimeout : ClientFailure::kReset;
    state_ = State::kDone;
    handler_.on_closed(*this, peer_close_code_, failure_);
}

std::string_view failure_name(ClientFailure f) {
    switch (f) {
    case ClientFailure::kNone: return "none";
    case ClientFailure::kHandshake: return "handshake";
    case ClientFailure::kProtocol: return "protocol";
    case ClientFailure::kReset: return "reset";
    case ClientFailure::kTimeout: return "timeout";
    case ClientFailure::kOverflow: return "overflow";
    }
    return "unknown";
}

}  // namespace epws::ws
