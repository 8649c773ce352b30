// ws/client_connection.cc: one client-side WebSocket connection, from request to close.
// Layer: ws/ (the one glue file between the codecs and net::Connection on the client side).
#include "ws/client_connection.h"

#include <openssl/rand.h>

#include <cstring>
#include <string>
#include <vector>

#include "ws/deflate.h"
#include "ws/utf8.h"

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

// zlib cannot write a raw stream with a 256-byte window (deflateInit2 refuses -8), so a server
// that limits us to 8 bits gets our messages uncompressed, which §6 always allows.
constexpr int kMinDeflateWindow = 9;

// The codecs and buffers every connection of one thread shares: connections on one loop never
// compress or inflate at the same time. Streams here are reset after every message (used only
// without context takeover); the buffers keep their capacity, so steady traffic allocates
// nothing.
struct ThreadCodecs {
    Deflater deflaters[16 - kMinDeflateWindow];  // one per window size 9..15, made on first use
    Inflater inflater;                           // 15 bits inflates any server window
    std::vector<std::byte> packed;               // the message being sent, compressed
    std::vector<std::byte> plain;                // the message being received, inflated
};

ThreadCodecs& thread_codecs() {
    thread_local ThreadCodecs codecs;
    return codecs;
}

// RFC 7692 §7.1.2: a window size is 8..15 in decimal, no leading zero; a quoted value counts
// once unquoted (RFC 6455 §9.1). 0 when it is not one.
uint8_t window_bits_of(const ExtensionParam& p) {
    if (!p.has_value) return 0;
    char digits[3] = {};
    size_t n = 0;
    for (size_t i = 0; i < p.value.size(); ++i) {
        if (p.quoted && p.value[i] == '\\') ++i;  // quoted-pair: the next char stands for itself
        if (i >= p.value.size() || n == 2) return 0;
        digits[n++] = p.value[i];
    }
    if (n == 1 && digits[0] >= '8' && digits[0] <= '9') return static_cast<uint8_t>(digits[0] - '0');
    if (n == 2 && digits[0] == '1' && digits[1] >= '0' && digits[1] <= '5')
        return static_cast<uint8_t>(10 + digits[1] - '0');
    return 0;
}

// Reads the accepted offer's parameters into out; false for anything §7.1 forbids.
bool read_answer_params(const ExtensionOffer& ext, DeflateParams& out) {
    if (ext.too_many) return false;
    bool seen[4] = {};
    for (uint8_t i = 0; i < ext.count; ++i) {
        const ExtensionParam& p = ext.params[i];
        int k = deflate_param_index(p.name);
        // §7.1: an unknown parameter or one given twice fails the connection on the client.
        if (k < 0 || seen[k]) return false;
        seen[k] = true;
        if (k <= 1 && p.has_value) return false;  // §7.1.1.1/§7.1.1.2: no value
        // §7.1.1.1: the server may announce server_no_context_takeover unasked; §7.1.1.2: it
        // may impose client_no_context_takeover, which we then obey.
        if (k == 0) out.server_no_context_takeover = true;
        if (k == 1) out.client_no_context_takeover = true;
        // §7.1.2.1: the server may state its window even unasked; any inflates with ours (15).
        if (k == 2 && (out.server_window_bits = window_bits_of(p)) == 0) return false;
        // §7.1.2.2: we offered client_max_window_bits; the answer must carry a value 8..15.
        if (k == 3 && (out.client_window_bits = window_bits_of(p)) == 0) return false;
    }
    return true;
}

// The connection's transport: TLS when config asks for it (plain if OpenSSL made no session,
// which the constructor notices and start() reports).
net::TransportPtr client_transport(const ClientConfig& config) {
    if (config.tls == nullptr) return net::PlainTransport::make();
    std::string name = config.tls_name;
    if (name.empty()) {
        // "host:port", "[v6]:port" -> the host alone.
        name = config.host;
        size_t colon = name.rfind(':');
        if (colon != std::string::npos && name.find(']') == std::string::npos) name.resize(colon);
        if (!name.empty() && name.front() == '[') name = name.substr(1, name.find(']') - 1);
    }
    net::TransportPtr t = config.tls->make_transport(name);
    return t ? std::move(t) : net::PlainTransport::make();
}

}  // namespace

