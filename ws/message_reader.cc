// ws/message_reader.cc: RFC 6455 frame stream -> validated messages and control frames.
// Layer: ws/. Every protocol check cites the RFC rule it enforces.
#include "ws/message_reader.h"

#include <cstring>
#include <memory>

namespace epws::ws {

// One per connection: 10k idle connections should cost kilobytes, not megabytes.
static_assert(sizeof(MessageReader) <= 40, "MessageReader lives in every connection; keep it small");

ReadResult MessageReader::read(std::span<std::byte> data, MessageSink& sink) {
    size_t pos = 0;
    ProtocolError err = ProtocolError::kNone;
    Step step = Step::kNext;
    while (step == Step::kNext) {
        step = in_payload_ ? read_payload(data, pos, sink, err) : read_frame(data, pos, sink, err);
    }
    return {pos, err};
}

// The checks the first two header bytes are enough for, made before waiting for the rest, so a
// bad frame fails as early as possible.
ProtocolError MessageReader::check_frame_start(std::byte b0, std::byte b1) const {
    const auto op = static_cast<uint8_t>(b0 & std::byte{0x0F});
    const bool fin = (b0 & std::byte{0x80}) != std::byte{0};
    const bool rsv1 = (b0 & std::byte{0x40}) != std::byte{0};
    const bool rsv23 = (b0 & std::byte{0x30}) != std::byte{0};
    const bool masked = (b1 & std::byte{0x80}) != std::byte{0};
    const auto len7 = static_cast<uint8_t>(b1 & std::byte{0x7F});
    // RFC 6455 §5.2: a reserved opcode MUST fail the connection.
    if (!is_known_opcode(op)) return ProtocolError::kReservedOpcode;
    // RFC 6455 §5.2: RSV1-3 MUST be 0 unless an extension gives them a meaning. RFC 7692 §6:
    // permessage-deflate gives RSV1 one, on the first frame of a data message only (§6.1: never
    // on control frames or continuation frames). RSV2 and RSV3 have no meaning here.
    if (rsv23) return ProtocolError::kReservedBits;
    const auto opcode = static_cast<Opcode>(op);
    if (rsv1 && !(rsv1_allowed_ && (opcode == Opcode::kText || opcode == Opcode::kBinary))) {
        return ProtocolError::kReservedBits;
    }
    // RFC 6455 §5.1: a server MUST close on an unmasked client frame; a client on a masked one.
    if (server_ && !masked) return ProtocolError::kUnmaskedClientFrame;
    if (!server_ && masked) return ProtocolError::kMaskedServerFrame;
    if (is_control(opcode)) {
        // RFC 6455 §5.5: control frames MUST NOT be fragmented.
        if (!fin) return ProtocolError::kControlFragmented;
        // RFC 6455 §5.5: control payloads are at most 125 bytes (126/127 announce a longer one).
        if (len7 > kMaxControlPayload) return ProtocolError::kControlTooLong;
    }
    return ProtocolError::kNone;
}

ProtocolError MessageReader::check_data_frame(const FrameHeader& h) const {
    // RFC 6455 §5.4: a continuation frame only continues a message whose FIN has not been seen.
    if (h.opcode == Opcode::kContinuation) {
        if (!in_message_) return ProtocolError::kUnexpectedContinuation;
    } else if (in_message_) {
        // RFC 6455 §5.4: fragments of one message are not interleaved with another message.
        return ProtocolError::kExpectedContinuation;
    }
    // Limits (RFC 6455 §10.4): decided from the header, before a byte of the payload is kept.
    const uint64_t held = buffered_bytes();
    const uint64_t max = limits_->max_message_bytes;
    if (held > max || h.payload_len > max - held) return ProtocolError::kMessageTooBig;
    if (fragments_ >= limits_->max_fragments) return ProtocolError::kTooManyFragments;
    return ProtocolError::kNone;
}

MessageReader::Step MessageReader::read_frame(std::span<std::byte> data, size_t& pos,
                                              MessageSink& sink, ProtocolError& err) {
    const size_t avail = data.size() - pos;
    if (avail < 2) return Step::kNeedMore;
    const std::byte* p = data.data() + pos;
    err = check_frame_start(p[0], p[1]);
    if (err != ProtocolError::kNone) return Step::kFailed;
    if (avail < header_size_from(p[1])) return Step::kNeedMore;
    FrameHeader h;
    err = decode_frame_header(p, &h);
    if (err != ProtocolError::kNone) return Step::kFailed;
    if (is_control(h.opcode)) return read_control(data, pos, h, sink, err);
    err = check_data_frame(h);
    if (err != ProtocolError::kNone) return Step::kFailed;
    if (!in_message_ && h.fin && h.payload_len <= avail - h.size) {
        return read_whole_frame(data, pos, h, sink, err);
    }
    begin_frame(h);
    pos += h.size;
    return Step::kNext;
}

// A control frame is handled only once it is wholly present (at most 6 + 125 bytes), so the sink
// always gets it in one piece; until then its bytes stay unconsumed and untouched.
MessageReader::Step MessageReader::read_control(std::span<std::byte> data, size_t& pos,
                                                const FrameHeader& h, MessageSink& sink,
                                                ProtocolError& err) {
    const auto len = static_cast<size_t>(h.payload_len);  // <= 125, checked from byte 1
    if (data.size() - pos < h.size + len) return Step::kNeedMore;
    std::byte* payload = data.data() + pos + h.size;
    if (h.masked) apply_mask(payload, len, h.mask);
    if (h.opcode == Opcode::kClose) {
        err = validate_close_payload(payload, len);
        if (err != ProtocolError::kNone) return Step::kFailed;
    }
    // RFC 6455 §5.4: control frames MAY be injected between the fragments of a message; the
    // message in progress (buffer_, utf8_, remaining state) is left as it is.
    pos += h.size + len;
    return sink.on_control(h.opcode, {payload, len}) ? Step::kNext : Step::kStopped;
}

// Fast path: an unfragmented data frame wholly inside data is checked and delivered in place.
MessageReader::Step MessageReader::read_whole_frame(std::span<std::byte> data, size_t& pos,
                                                    const FrameHeader& h, MessageSink& sink,
                                                    ProtocolError& err) {
    const auto len = static_cast<size_t>(h.payload_len);  // <= data.size(), so it fits
    std::byte* payload = data.data() + pos + h.size;
    if (h.masked) apply_mask(payload, len, h.mask);
    // RFC 6455 §8.1: text MUST be UTF-8. Compressed text is checked after inflating (RFC 7692).
    if (h.opcode == Opcode::kText && !h.rsv1 && !is_valid_utf8(payload, len)) {
        err = ProtocolError::kInvalidUtf8;
        return Step::kFailed;
    }
    pos += h.size + len;
    return sink.on_message(h.opcode, {payload, len}, h.rsv1) ? Step::kNext : Step::kStopped;
}

void MessageReader::begin_frame(const FrameHeader& h) {
    if (!in_message_) {
        in_message_ = true;
        message_op_ = h.opcode;
        compressed_ = h.rsv1;  // RFC 7692 §6.1: the first frame's RSV1 marks the whole message
        utf8_.reset();
    }
    ++fragments_;
    remaining_ = h.payload_len;
    std::memcpy(mask_, h.mask, sizeof mask_);
    masked_ = h.masked;
    phase_ = 0;
    frame_fin_ = h.fin;
    in_payload_ = true;
}

// Takes what is present of the current data frame's payload into the assembly buffer.
MessageReader::Step MessageReader::read_payload(std::span<std::byte> data, size_t& pos,
                                                MessageSink& sink, ProtocolError& err) {
    const size_t avail = data.size() - pos;
    const size_t take = remaining_ < avail ? static_cast<size_t>(remaining_) : avail;
    if (take == 0 && remaining_ != 0) return Step::kNeedMore;
    std::byte* p = data.data() + pos;
    if (masked_) phase_ = static_cast<uint8_t>(apply_mask(p, take, mask_, phase_));
    // RFC 6455 §8.1 + Autobahn 6.4.x: fail on the first invalid byte, not at the end of the frame.
    if (checks_text() && !utf8_.feed(p, take)) {
        err = ProtocolError::kInvalidUtf8;
        return Step::kFailed;
    }
    if (take != 0 && !append(p, take)) {
        err = ProtocolError::kMessageTooBig;  // no memory to hold it: refused like one too big
        return Step::kFailed;
    }
    pos += take;
    remaining_ -= take;
    if (remaining_ != 0) return Step::kNeedMore;
    in_payload_ = false;
    return frame_fin_ ? finish_message(sink, err) : Step::kNext;
}

// Grows by doubling (at least 256 bytes), as the vector it replaces did; never past what the
// limits allow, since check_data_frame refused any frame that would take the message over.
bool MessageReader::append(const std::byte* p, size_t n) {
    size_t size = buffered_bytes();
    if (buffer_ == nullptr || buffer_->cap - size < n) {
        size_t cap = buffer_ ? buffer_->cap * 2 : 256;
        if (cap < size + n) cap = size + n;
        auto* grown = static_cast<Assembly*>(std::realloc(buffer_, sizeof(Assembly) + cap));
        if (grown == nullptr) return false;  // buffer_ is still valid and freed with the reader
        grown->size = size;
        grown->cap = cap;
        buffer_ = grown;
    }
    std::memcpy(buffer_->bytes() + size, p, n);
    buffer_->size = size + n;
    return true;
}

MessageReader::Step MessageReader::finish_message(MessageSink& sink, ProtocolError& err) {
    // RFC 6455 §8.1: a character cut off by the end of the message makes the text invalid.
    if (checks_text() && !utf8_.complete()) {
        err = ProtocolError::kInvalidUtf8;
        return Step::kFailed;
    }
    // Move the message out so that the reader is ready for the next one whatever the sink does,
    // and so that its heap is freed when this call returns: an idle connection holds none.
    std::unique_ptr<Assembly, decltype(&std::free)> message(buffer_, &std::free);
    buffer_ = nullptr;
    const Opcode op = message_op_;
    const bool compressed = compressed_;
    in_message_ = false;
    message_op_ = Opcode::kContinuation;
    compressed_ = false;
    fragments_ = 0;
    utf8_.reset();
    // An empty message (fragments that carried no payload) never allocated: hand the sink a
    // real pointer anyway, since memcpy and friends may not be given a null one.
    static std::byte empty[1];
    std::span<std::byte> payload = message && message->size != 0
                                       ? std::span<std::byte>(message->bytes(), message->size)
                                       : std::span<std::byte>(empty, 0);
    return sink.on_message(op, payload, compressed) ? Step::kNext : Step::kStopped;
}

}  // namespace epws::ws
