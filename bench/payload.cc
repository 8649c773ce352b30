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

// splitmix64: a well-mixed seed from (conn, seq), then xorshift64 for the stream.
uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return (x ^ (x >> 31)) | 1;
}

uint64_t next(uint64_t& s) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

// 32 words: about 5 bits of choice per word, so a message compresses like chat text does.
constexpr const char* kWords[32] = {
    "the ",   "room ",   "hello ",  "message ", "ok ",    "thanks ", "see ",   "you ",
    "later ", "deploy ", "build ",  "test ",    "passed ", "failed ", "lunch ", "today ",
    "I ",     "think ",  "we ",     "should ",  "ship ",  "it ",     "now ",   "maybe ",
    "what ",  "about ",  "the ",    "bug ",     "in ",    "chat ",   "fixed ", "great ",
};

void fill_words(std::byte* out, size_t n, uint64_t state) {
    size_t i = 0;
    while (i < n) {
        const char* w = kWords[next(state) & 31];
        for (; *w != '\0' && i < n; ++w) out[i++] = static_cast<std::byte>(*w);
    }
}

void fill_random(std::byte* out, size_t n, uint64_t state, bool binary) {
    for (size_t i = 0; i < n;) {
        uint64_t r = next(state);
        for (int k = 0; k < 8 && i < n; ++k, r >>= 8) {
            auto b = static_cast<uint8_t>(r);
            out[i++] = static_cast<std::byte>(binary ? b : 0x21 + b % 94);
        }
    }
}

}  // namespace

void fill_echo_payload(std::byte* out, size_t n, uint32_t conn, uint64_t seq, PayloadKind kind,
                       bool binary) {
    size_t seq_digits = n < 16 ? n : 16;
    put_hex(out, seq_digits, seq);
    size_t conn_digits = n - seq_digits < 8 ? n - seq_digits : 8;
    put_hex(out + seq_digits, conn_digits, conn);
    size_t head = seq_digits + conn_digits;
    uint64_t state = mix(seq * 0x100000001b3u ^ conn);
    if (kind == PayloadKind::kRandom) fill_random(out + head, n - head, state, binary);
    else fill_words(out + head, n - head, state);
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