std::string client_deflate_offer(const ClientDeflateConfig& config) {
    if (!config.offer) return {};
    std::string offer = "permessage-deflate; client_max_window_bits";
    if (config.no_context_takeover) offer += "; server_no_context_takeover; client_no_context_takeover";
    return offer;
}

bool accept_deflate_answer(const std::string_view* answer, const ClientDeflateConfig& config,
                           DeflateParams& out) {
    out = {};
    if (answer == nullptr) return true;  // declined (RFC 6455 §9.1): carry on uncompressed
    if (!config.offer) return false;     // §4.1 item 5: an extension we did not ask for
    std::string_view rest = *answer;
    ExtensionOffer ext;
    if (next_offer(rest, ext) != OfferParse::kOffer || ext.name != "permessage-deflate")
        return false;
    ExtensionOffer more;
    if (next_offer(rest, more) != OfferParse::kEnd) return false;  // we offered one extension
    if (!read_answer_params(ext, out)) return false;
    // §7.1.1: what we asked for must have been granted.
    if (config.no_context_takeover && !out.server_no_context_takeover) return false;
    out.enabled = true;
    return true;
}

ClientConnection::ClientConnection(net::Loop& loop, int fd, const ClientConfig& config,
                                   ClientHandler& handler)
    : net::Connection(loop, fd, client_transport(config)), config_(config), handler_(handler),
      reader_(Role::kClient, &config.reader) {
    no_transport_ = config.tls != nullptr && !transport().secure();
    // Any non-zero seed will do for xorshift; fall back to the address if OpenSSL fails.
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&rng_), sizeof(rng_)) != 1 || rng_ == 0)
        rng_ = reinterpret_cast<uintptr_t>(this) | 1;
}

ClientConnection::~ClientConnection() = default;  // Deflater/Inflater are complete here

bool ClientConnection::start() {
    if (no_transport_) {
        fail(ClientFailure::kTls);
        return false;
    }
    std::string key = make_client_key();
    if (key.size() != sizeof(key_)) {
        fail(ClientFailure::kHandshake);
        return false;
    }
    std::memcpy(key_, key.data(), sizeof(key_));
    std::string request;
    append_client_request(request, config_.host, config_.path, key, config_.subprotocols,
                          client_deflate_offer(config_.deflate), config_.extra_headers);
    if (tap_ != nullptr)
        tap_->on_wire(TraceDirection::kClientToServer,
                      {reinterpret_cast<const std::byte*>(request.data()), request.size()});
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
    // net::Connection offers what we left unconsumed again, before the new bytes.
    if (tap_ != nullptr)
        tap_->on_wire(TraceDirection::kServerToClient, data.subspan(std::min(held_, data.size())));
    size_t used = consume(data);
    held_ = data.size() - std::min(used, data.size());
    return used;
}

