// ws/client_connection.h: the glue between one net::Connection and the ws/ codecs, client side:
// upgrade request -> response check -> frames (masked out, unmasked in) -> close. Layer: ws/.
// Used by the load generator (bench/) and by tests; the server never includes it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "net/connection.h"
#include "net/tls_context.h"
#include "ws/deflate_params.h"
#include "ws/frame.h"
#include "ws/client_handshake.h"
#include "ws/message_reader.h"
#include "ws/trace.h"

namespace epws::ws {

class ClientConnection;
class Deflater;
class Inflater;

// permessage-deflate as this client offers it (RFC 7692). Off unless `offer`.
struct ClientDeflateConfig {
    bool offer = false;
    // Also offer server_no_context_takeover and client_no_context_takeover (§7.1.1): both sides
    // reset their compressors after every message, so this client's zlib streams are shared by
    // every connection of the thread instead of held per connection.
    bool no_context_takeover = false;
    int level = 6;           // zlib level of our compressor, 0..9
    uint8_t mem_level = 8;   // zlib memLevel of our compressor, 1..9
    uint32_t threshold = 0;  // messages shorter than this go out uncompressed (§6 allows it)
};

// The Sec-WebSocket-Extensions value offered for config: "permessage-deflate;
// client_max_window_bits" (as browsers send it), plus both no-context-takeover parameters when
// asked; empty when config.offer is false. Pure.
std::string client_deflate_offer(const ClientDeflateConfig& config);

// Judges the server's answer to that offer (RFC 7692 §5, §7.1, the client's side), using the
// server-side offer parser (next_offer). answer: the response's Sec-WebSocket-Extensions value,
// or nullptr when it has none (then compression is off and the answer is fine). Returns false
// when the client must fail the connection: an extension we did not offer, two of them, an
// unknown, duplicate or malformed parameter, a window size outside 8..15 or without a value
// (§7.1.2.2: client_max_window_bits in a response MUST carry one). Otherwise fills out (enabled
// when the server accepted). Pure.
bool accept_deflate_answer(const std::string_view* answer, const ClientDeflateConfig& config,
                           DeflateParams& out);

// What a client connection needs to know; one per run, shared by every connection (not owned,
// must outlive them). Read-only while connections use it.
struct ClientConfig {
    std::string host = "127.0.0.1:8080";  // the Host header (RFC 6455 §4.1 item 4)
    std::string path = "/echo";           // request target
    std::string subprotocols;             // Sec-WebSocket-Protocol offer, comma-separated; empty: none
    std::string extra_headers;            // more request headers, each "Name: value\r\n"
    HttpLimits http;                      // limits on the server's response head
    ReaderLimits reader;                  // limits on the server's messages (compressed size)
    uint64_t max_inflated_bytes = 16u << 20;  // a compressed message inflating past it: 1009
    ClientDeflateConfig deflate;          // permessage-deflate offer (off by default)
    uint32_t handshake_timeout_ms = 10000;
    uint32_t close_timeout_ms = 5000;
    // wss:// (RFC 6455 §3): the TLS client context to make each connection's transport from
    // (not owned; null: plain ws://), and the name sent as SNI and checked against the
    // server's certificate (empty: host without its port).
    const net::TlsClientContext* tls = nullptr;
    std::string tls_name;
};

// Why a connection ended badly; kNone for a clean close handshake.
enum class ClientFailure : uint8_t {
    kNone,
    kHandshake,  // the response was malformed or not a valid 101 (see response_error())
    kProtocol,   // the server broke RFC 6455 framing (see protocol_error())
    kReset,      // TCP ended without a close handshake (refused, reset, EOF)
    kTimeout,    // the handshake or the close handshake took too long
    kOverflow,   // our own output buffer refused a send
    kTls,        // the TLS handshake failed (an untrusted certificate, a wrong name, ...)
};

// Events of client connections, delivered on the loop thread. One handler may serve many.
class ClientHandler {
public:
    virtual ~ClientHandler() = default;
    // The server accepted the upgrade; sending is allowed from here on.
    virtual void on_open(ClientConnection&) {}
    // A complete message; payload is unmasked and valid only during the call.
    virtual void on_message(ClientConnection&, Opcode op, std::span<std::byte> payload) = 0;
    // A pong arrived (RFC 6455 §5.5.3); payload valid only during the call.
    virtual void on_pong(ClientConnection&, std::span<const std::byte> /*payload*/) {}
    // The last event: the connection is gone. code is the server's close code (1005 none,
    // 1006 no close frame); failure says what went wrong, kNone after a clean close.
    virtual void on_closed(ClientConnection&, uint16_t code, ClientFailure failure) = 0;
};

// One client WebSocket. Owned by the loop (create, Loop::adopt, then start()). Frames are masked
// with a key per frame from a per-connection xorshift generator seeded by OpenSSL: RFC 6455 §5.3
// asks for unpredictable keys to protect proxies from cache poisoning, which does not arise on
// the loopback this client is for, and a CSPRNG call per frame would cost more than the frame.
// Loop thread only.
class ClientConnection final : public net::Connection, private MessageSink {
public:
    // fd is a connecting socket (net::connect_tcp); config and handler must outlive this.
    ClientConnection(net::Loop& loop, int fd, const ClientConfig& config, ClientHandler& handler);
    ~ClientConnection() override;

