// ws/one_shot_deflate.h: whole-message raw DEFLATE for permessage-deflate without context
// takeover (RFC 7692 §7.1.1), over libdeflate. Layer: ws/. Pure codecs: bytes in, bytes out.
//
// A message compressed from an empty window, and one the peer compressed from an empty window,
// need no stream state between messages: libdeflate compresses and decompresses such a buffer
// in one call, two to three times faster than zlib's streaming API at the same level. zlib
// (ws/deflate.h) stays for context takeover, where the window carries over.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "ws/error.h"

struct libdeflate_compressor;
struct libdeflate_decompressor;

namespace epws::ws {

struct ZlibMemory;

// One libdeflate compressor at one level. Not thread-safe (one per loop). Holds its match
// finder's tables (a few hundred KiB at level 6) once init() succeeded.
class OneShotDeflater {
public:
    OneShotDeflater() = default;
    ~OneShotDeflater();
    OneShotDeflater(const OneShotDeflater&) = delete;
    OneShotDeflater& operator=(const OneShotDeflater&) = delete;

    // level 0..9, the zlib scale (libdeflate's 0..9 compress at least as well). What it holds
    // is counted in memory (if not null; it must outlive this object, like a zlib stream's
    // counter). False if libdeflate cannot allocate.
    bool init(int level, ZlibMemory* memory);
    bool ready() const { return c_ != nullptr; }

    // Whether compress() may serve a compressor window of 2^window_bits bytes: libdeflate looks
    // back up to 32 KiB, so a smaller window is honoured only by a message no longer than it
    // (no match can reach further back than the message's own start).
    static bool fits_window(size_t message_size, int window_bits);

    // Compresses one whole message into out (cleared first), as RFC 7692 §7.2.1 asks: the
    // DEFLATE data ends in a final block (BFINAL = 1), after which an empty stored block is
    // appended and its last four octets removed, which leaves one 0x00 (the §7.2.3.4 example).
    // False if libdeflate fails.
    bool compress(std::span<const std::byte> in, std::vector<std::byte>& out);

private:
    libdeflate_compressor* c_ = nullptr;
};

// One libdeflate decompressor. Not thread-safe (one per loop). About 10 KiB once init()
// succeeded.
class OneShotInflater {
public:
    OneShotInflater() = default;
    ~OneShotInflater();
    OneShotInflater(const OneShotInflater&) = delete;
    OneShotInflater& operator=(const OneShotInflater&) = delete;

    // memory: as for OneShotDeflater::init.
    bool init(ZlibMemory* memory);
    bool ready() const { return d_ != nullptr; }

    // Inflates one whole message a peer compressed from an empty window (RFC 7692 §7.2.2: in +
    // 00 00 ff ff) into out (cleared first), with the same results as ws::Inflater::inflate:
    // out never grows past limit + 1 bytes (more is kInflateTooBig: libdeflate needs the room
    // up front, so it is tried in a buffer that doubles up to that bound), corrupt data and
    // bytes after a final block other than §7.2.3.4's one 0x00 are kBadDeflateData.
    ProtocolError inflate(std::span<const std::byte> in, size_t limit, std::vector<std::byte>& out);

private:
    libdeflate_decompressor* d_ = nullptr;
    std::vector<std::byte> input_;  // in + the tails: libdeflate wants one buffer
};

} // namespace epws::ws
