// tests/fuzz/trace_fuzz.cc: libFuzzer target for ws/trace, the annotator behind epws-cat --trace,
// which reads both directions of a connection, any bytes a peer sends. Layer: tests/.
//
// Input: [seed lo][seed hi][flags][split] then the data, cut at `split` percent into the
// client's bytes and the server's. flags bit 0: put a valid upgrade request and 101 in front
// (so the frame paths are reached); bit 1: that 101 agrees permessage-deflate; bits 2-3: small
// limits (head, frame, inflated) to reach the oversized paths. The account must be the same
// whether each direction is fed whole, in random chunks or byte by byte (client's first, then the
// server's, as a connection orders them), once finish() has shown what was left; ASan and UBSan
// watch every access.
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_common.h"
#include "ws/trace.h"

using namespace epws::ws;
using epws::fuzz::ExactBuffer;

namespace {

std::string account(const std::vector<uint8_t>& up, const std::vector<uint8_t>& down,
                    const TraceLimits& limits, const std::vector<size_t>& up_chunks,
                    const std::vector<size_t>& down_chunks) {
    TraceAnnotator t(limits);
    std::string out;
    auto feed = [&](TraceDirection d, const std::vector<uint8_t>& bytes,
                    const std::vector<size_t>& chunks) {
        size_t at = 0;
        for (size_t c : chunks) {
            ExactBuffer piece(c);  // exactly c bytes: a read past them is an ASan report
            for (size_t i = 0; i < c; ++i) piece.data()[i] = static_cast<std::byte>(bytes[at + i]);
            t.feed(d, piece.span(), out);
            at += c;
        }
    };
    feed(TraceDirection::kClientToServer, up, up_chunks);
    feed(TraceDirection::kServerToClient, down, down_chunks);
    t.finish(out);
    FUZZ_CHECK(2 * t.frames() <= up.size() + down.size());  // a frame is at least 2 bytes
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    epws::fuzz::Input in(data, size);
    uint64_t seed = in.u16();
    uint8_t flags = in.byte();
    uint8_t split = in.byte();
    auto rest = in.rest();
    size_t cut = rest.size() * (split % 101) / 100;
    std::vector<uint8_t> up, down;
    if (flags & 1) {
        const std::string req =
            "GET /echo HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        std::string resp =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
        if (flags & 2) resp += "Sec-WebSocket-Extensions: permessage-deflate\r\n";
        resp += "\r\n";
        up.assign(req.begin(), req.end());
        down.assign(resp.begin(), resp.end());
    }
    up.insert(up.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(cut));
    down.insert(down.end(), rest.begin() + static_cast<std::ptrdiff_t>(cut), rest.end());
    TraceLimits limits;
    if (flags & 4) limits.max_frame_bytes = 64;
    if (flags & 8) limits.max_head_bytes = 200, limits.max_inflated_bytes = 100;
    limits.max_shown_bytes = 32;

    std::string whole = account(up, down, limits, epws::fuzz::whole(up.size()),
                                epws::fuzz::whole(down.size()));
    FUZZ_CHECK(account(up, down, limits, epws::fuzz::random_chunks(up.size(), seed),
                       epws::fuzz::random_chunks(down.size(), seed + 1)) == whole);
    if (up.size() + down.size() <= 4096)
        FUZZ_CHECK(account(up, down, limits, epws::fuzz::byte_by_byte(up.size()),
                           epws::fuzz::byte_by_byte(down.size())) == whole);
    return 0;
}