    // Sends the upgrade request (RFC 6455 §4.1; over TLS it waits in the output buffer until
    // the TLS handshake is done) and arms the handshake timeout. Call once, after Loop::adopt.
    // False if the request could not be built or sent, or no TLS session could be made (then
    // closed).
    bool start();
    // Sends one unfragmented, masked message. The payload is not modified: it is masked
    // through a stack buffer, 4 KiB at a time, so nothing is allocated. With permessage-deflate
    // agreed it is compressed first (RSV1 set, RFC 7692 §6) into a per-thread buffer that keeps
    // its capacity, so a steady stream of messages allocates nothing. kDropped unless open.
    net::SendStatus send_message(Opcode op, std::span<const std::byte> payload);
    // Sends a ping (RFC 6455 §5.5.2) with payload, cut to 125 bytes. kDropped unless open.
    net::SendStatus send_ping(std::span<const std::byte> payload);
    // Starts the close handshake (RFC 6455 §7.1.2): sends close(code, reason), waits for the
    // server's close frame and its FIN, or the close timeout. reason: valid UTF-8, cut to fit.
    void close_websocket(uint16_t code, std::string_view reason = {});

    bool is_open() const { return state_ == State::kOpen; }
    // What permessage-deflate negotiation agreed (enabled == false: none). Valid once open.
    const DeflateParams& deflate_params() const { return deflate_; }
    // Bytes of message payload put on the wire so far (after compression, before framing).
    uint64_t payload_bytes_sent() const { return payload_bytes_sent_; }
    ResponseError response_error() const { return response_error_; }
    // The status and reason phrase of the server's response (0 and empty until one parsed), so
    // a refused upgrade can say what the server said.
    int response_status() const { return response_status_; }
    const std::string& response_reason() const { return response_reason_; }
    // The subprotocol the server chose (empty: none). Valid once open.
    const std::string& subprotocol() const { return subprotocol_; }
    // The reason of the server's close frame (empty: none or not yet).
    const std::string& peer_close_reason() const { return peer_close_reason_; }
    // Shows every byte sent and received, as on the wire, to tap (not owned; nullptr: none).
    // Set before start().
    void set_tap(WireTap* tap) { tap_ = tap; }
    ProtocolError protocol_error() const { return protocol_error_; }
    // One word for the owner's use (an index into its tables); 0 until set.
    uint32_t tag() const { return tag_; }
    void set_tag(uint32_t tag) { tag_ = tag; }

private:
    enum class State : uint8_t { kHandshake, kOpen, kClosing, kDone };

    size_t on_data(std::span<std::byte> data) override;
    void on_eof() override;
    void on_timeout() override;
    void on_close(net::CloseCause cause) override;
    bool on_message(Opcode op, std::span<std::byte> payload, bool compressed) override;
    bool on_control(Opcode op, std::span<std::byte> payload) override;

    size_t consume(std::span<std::byte> data);
    size_t on_response(std::span<std::byte> data);
    size_t on_frames(std::span<std::byte> data);
    bool on_compressed(Opcode op, std::span<std::byte> payload);
    bool setup_deflate(const HttpResponse& resp);
    void fail_protocol(ProtocolError e);
    net::SendStatus send_frame(Opcode op, std::span<const std::byte> payload, bool force,
                               bool rsv1 = false);
    void next_mask(std::byte out[4]);
    void fail(ClientFailure why);
    void finish();

    const ClientConfig& config_;
    ClientHandler& handler_;
    MessageReader reader_;
    // Own zlib streams only where context takeover was agreed for that direction; otherwise the
    // thread's shared ones (client_connection.cc) serve, reset after every message.
    std::unique_ptr<Deflater> deflater_;
    std::unique_ptr<Inflater> inflater_;
    uint64_t rng_;                 // xorshift64 state for masking keys
    uint64_t payload_bytes_sent_ = 0;
    size_t scanned_ = 0;           // how far the response-head search got
    char key_[24] = {};            // our Sec-WebSocket-Key, to check the accept value
    uint32_t tag_ = 0;
    WireTap* tap_ = nullptr;
    size_t held_ = 0;              // bytes on_data left unconsumed: offered again, already tapped
    int response_status_ = 0;
    std::string response_reason_;
    std::string subprotocol_;
    std::string peer_close_reason_;
    uint16_t peer_close_code_ = static_cast<uint16_t>(CloseCode::kAbnormal);
    DeflateParams deflate_;
    State state_ = State::kHandshake;
    bool no_transport_ = false;  // config.tls set but OpenSSL made no session
    ClientFailure failure_ = ClientFailure::kNone;
    ResponseError response_error_ = ResponseError::kNone;
    ProtocolError protocol_error_ = ProtocolError::kNone;
};

// A readable name for a failure ("handshake", "protocol", ...), for logs and reports.
std::string_view failure_name(ClientFailure f);

}  // namespace epws::ws
