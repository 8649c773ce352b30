// ws/shared_message.h: one message sent to many connections of one loop: framed once by the
// caller, compressed at most once per window size. Layer: ws/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "net/connection.h"
#include "ws/frame.h"

namespace epws::ws {

class ServerConnection;

// Every recipient whose compressor keeps no context shares one compressed copy per window size
// (RFC 7692 §7.1.1.1: its bytes then depend only on the message and the window). Recipients
// without the extension, or below the threshold, get the caller's frame itself; recipients whose
// compressor keeps context (dedicated mode) get their own compression.
// Loop thread only; frame must stay valid while the object lives.
class SharedMessage {
public:
    // frame: a complete unmasked frame (encode_shared_frame), its payload from header_len on.
    SharedMessage(Opcode op, std::span<const std::byte> frame, size_t header_len);
    // Same outcomes as ServerConnection::send_frame. Every recipient of one SharedMessage
    // belongs to the same loop.
    net::SendStatus send_to(ServerConnection& to);

private:
    struct Variant {
        std::vector<std::byte> body;  // the compressed payload
        std::byte header[kMaxFrameHeader];
        uint8_t header_size = 0;
        bool ready = false;       // compressed (or tried) already
        bool compressed = false;  // false: compressing did not help, send the plain frame
    };
    Variant& variant(ServerConnection& to, uint8_t window_bits);

    std::span<const std::byte> header_;
    std::span<const std::byte> payload_;
    Opcode op_;
    Variant variants_[8];  // by the recipient's server window bits, 8..15
};

}  // namespace epws::ws
