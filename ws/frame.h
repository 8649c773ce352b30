// ws/frame.h: RFC 6455 §5 frame codec primitives: header encode/decode, masking, close payloads.
// Layer: ws/. Pure functions of bytes: no I/O, no allocation, no exceptions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ws/error.h"

namespace epws::ws {

// RFC 6455 §5.2 opcodes. 3-7 and 0xB-0xF are reserved; a value read off the wire may still hold
// one of them until the reader has rejected it (the underlying type can represent all 16).
enum class Opcode : uint8_t {
    kContinuation = 0,
    kText = 1,
    kBinary = 2,
    kClose = 8,
    kPing = 9,
    kPong = 10,
};

// RFC 6455 §5.5: control opcodes are those with the high bit of the 4-bit opcode set.
constexpr bool is_control(Opcode op) { return (static_cast<uint8_t>(op) & 0x8u) != 0; }

// True for the six opcodes RFC 6455 defines; false for the reserved ones (§5.2).
constexpr bool is_known_opcode(uint8_t op) { return op <= 2 || (op >= 8 && op <= 10); }

// 2 bytes + 8-byte extended length + 4-byte masking key (RFC 6455 §5.2).
constexpr size_t kMaxFrameHeader = 14;
// RFC 6455 §5.5: every control frame payload is at most 125 bytes.
constexpr size_t kMaxControlPayload = 125;
// A close reason fits after the 2-byte code within a control payload.
constexpr size_t kMaxCloseReason = kMaxControlPayload - 2;

// Network byte order (RFC 6455 §5.2: multibyte lengths are big-endian): the low n bytes of v
// into out, most significant first, and back.
inline void put_be(std::byte* out, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>((v >> (8 * (n - 1 - i))) & 0xFFu);
}
inline uint64_t get_be(const std::byte* p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint64_t>(p[i]);
    return v;
}

// Size in bytes of the header encode_frame_header writes for this length (2..14).
constexpr size_t header_size_for(uint64_t payload_len, bool masked) {
    const size_t ext = payload_len <= 125 ? 0 : payload_len <= 0xFFFF ? 2 : 8;
    return 2 + ext + (masked ? 4 : 0);
}

// Size of a received header, known from its second byte alone (mask bit + 7-bit length).
constexpr size_t header_size_from(std::byte second_byte) {
    const auto b = static_cast<uint8_t>(second_byte);
    const uint8_t len7 = b & 0x7Fu;
    const size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    return 2 + ext + ((b & 0x80u) != 0 ? 4 : 0);
}

// Writes a frame header into out (room for kMaxFrameHeader bytes) with the minimal length
// encoding RFC 6455 §5.2 requires; returns the bytes written (2..14). mask == nullptr writes an
// unmasked header (server to client); otherwise the 4 key bytes follow the length (client to
// server) and the caller masks the payload with apply_mask. Precondition: payload_len < 2^63
// (§5.2: the most significant bit of the 64-bit length MUST be 0). Does not keep any pointer.
size_t encode_frame_header(std::byte* out, Opcode op, uint64_t payload_len, bool fin = true,
                           bool rsv1 = false, const std::byte* mask = nullptr);

// A message framed once for many recipients (a broadcast, a room message): an unmasked final
// frame, header and payload in one buffer, so every recipient is sent the same bytes.
// shared_frame_size() is the buffer's size; encode_shared_frame() fills out (that many bytes)
// and returns the header's length, where the payload starts.
constexpr size_t shared_frame_size(size_t payload_len) {
    return header_size_for(payload_len, false) + payload_len;
}
size_t encode_shared_frame(std::byte* out, Opcode op, std::span<const std::byte> payload);

// A received frame header, as decode_frame_header read it. Field values are not yet judged
// against the connection's state (role, extensions, fragmentation): MessageReader does that.
struct FrameHeader {
    uint64_t payload_len = 0;
    std::byte mask[4] = {};  // valid when masked
    Opcode opcode = Opcode::kContinuation;  // raw 4 bits: may be a reserved value
    uint8_t size = 0;        // header bytes, 2..14
    bool fin = false;
    bool rsv1 = false;
    bool rsv2 = false;
    bool rsv3 = false;
    bool masked = false;
};

// Decodes a complete header: p holds at least header_size_from(p[1]) bytes. Returns kNone and fills
// *out, or kBadLength when the 64-bit length has its top bit set or a length is not in its
// minimal form (RFC 6455 §5.2 "the minimal number of bytes MUST be used"; we are strict on
// receive: no conforming peer sends anything else). Reads only p; keeps no pointer.
ProtocolError decode_frame_header(const std::byte* p, FrameHeader* out);

// XORs data[0..len) in place with the 4-byte key, starting at key byte `phase` (0..3), 8 bytes at
// a time; returns the phase for the byte after the last one, so a payload that arrives in pieces
// is unmasked by chaining calls (RFC 6455 §5.3: octet i is XORed with key[i mod 4]). Masking and
// unmasking are the same operation.
size_t apply_mask(std::byte* data, size_t len, const std::byte key[4], size_t phase = 0);

// Writes a close payload into out (room for kMaxControlPayload bytes): the 2-byte big-endian code
// (RFC 6455 §5.5.1) and the reason, cut at a UTF-8 character boundary so that the whole payload
// fits in 125 bytes; returns its length (2..125). reason must be valid UTF-8. To send a close
// with no status at all, send an empty payload instead.
size_t encode_close_payload(std::byte* out, uint16_t code, std::string_view reason);

// Judges a received, unmasked close payload (RFC 6455 §5.5.1, §7.4): kNone, or kBadCloseLength
// (exactly 1 byte), kBadCloseCode (code not allowed on the wire), kBadCloseReason (not UTF-8).
ProtocolError validate_close_payload(const std::byte* p, size_t n);

// The status code of a received close payload, or 1005 (kNoStatus: RFC 6455 §7.1.5 "no status
// code was actually present") when it is shorter than 2 bytes. Does not validate.
uint16_t close_payload_code(std::span<const std::byte> payload);

}  // namespace epws::ws
