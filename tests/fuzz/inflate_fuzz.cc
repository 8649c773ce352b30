// tests/fuzz/inflate_fuzz.cc: libFuzzer target for permessage-deflate's bounded inflate
// (ws/deflate Inflater, and Deflater for the round trip). Layer: tests/.
//
// Input: [seed lo][seed hi][flags][limit] then bytes. Two runs per input:
//  1. the bytes as a peer's compressed data, split into random messages inflated one after the
//     other on one stream (context takeover) or on a reset stream, as the glue does with every
//     message the frame reader delivers: output never exceeds the limit, errors are the inflate
//     errors, and the bound is exact (a message that fits in L bytes also fits in exactly its
//     size, and not in one byte less);
//  2. the bytes as plain text, compressed in random messages and inflated back: same bytes.
#include <cstring>
#include <vector>

#include "tests/fuzz/fuzz_common.h"
#include "ws/deflate.h"

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
    return 0;
}