size_t ClientConnection::consume(std::span<std::byte> data) {
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
    response_status_ = resp.status;
    // Bounded: a reason phrase is the server's to choose.
    response_reason_.assign(resp.reason.substr(0, std::min<size_t>(resp.reason.size(), 200)));
    if (const std::string_view* p = resp.find("sec-websocket-protocol"))
        subprotocol_.assign(p->substr(0, std::min<size_t>(p->size(), 200)));
    // RFC 6455 §4.1: the client MUST fail the connection unless the 101 checks out.
    response_error_ = check_upgrade_response(resp, {key_, sizeof(key_)}, config_.subprotocols,
                                             config_.deflate.offer);
    if (response_error_ == ResponseError::kNone && !setup_deflate(resp))
        response_error_ = ResponseError::kUnexpectedExtension;
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

// RFC 7692 §5: the agreed parameters; our own zlib streams only where context is kept.
bool ClientConnection::setup_deflate(const HttpResponse& resp) {
    if (!accept_deflate_answer(resp.find("sec-websocket-extensions"), config_.deflate, deflate_))
        return false;
    if (!deflate_.enabled) return true;
    reader_.set_rsv1_allowed(true);  // §6: RSV1 now marks a compressed message
    if (!deflate_.server_no_context_takeover) {
        inflater_ = std::make_unique<Inflater>();
        if (!inflater_->init(15, nullptr)) return false;
    }
    if (!deflate_.client_no_context_takeover && deflate_.client_window_bits >= kMinDeflateWindow) {
        deflater_ = std::make_unique<Deflater>();
        if (!deflater_->init(config_.deflate.level, deflate_.client_window_bits,
                             config_.deflate.mem_level, nullptr))
            return false;
    }
    return true;
}

size_t ClientConnection::on_frames(std::span<std::byte> data) {
    ReadResult r = reader_.read(data, *this);
    if (r.error != ProtocolError::kNone) {
        fail_protocol(r.error);
        return data.size();
    }
    if (state_ == State::kDone) return data.size();
    return r.consumed;
}

// RFC 6455 §7.1.7: fail the connection, telling the server why while we still may.
void ClientConnection::fail_protocol(ProtocolError e) {
    protocol_error_ = e;
    if (state_ == State::kOpen) {
        std::byte payload[kMaxControlPayload];
        size_t n = encode_close_payload(payload, static_cast<uint16_t>(close_code(e)),
                                        close_reason(e));
        send_frame(Opcode::kClose, {payload, n}, true);
    }
    fail(ClientFailure::kProtocol);
}

bool ClientConnection::on_message(Opcode op, std::span<std::byte> payload, bool compressed) {
    // RFC 6455 §5.5.1: once we have sent a close, messages still in flight are dropped.
    if (state_ != State::kOpen) return true;
    if (compressed) return on_compressed(op, payload);
    handler_.on_message(*this, op, payload);
    return !closed();
}

// RFC 7692 §7.2.2: inflate (bounded as it goes, §8.1), then the UTF-8 check the reader could not
// do on compressed text (RFC 6455 §8.1).
bool ClientConnection::on_compressed(Opcode op, std::span<std::byte> payload) {
    ThreadCodecs& t = thread_codecs();
    Inflater& inflater = inflater_ ? *inflater_ : t.inflater;
    ProtocolError e = ProtocolError::kNone;
    if (!inflater.ready() && !inflater.init(15, nullptr)) e = ProtocolError::kDeflateFailed;
    if (e == ProtocolError::kNone)
        e = inflater.inflate(payload, config_.max_inflated_bytes, t.plain,
                             deflate_.server_no_context_takeover);
    if (e == ProtocolError::kNone && op == Opcode::kText && !is_valid_utf8(t.plain.data(), t.plain.size()))
        e = ProtocolError::kInvalidUtf8;
    if (e != ProtocolError::kNone) {
        fail_protocol(e);
        return false;
    }
    handler_.on_message(*this, op, t.plain);
    return !closed();
}

bool ClientConnection::on_control(Opcode op, std::span<std::byte> payload) {
    if (op == Opcode::kPing) {
        // RFC 6455 §5.5.2: answer with a pong carrying the same application data.
        if (state_ == State::kOpen) send_frame(Opcode::kPong, payload, false);
        return !closed();
    }
    if (op == Opcode::kPong) {  // §5.5.3: unsolicited pongs need no answer
        handler_.on_pong(*this, payload);
        return !closed();
    }
    peer_close_code_ = close_payload_code(payload);
    // The reader validated the payload (§5.5.1: at most 125 bytes, a UTF-8 reason).
    if (payload.size() > 2) peer_close_reason_.assign(as_text(payload.subspan(2)));
    // §5.5.1: answer a close we did not start with one echoing its code.
    if (state_ == State::kOpen) send_frame(Opcode::kClose, payload.first(payload.size() >= 2 ? 2 : 0), true);
    finish();
    return false;  // nothing after a close frame is read (§5.5.1)
}

net::SendStatus ClientConnection::send_message(Opcode op, std::span<const std::byte> payload) {
    if (state_ != State::kOpen) return net::SendStatus::kDropped;
    bool rsv1 = false;
    if (deflate_.enabled && payload.size() >= config_.deflate.threshold &&
        deflate_.client_window_bits >= kMinDeflateWindow) {
        ThreadCodecs& t = thread_codecs();
        Deflater* d = deflater_.get();
        if (d == nullptr) {
            d = &t.deflaters[deflate_.client_window_bits - kMinDeflateWindow];
            if (!d->ready() && !d->init(config_.deflate.level, deflate_.client_window_bits,
                                        config_.deflate.mem_level, nullptr))
                d = nullptr;
        }
        if (d == nullptr || !d->compress(payload, t.packed, deflate_.client_no_context_takeover)) {
            fail_protocol(ProtocolError::kDeflateFailed);
            return net::SendStatus::kDropped;
        }
        // §6: a message may go out uncompressed, unless our window now holds it (context
        // takeover) and the server's must too, for later back-references to resolve.
        if (deflater_ == nullptr && t.packed.size() >= payload.size()) {
            rsv1 = false;
        } else {
            rsv1 = true;
            payload = t.packed;
        }
    }
    payload_bytes_sent_ += payload.size();
    net::SendStatus s = send_frame(op, payload, false, rsv1);
    if (s == net::SendStatus::kDropped && !closed()) fail(ClientFailure::kOverflow);
    return s;
}

// Header, then the payload masked chunk by chunk: send() keeps the pieces in order.
net::SendStatus ClientConnection::send_frame(Opcode op, std::span<const std::byte> payload,
                                             bool force, bool rsv1) {
    std::byte mask[4];
    next_mask(mask);
    std::byte header[kMaxFrameHeader];
    size_t h = encode_frame_header(header, op, payload.size(), true, rsv1, mask);
    std::byte chunk[kMaskChunk];
    size_t first = std::min(payload.size(), kMaskChunk - h);
    std::memcpy(chunk, header, h);
    std::memcpy(chunk + h, payload.data(), first);
    size_t phase = apply_mask(chunk + h, first, mask);
    if (tap_ != nullptr) tap_->on_wire(TraceDirection::kClientToServer, {chunk, h + first});
    net::SendStatus s = send({chunk, h + first}, {}, force);
    for (size_t off = first; off < payload.size() && s != net::SendStatus::kDropped;) {
        size_t n = std::min(payload.size() - off, kMaskChunk);
        std::memcpy(chunk, payload.data() + off, n);
        phase = apply_mask(chunk, n, mask, phase);
        if (tap_ != nullptr) tap_->on_wire(TraceDirection::kClientToServer, {chunk, n});
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

net::SendStatus ClientConnection::send_ping(std::span<const std::byte> payload) {
    if (state_ != State::kOpen) return net::SendStatus::kDropped;
    return send_frame(Opcode::kPing, payload.first(std::min(payload.size(), kMaxControlPayload)),
                      false);
}

void ClientConnection::close_websocket(uint16_t code, std::string_view reason) {
    if (state_ != State::kOpen) return;
    std::byte payload[kMaxControlPayload];
    size_t n = encode_close_payload(payload, code, reason);
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
    close(net::CloseCause::kPeerEof);
}

void ClientConnection::on_timeout() {
    if (failure_ == ClientFailure::kNone && state_ != State::kDone)
        failure_ = ClientFailure::kTimeout;
    close(net::CloseCause::kTimeout);
}

void ClientConnection::on_close(net::CloseCause cause) {
    // A close handshake that completed is clean even if the final FIN raced a reset.
    if (failure_ == ClientFailure::kNone && state_ != State::kDone)
        failure_ = cause == net::CloseCause::kTimeout           ? ClientFailure::kTimeout
                   : cause == net::CloseCause::kHandshakeFailed ? ClientFailure::kTls
                                                                : ClientFailure::kReset;
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
    case ClientFailure::kTls: return "tls";
    }
    return "unknown";
}

}  // namespace epws::ws
