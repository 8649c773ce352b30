// bench/payload.h: the bytes the load generator sends, built so that every reply can be checked.
// Layer: bench/. Pure functions of their arguments: no allocation, safe to call per message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace epws::bench {

// Echo: the payload of message `seq` on connection `conn`, n bytes of ASCII (valid as text):
// the low hex digits of seq, then of conn, then letters that shift with seq. An echo is
// checked by rebuilding the expected payload and comparing bytes, so a reordered, truncated or
// corrupted echo fails even when its length is right.
void fill_echo_payload(std::byte* out, size_t n, uint32_t conn, uint64_t seq);

// Broadcast: a 40-byte ASCII stamp (publisher, sequence, send time) then filler.
struct Stamp {
    uint32_t publisher = 0;
    uint64_t seq = 0;
    uint64_t sent_ns = 0;
};
constexpr size_t kStampBytes = 40;  // 8 + 16 + 16 hex digits

// Writes the stamp and n - kStampBytes filler bytes; n >= kStampBytes.
void write_stamp(std::byte* out, size_t n, const Stamp& stamp);
// Reads a stamp back; false if the payload is too short, not hex, or the filler is wrong.
bool read_stamp(std::span<const std::byte> payload, Stamp& stamp);

}  // namespace epws::bench
