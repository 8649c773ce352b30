// ws/frame.cc: RFC 6455 §5 frame header codec, masking and close payloads.
// Layer: ws/. Pure functions of bytes.
#include "ws/frame.h"

#include <bit>
#include <cstring>

#include "ws/utf8.h"

namespace epws::ws {
namespace {

constexpr std::byte to_byte(uint64_t v) { return static_cast<std::byte>(v & 0xFFu); }

}  // namespace

size_t encode_frame_header(std::byte* out, Opcode op, uint64_t payload_len, bool fin, bool rsv1,
                           const std::byte* mask) {
    out[0] = static_cast<std::byte>((fin ? 0x80u : 0u) | (rsv1 ? 0x40u : 0u) |
                                    static_cast<uint8_t>(op));
    const std::byte mask_bit = mask != nullptr ? std::byte{0x80} : std::byte{0};
    size_t n = 2;
    // RFC 6455 §5.2: 0-125 in the 7-bit field, 126 + 16 bits up to 65535, else 127 + 64 bits.
    if (payload_len <= 125) {
        out[1] = mask_bit | to_byte(payload_len);
    } else if (payload_len <= 0xFFFF) {
        out[1] = mask_bit | std::byte{126};
        put_be(out + 2, payload_len, 2);
        n = 4;
    } else {
        out[1] = mask_bit | std::byte{127};
        put_be(out + 2, payload_len, 8);
        n = 10;
    }
    if (mask != nullptr) {
        std::memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}

size_t encode_shared_frame(std::byte* out, Opcode op, std::span<const std::byte> payload) {
    size_t h = encode_frame_header(out, op, payload.size());
    if (!payload.empty()) std::memcpy(out + h, payload.data(), payload.size());
    return h;
}

ProtocolError decode_frame_header(const std::byte* p, FrameHeader* out) {
    const auto b0 = static_cast<uint8_t>(p[0]);
    const auto b1 = static_cast<uint8_t>(p[1]);
    FrameHeader h;
    h.fin = (b0 & 0x80u) != 0;
    h.rsv1 = (b0 & 0x40u) != 0;
    h.rsv2 = (b0 & 0x20u) != 0;
    h.rsv3 = (b0 & 0x10u) != 0;
    h.opcode = static_cast<Opcode>(b0 & 0x0Fu);
    h.masked = (b1 & 0x80u) != 0;
    h.size = static_cast<uint8_t>(header_size_from(p[1]));
    const uint8_t len7 = b1 & 0x7Fu;
    size_t at = 2;
    if (len7 == 126) {
        h.payload_len = get_be(p + 2, 2);
        at = 4;
        // RFC 6455 §5.2: the minimal number of bytes MUST be used; 0-125 belong in 7 bits.
        if (h.payload_len <= 125) return ProtocolError::kBadLength;
    } else if (len7 == 127) {
        h.payload_len = get_be(p + 2, 8);
        at = 10;
        // RFC 6455 §5.2: the most significant bit MUST be 0.
        if ((h.payload_len >> 63) != 0) return ProtocolError::kBadLength;
        // RFC 6455 §5.2: minimal encoding; up to 65535 belongs in 16 bits.
        if (h.payload_len <= 0xFFFF) return ProtocolError::kBadLength;
    } else {
        h.payload_len = len7;
    }
    if (h.masked) std::memcpy(h.mask, p + at, 4);
    *out = h;
    return ProtocolError::kNone;
}

size_t apply_mask(std::byte* data, size_t len, const std::byte key[4], size_t phase) {
    phase &= 3;
    // The key as 4 bytes in memory order starting at `phase` (a rotation of its 32-bit load:
    // memory order is little-endian on every target we build for), then twice that for 8-byte
    // words. memcpy in and out is how to touch unaligned bytes without aliasing UB (compilers
    // emit one load and one store).
    static_assert(std::endian::native == std::endian::little);
    uint32_t k32 = 0;
    std::memcpy(&k32, key, 4);
    k32 = std::rotr(k32, static_cast<int>(8 * phase));
    const uint64_t k64 = (static_cast<uint64_t>(k32) << 32) | k32;
    size_t i = 0;
    for (; len - i >= 8; i += 8) {
        uint64_t word = 0;
        std::memcpy(&word, data + i, 8);
        word ^= k64;
        std::memcpy(data + i, &word, 8);
    }
    if (len - i >= 4) {
        uint32_t word = 0;
        std::memcpy(&word, data + i, 4);
        word ^= k32;
        std::memcpy(data + i, &word, 4);
        i += 4;
    }
    for (size_t k = 0; i < len; ++i, ++k) data[i] ^= static_cast<std::byte>((k32 >> (8 * k)) & 0xFFu);
    return (phase + len) & 3;
}

size_t encode_close_payload(std::byte* out, uint16_t code, std::string_view reason) {
    put_be(out, code, 2);
    size_t cut = reason.size();
    if (cut > kMaxCloseReason) {
        // RFC 6455 §5.5.1: the reason is UTF-8; back off over continuation bytes (10xxxxxx) so
        // the cut lands before a lead byte and never splits a character.
        cut = kMaxCloseReason;
        while (cut > 0 && (static_cast<uint8_t>(reason[cut]) & 0xC0u) == 0x80u) --cut;
    }
    if (cut != 0) std::memcpy(out + 2, reason.data(), cut);
    return 2 + cut;
}

ProtocolError validate_close_payload(const std::byte* p, size_t n) {
    // RFC 6455 §5.5.1: a close body, if present, starts with a 2-byte code; 1 byte cannot be one.
    if (n == 0) return ProtocolError::kNone;
    if (n == 1) return ProtocolError::kBadCloseLength;
    // RFC 6455 §7.4.1/§7.4.2: reserved and unassigned codes MUST NOT appear on the wire.
    if (!is_valid_wire_close_code(static_cast<uint32_t>(get_be(p, 2)))) {
        return ProtocolError::kBadCloseCode;
    }
    // RFC 6455 §5.5.1: the reason is UTF-8; §8.1: invalid UTF-8 fails the connection (1007).
    if (!is_valid_utf8(p + 2, n - 2)) return ProtocolError::kBadCloseReason;
    return ProtocolError::kNone;
}

uint16_t close_payload_code(std::span<const std::byte> payload) {
    if (payload.size() < 2) return static_cast<uint16_t>(CloseCode::kNoStatus);
    return static_cast<uint16_t>(get_be(payload.data(), 2));
}

}  // namespace epws::ws
