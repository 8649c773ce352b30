// ws/client_connection.h: the glue between one net::Connection and the ws/ codecs, client side:
// upgrade request -> response check -> frames (masked out, unmasked in) -> close. Layer: ws/.
// Used by the load generator (bench/) and by tests; the server never includes it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "net/connection.h"
#include "ws/frame.h"
#include "ws/handshake.h"
#include "ws/message_reader.h"

namespace epws::ws {

class ClientConnection;

// What a client connection needs to know; one per run, shared by every connection (not owned,
// must outlive them). Read-only while connections use it.
struct ClientConfig {
    std::string host = "127.0.0.1:8080";  // the Host header (RFC 6455 §4.1 item 4)
    std::string path = "/echo";           // request target
    HttpLimits http;                      // limits on the server's response head
    ReaderLimits reader;                  // limits on the server's messages
    uint32_t handshake_timeout_ms = 10000;
    uint32_t close_timeout_ms = 5000;
};

// Why a connection ended badly; kNone for a clean close handshake.
enum class ClientFailure : uint8_t {
    kNone,
    kHandshake,  // the response was malformed or not a valid 101 (see response_error())
    kProtocol,   // the server broke RFC 6455 framing (see protocol_error())
    kReset,      // TCP ended without a close handshake (refused, reset, EOF)
    kTimeout,    // the handshake or the close handshake took too long
    kOverflow,   // our own output buffer refused a send
};

// Events of client connections, delivered on the loop thread. One handler may serve many.
class ClientHandler {
public:
    virtual ~ClientHandler() = default;
    // The server accepted the upgrade; sending is allowed from here on.
    virtual void on_open(ClientConnection&) {}
    // A complete message; payload is unmasked and valid only during the call.
    virtual void on_message(ClientConnection&, Opcode op, std::span<std::byte> payload) = 0;
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

    // Sends the upgrade request (RFC 6455 §4.1) and arms the handshake timeout. Call once,
    // after Loop::adopt. False if the request could not be built or sent (then closed).
    bool start();
    // Sends one unfragmented, masked message. The payload is not modified: it is masked
    // through a stack buffer, 4 KiB at a time, so nothing is allocated. kDropped unless open.
    net::SendStatus send_message(Opcode op, std::span<const std::byte> payload);
    // Starts the close handshake (RFC 6455 §7.1.2): sends close(code), waits for the server's
    // close frame and its FIN, or the close timeout.
    void close_websocket(uint16_t code);

    bool is_open() const { return state_ == State::kOpen; }
    ResponseError response_error() const { return response_error_; }
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

    size_t on_response(std::span<std::byte> data);
    size_t on_frames(std::span<std::byte> data);
    net::SendStatus send_frame(Opcode op, std::span<const std::byte> payload, bool force);
    void next_mask(std::byte out[4]);
    void fail(ClientFailure why);
    void finish();

    const ClientConfig& config_;
    ClientHandler& handler_;
    MessageReader reader_;
    uint64_t rng_;                 // xorshift64 state for masking keys
    size_t scanned_ = 0;           // how far the response-head search got
    char key_[24] = {};            // our Sec-WebSocket-Key, to check the accept value
    uint32_t tag_ = 0;
    uint16_t peer_close_code_ = 1006;
    State state_ = State::kHandshake;
    ClientFailure failure_ = ClientFailure::kNone;
    ResponseError response_error_ = ResponseError::kNone;
    ProtocolError protocol_error_ = ProtocolError::kNone;
};

// A readable name for a failure ("handshake", "protocol", ...), for logs and reports.
std::string_view failure_name(ClientFailure f);

}  // namespace epws::ws
