// tests/fuzz/inflate_fuzz.cc: libFuzzer target for permessage-deflate's bounded inflate
// (ws/deflate Inflater, and Deflater for the round trip). Layer: tests/.
//
// Input: [seed lo][seed hi][flags][limit] then bytes. Three runs per input:
//  1. the bytes as a peer's compressed data, split into random messages inflated one after the
//     other on one stream (context takeover) or on a reset stream, as the glue does with every
//     message the frame reader delivers: output never exceeds the limit, errors are the inflate
//     errors, and the bound is exact (a message that fits in L bytes also fits in exactly its
//     size, and not in one byte less);
//  2. the bytes as plain text, compressed in random messages and inflated back: same bytes;
//  3. the bytes as messages of a peer without context takeover, through the one-shot
//     inflater (ws/one_shot_deflate, libdeflate) beside zlib's: never past the limit, the same
//     bytes where both inflate them; and plain text compressed by the one-shot deflater
//     inflates back through both.
#include <algorithm>
#include <cstring>
#include <vector>

#include "tests/fuzz/fuzz_common.h"
#include "ws/deflate.h"
#include "ws/one_shot_deflate.h"

using namespace epws::ws;

namespace {

std::span<const std::byte> as_bytes(std::span<const uint8_t> s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// One message through a fresh stream with the given limit.
ProtocolError inflate_alone(int window, std::span<const std::byte> in, size_t limit,
                            std::vector<std::byte>& out) {
    Inflater inf;
    FUZZ_CHECK(inf.init(window, nullptr));
    return inf.inflate(in, limit, out, true);
}

void run_hostile(std::span<const std::byte> data, int window, size_t limit, bool takeover,
                 uint64_t seed) {
    Inflater inf;
    FUZZ_CHECK(inf.init(window, nullptr));
    std::vector<std::byte> out;
    size_t off = 0;
    for (size_t chunk : epws::fuzz::random_chunks(data.size(), seed)) {
        const auto msg = data.subspan(off, chunk);
        off += chunk;
        const bool first = off == chunk;
        ProtocolError e = inf.inflate(msg, limit, out, !takeover);
        FUZZ_CHECK(e == ProtocolError::kNone || e == ProtocolError::kBadDeflateData ||
                   e == ProtocolError::kInflateTooBig);
        if (e == ProtocolError::kInflateTooBig) {
            // Stopped as soon as it passed the limit: at most limit + 1 bytes were produced.
            FUZZ_CHECK(out.size() <= limit + 1);
        } else if (e == ProtocolError::kNone) {
            FUZZ_CHECK(out.size() <= limit);
        }
        // Without history (first message, or no context takeover) the limit is exact.
        if (e == ProtocolError::kNone && (first || !takeover)) {
            std::vector<std::byte> again;
            FUZZ_CHECK(inflate_alone(window, msg, out.size(), again) == ProtocolError::kNone);
            FUZZ_CHECK(again == out);
            if (!out.empty())
                FUZZ_CHECK(inflate_alone(window, msg, out.size() - 1, again) ==
                           ProtocolError::kInflateTooBig);
        }
        if (e != ProtocolError::kNone) return;  // the glue closes the connection
    }
}

void run_round_trip(std::span<const std::byte> data, int window, int level, bool takeover,
                    uint64_t seed) {
    Deflater def;
    FUZZ_CHECK(def.init(level, window, 8, nullptr));
    Inflater inf;
    FUZZ_CHECK(inf.init(window, nullptr));
    std::vector<std::byte> packed, out;
    size_t off = 0;
    for (size_t chunk : epws::fuzz::random_chunks(data.size(), seed)) {
        const auto msg = data.subspan(off, chunk);
        off += chunk;
        FUZZ_CHECK(def.compress(msg, packed, !takeover));
        // RFC 7692 §7.2.1: the 00 00 ff ff tail is removed before sending.
        if (packed.size() >= 4)
            FUZZ_CHECK(std::memcmp(packed.data() + packed.size() - 4, kDeflateTail, 4) != 0);
        FUZZ_CHECK(inf.inflate(packed, msg.size(), out, !takeover) == ProtocolError::kNone);
        FUZZ_CHECK(out.size() == msg.size() && std::equal(out.begin(), out.end(), msg.begin()));
    }
}

void run_one_shot(std::span<const std::byte> data, int level, size_t limit, uint64_t seed) {
    OneShotInflater one;
    FUZZ_CHECK(one.init(nullptr));
    OneShotDeflater def;
    FUZZ_CHECK(def.init(level, nullptr));
    std::vector<std::byte> a, b, packed;
    size_t off = 0;
    for (size_t chunk : epws::fuzz::random_chunks(data.size(), seed)) {
        const auto msg = data.subspan(off, chunk);
        off += chunk;
        const ProtocolError ea = one.inflate(msg, limit, a);
        const ProtocolError eb = inflate_alone(15, msg, limit, b);
        FUZZ_CHECK(ea == ProtocolError::kNone || ea == ProtocolError::kBadDeflateData ||
                   ea == ProtocolError::kInflateTooBig);
        if (ea == ProtocolError::kNone) FUZZ_CHECK(a.size() <= limit);
        // Where both accept a message they agree on its bytes as far as both go: a block the
        // sender never ended (no sync flush, which RFC 7692 §7.2.1 always makes) runs on into the
        // bytes appended after the message, which zlib stops reading mid-symbol and libdeflate
        // decodes on. Their verdicts on corrupt data may differ (libdeflate accepts some
        // incomplete Huffman codes zlib refuses), never their bound.
        if (ea == ProtocolError::kNone && eb == ProtocolError::kNone) {
            const auto& shorter = a.size() <= b.size() ? a : b;
            const auto& longer = a.size() <= b.size() ? b : a;
            FUZZ_CHECK(std::equal(shorter.begin(), shorter.end(), longer.begin()));
        }
        FUZZ_CHECK(def.compress(msg, packed));
        FUZZ_CHECK(one.inflate(packed, msg.size(), a) == ProtocolError::kNone);
        FUZZ_CHECK(a.size() == msg.size() && std::equal(a.begin(), a.end(), msg.begin()));
        FUZZ_CHECK(inflate_alone(15, packed, msg.size(), b) == ProtocolError::kNone && b == a);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    epws::fuzz::Input in(data, size);
    const uint16_t seed = in.u16();
    const uint8_t flags = in.byte();
    const uint8_t l = in.byte();
    const int window = 9 + (flags & 7) % 7;  // 9..15: what zlib's raw deflate supports
    const bool takeover = (flags & 8) != 0;
    const int level = (flags >> 4) % 10;
    // Small limits make bombs cheap to find; 255 is the server default.
    const size_t limit = l == 255 ? (16u << 20) : static_cast<size_t>(l) * 64u;
    const auto bytes = as_bytes(in.rest());
    // The inflater must accept any window the peer used, up to its own: use 15 for hostile data.
    run_hostile(bytes, 15, limit, takeover, seed);
    run_hostile(bytes, window, limit, takeover, seed);
    run_round_trip(bytes, window, level, takeover, seed);
    run_one_shot(bytes, level, limit, seed);
    return 0;
}
