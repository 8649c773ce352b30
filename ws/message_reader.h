// ws/message_reader.h: the streaming, validating RFC 6455 frame reader of one connection.
// Layer: ws/. A pure codec: takes the bytes the glue has read, emits messages and control frames
// to a MessageSink, reports the first protocol error. No I/O, no exceptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "ws/error.h"
#include "ws/frame.h"
#include "ws/utf8.h"

namespace epws::ws {

// Which side of the connection reads. kServer reads a client's frames, which MUST be masked
// (RFC 6455 §5.1); kClient reads a server's frames, which MUST NOT be.
enum class Role : uint8_t { kServer, kClient };

// Limits on what a peer may make the reader hold. One per server, shared by every reader.
struct ReaderLimits {
    // Largest message (sum of its frames' payloads, as sent: compressed if compressed) -> 1009.
    uint64_t max_message_bytes = 16u << 20;
    // Most data frames in one message -> 1009. Stops a flood of empty continuations.
    uint32_t max_fragments = 1u << 20;
};

// Where a MessageReader delivers what it reads; implemented by the connection glue.
class MessageSink {
public:
    virtual ~MessageSink() = default;
    // A complete data message (op is kText or kBinary). payload is valid only during the call: it
    // points either into the caller's buffer (unmasked in place) or into memory the reader frees
    // right after the call. The sink may modify it in place (e.g. to inflate from it). compressed:
    // RSV1 was set on the message's first frame (only possible after set_rsv1_allowed(true));
    // compressed text is NOT UTF-8-checked here: the inflating caller must check it. Return false
    // to make read() return at once (the message counts as consumed).
    virtual bool on_message(Opcode op, std::span<std::byte> payload, bool compressed) = 0;
    // A complete control frame (kPing, kPong, kClose), unmasked, at most 125 bytes, valid only
    // during the call. A close payload has been validated (length != 1, a code allowed by
    // is_valid_wire_close_code, a UTF-8 reason). Return false to make read() return at once (the
    // glue does so after a close); the frame counts as consumed.
    virtual bool on_control(Opcode op, std::span<std::byte> payload) = 0;
};

// consumed: bytes of data used up. error: kNone, or the first protocol error; the caller then
// closes with close_code(error) and reads no more (consumed and the data are then unspecified).
struct ReadResult {
    size_t consumed;
    ProtocolError error;
};

// Reads the frames of one connection, in order, across any number of read() calls. Enforces
// RFC 6455 §5 framing, §5.4 fragmentation, §5.5 control frames, §8.1 UTF-8 text and the limits.
// Not thread-safe: one per connection, used by its loop thread only. Not reentrant: do not call
// read() from inside the sink. Holds no heap memory between messages.
class MessageReader {
public:
    // limits is not owned and must outlive the reader (one ReaderLimits per server).
    MessageReader(Role role, const ReaderLimits* limits)
        : limits_(limits), server_(role == Role::kServer) {}
    ~MessageReader() { std::free(buffer_); }
    MessageReader(const MessageReader&) = delete;
    MessageReader& operator=(const MessageReader&) = delete;

    // Consumes as much of data as it can, delivering each complete message and control frame to
    // sink. data is mutable: masked payloads are unmasked in place. Bytes not consumed are at
    // most a partial frame header (< 14 bytes) or a partial control frame (< 6 + 125 bytes);
    // offer them again at the front of the next call, with more bytes appended. A data frame's
    // payload that is only partly present IS consumed (unmasked, checked and appended to the
    // assembly buffer), so the caller never has to keep a large message. Fast path: a complete,
    // unfragmented data frame wholly inside data is delivered from data itself, with no copy and
    // no allocation. Returns at the first error, when the sink returns false, or when data is
    // used up. Text is UTF-8-checked as it arrives, so an invalid byte fails the read that
    // brings it, even mid-frame (Autobahn 6.4.x).
    ReadResult read(std::span<std::byte> data, MessageSink& sink);

    // permessage-deflate was negotiated: RSV1 may mark the first frame of a data message as
    // compressed (RFC 7692 §6); on continuation or control frames it stays an error.
    void set_rsv1_allowed(bool allowed) { rsv1_allowed_ = allowed; }

    // Payload bytes held in the assembly buffer for the message in progress (0 between messages).
    size_t buffered_bytes() const { return buffer_ ? buffer_->size : 0; }
    // Heap bytes the assembly buffer holds (>= buffered_bytes(); 0 between messages): use this
    // one for memory accounting.
    size_t buffered_capacity() const { return buffer_ ? buffer_->cap : 0; }

private:
    enum class Step : uint8_t { kNext, kNeedMore, kStopped, kFailed };
    // The assembly buffer: one malloc'd block, this header then cap payload bytes, so that an
    // idle reader holds one null pointer rather than an empty vector's three words.
    struct Assembly {
        size_t size;
        size_t cap;
        std::byte* bytes() { return reinterpret_cast<std::byte*>(this + 1); }
    };
    bool append(const std::byte* p, size_t n);

    ProtocolError check_frame_start(std::byte b0, std::byte b1) const;
    ProtocolError check_data_frame(const FrameHeader& h) const;
    Step read_frame(std::span<std::byte> data, size_t& pos, MessageSink& sink, ProtocolError& err);
    Step read_control(std::span<std::byte> data, size_t& pos, const FrameHeader& h,
                      MessageSink& sink, ProtocolError& err);
    Step read_whole_frame(std::span<std::byte> data, size_t& pos, const FrameHeader& h,
                          MessageSink& sink, ProtocolError& err);
    void begin_frame(const FrameHeader& h);
    Step read_payload(std::span<std::byte> data, size_t& pos, MessageSink& sink,
                      ProtocolError& err);
    Step finish_message(MessageSink& sink, ProtocolError& err);
    bool checks_text() const { return message_op_ == Opcode::kText && !compressed_; }

    // Kept small (static_assert in message_reader.cc): there is one per connection.
    const ReaderLimits* limits_;
    Assembly* buffer_ = nullptr;     // the fragmented or partly received message; freed after it
    uint64_t remaining_ = 0;         // payload bytes of the current data frame still to come
    uint32_t fragments_ = 0;         // data frames of the message in progress so far
    std::byte mask_[4] = {};         // the current data frame's masking key
    Utf8Validator utf8_;             // across the frames of the text message in progress
    Opcode message_op_ = Opcode::kContinuation;  // kText/kBinary while a message is open
    uint8_t phase_ = 0;              // mask phase of the next payload byte
    bool in_message_ = false;        // a message has begun and its FIN frame has not ended
    bool in_payload_ = false;        // inside a data frame's payload (remaining_ may be 0)
    bool frame_fin_ = false;         // the current data frame ends its message
    bool masked_ = false;            // the current data frame is masked
    // Three flags in one byte, which keeps the reader at 40 bytes.
    bool server_ : 1;                // Role::kServer (reads a client's frames)
    bool rsv1_allowed_ : 1 = false;
    bool compressed_ : 1 = false;    // RSV1 on the first frame of the message in progress
};

}  // namespace epws::ws
