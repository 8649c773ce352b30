// ws/trace.h: explains WebSocket bytes for people learning the protocol: the HTTP upgrade with
// the Sec-WebSocket-Accept computation, then every frame as a diagram with its RFC sections.
// Layer: ws/ (pure codec: bytes in, text out; no I/O). Used by epws-cat --trace and the server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace epws::ws {

// Which way bytes travel.
enum class TraceDirection : uint8_t { kClientToServer, kServerToClient };

// Sees a connection's bytes as they cross the wire (the tracing hook of the connection glue).
class WireTap {
public:
    virtual ~WireTap() = default;
    // data is valid only during the call.
    virtual void on_wire(TraceDirection dir, std::span<const std::byte> data) = 0;
};

// Limits on what one annotator holds; every byte it is fed may be hostile.
struct TraceLimits {
    size_t max_head_bytes = 16 * 1024;  // an HTTP head longer than this is shown raw, not parsed
    size_t max_frame_bytes = 1 << 20;   // frames over this are described, their payload skipped
    size_t max_shown_bytes = 4096;      // bytes printed in hex per head or frame (the rest: "...")
    size_t max_inflated_bytes = 1 << 20;  // a compressed message inflating past it is not shown
};

// Follows one connection's two byte streams from the first byte (the client's request) and
// appends an annotated account of them to a string. It reads the handshake itself, so it knows
// when frames start, whether permessage-deflate was agreed (RFC 7692) and with which context
// takeover, and keeps its own inflaters to show compressed messages before and after. It never
// fails: bytes it cannot make sense of are shown raw, 16 a line, and so is the rest of that
// direction.
// Not thread-safe; one per connection.
class TraceAnnotator {
public:
    explicit TraceAnnotator(TraceLimits limits = {});
    ~TraceAnnotator();
    TraceAnnotator(const TraceAnnotator&) = delete;
    TraceAnnotator& operator=(const TraceAnnotator&) = delete;

    // Bytes seen on the wire in direction dir, in order, in any pieces: appends to out the
    // account of every complete head or frame they finish (a partial one waits for more).
    void feed(TraceDirection dir, std::span<const std::byte> data, std::string& out);

    // The connection ended: appends what is left over (the last raw bytes, an incomplete head
    // or frame) so that nothing fed goes unshown. The account of a stream is then the same
    // however it was cut into pieces.
    void finish(std::string& out);

    // How many frames have been explained so far, both directions.
    uint64_t frames() const { return frames_; }

private:
    struct Side;
    void on_head(Side& s, std::string& out);
    void on_frame(Side& s, std::string& out);
    void explain_payload(Side& s, std::string& out);
    bool frame_step(Side& s, std::string& out);

    TraceLimits limits_;
    std::unique_ptr<Side> client_;  // client -> server
    std::unique_ptr<Side> server_;  // server -> client
    std::string key_;               // the request's Sec-WebSocket-Key
    uint64_t frames_ = 0;
    bool deflate_ = false;          // permessage-deflate agreed
};

// The explanation of the opening handshake's one computation (RFC 6455 §4.2.2 item 5.4):
// key + GUID, its SHA-1 in hex, the base64 of that. Pure.
std::string explain_accept(std::string_view key);

// "48 65 6c 6c 6f" for up to max bytes of data, then " ... (N bytes)" when there are more.
std::string hex_bytes(std::span<const std::byte> data, size_t max);

}  // namespace epws::ws
