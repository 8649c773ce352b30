// ws/shared_message.h: one message sent to many connections of one loop: framed once by the
// caller, compressed at most once per window size. Layer: ws/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <atomic>
#include <span>

#include "net/connection.h"
#include "net/shared_bytes.h"
#include "ws/shared_buffer.h"
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
    // frame: a complete unmasked frame (encode_shared_frame), its payload from header_len on;
    // owner keeps it alive for recipients that must queue it (may be null: then they copy).
    SharedMessage(Opcode op, std::span<const std::byte> frame, size_t header_len,
                  net::SharedBytes* owner = nullptr);
    ~SharedMessage();
    SharedMessage(const SharedMessage&) = delete;
    SharedMessage& operator=(const SharedMessage&) = delete;
    // Same outcomes as ServerConnection::send_frame. Every recipient of one SharedMessage
    // belongs to the same loop.
    net::SendStatus send_to(ServerConnection& to);

private:
    struct Variant {
        SharedBuffer* body = nullptr;  // the compressed payload, shared by its recipients
        std::byte header[kMaxFrameHeader];
        uint8_t header_size = 0;
        bool ready = false;       // compressed (or tried) already
        bool compressed = false;  // false: compressing did not help, send the plain frame
    };
    Variant& variant(ServerConnection& to, uint8_t window_bits);

    std::span<const std::byte> header_;
    std::span<const std::byte> payload_;
    net::SharedBytes* owner_;
    Opcode op_;
    Variant variants_[8];  // by the recipient's server window bits, 8..15
};

}  // namespace epws::ws
