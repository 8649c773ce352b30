// bench/payload.cc: hex stamps and echo patterns. Layer: bench/.
#include "bench/payload.h"

namespace epws::bench {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Writes the `digits` lowest hex digits of v, most significant first.
void put_hex(std::byte* out, size_t digits, uint64_t v) {
    for (size_t i = digits; i-- > 0; v >>= 4) out[i] = static_cast<std::byte>(kHex[v & 0xF]);
}

bool get_hex(const std::byte* in, size_t digits, uint64_t& v) {
    v = 0;
    for (size_t i = 0; i < digits; ++i) {
        auto c = static_cast<char>(in[i]);
        uint64_t d = 0;
        if (c >= '0' && c <= '9') d = uint64_t(c - '0');
        else if (c >= 'a' && c <= 'f') d = uint64_t(c - 'a' + 10);
        else return false;
        v = v << 4 | d;
    }
    return true;
}

std::byte filler(size_t i, uint64_t seed) { return static_cast<std::byte>('a' + (i + seed) % 26); }

}  // namespace

void fill_echo_payload(std::byte* out, size_t n, uint32_t conn, uint64_t seq) {
    size_t seq_digits = n < 16 ? n : 16;
    put_hex(out, seq_digits, seq);
    size_t conn_digits = n - seq_digits < 8 ? n - seq_digits : 8;
    put_hex(out + seq_digits, conn_digits, conn);
    for (size_t i = seq_digits + conn_digits; i < n; ++i) out[i] = filler(i, seq);
}

void write_stamp(std::byte* out, size_t n, const Stamp& s) {
    put_hex(out, 8, s.publisher);
    put_hex(out + 8, 16, s.seq);
    put_hex(out + 24, 16, s.sent_ns);
    for (size_t i = kStampBytes; i < n; ++i) out[i] = filler(i, s.seq);
}

bool read_stamp(std::span<const std::byte> p, Stamp& s) {
    if (p.size() < kStampBytes) return false;
    uint64_t pub = 0;
    if (!get_hex(p.data(), 8, pub) || !get_hex(p.data() + 8, 16, s.seq) ||
        !get_hex(p.data() + 24, 16, s.sent_ns))
        return false;
    s.publisher = static_cast<uint32_t>(pub);
    for (size_t i = kStampBytes; i < p.size(); ++i)
        if (p[i] != filler(i, s.seq)) return false;
    return true;
}

}  // namespace epws::bench
