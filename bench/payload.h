// bench/payload.h: the bytes the load generator sends, built so that every reply can be checked.
// Layer: bench/. Pure functions of their arguments: no allocation, safe to call per message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "bench/options.h"

namespace epws::bench {

// Echo: the payload of message `seq` on connection `conn`, n bytes of ASCII (valid as text):
// the low hex digits of seq, then of conn, then letters that shift with seq. An echo is
// checked by rebuilding the expected payload and comparing bytes, so a reordered, truncated or
// corrupted echo fails even when its length is right.
// kCompressible (the default) continues with words of a small chat vocabulary, chosen by a
// generator seeded from (conn, seq): text that deflate shrinks several times, as real chat does.
// kRandom continues with generator output: printable ASCII 0x21..0x7e when text (valid UTF-8,
// about 6.6 bits per byte, so deflate gains little), any byte when binary (deflate gains nothing).
void fill_echo_payload(std::byte* out, size_t n, uint32_t conn, uint64_t seq,
                       PayloadKind kind = PayloadKind::kCompressible, bool binary = false);

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
