// ws/deflate.h: raw DEFLATE (RFC 1951) for permessage-deflate (RFC 7692 §7.2), over zlib.
// Layer: ws/. Pure codecs: bytes in, bytes out, no I/O. Every zlib return value is checked.
#pragma once

#include "net/counter.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <zlib.h>

#include "ws/error.h"

namespace epws::ws {

// RFC 7692 §7.2.1: a compressed message is a DEFLATE stream flushed with Z_SYNC_FLUSH, minus the
// empty stored block's last four octets, which the receiver puts back before inflating.
inline constexpr std::byte kDeflateTail[4] = {std::byte{0x00}, std::byte{0x00}, std::byte{0xff},
                                              std::byte{0xff}};

// Counts the heap zlib (zalloc/zfree hooks) and libdeflate (ws/one_shot_deflate.cc) hold for the
// streams and one-shot codecs that share one counter, so memory per connection can be reported
// and tests can assert it stays small.
struct ZlibMemory {
    net::Counter bytes;  // read by /stats from any loop
};

// One raw-deflate compressor (deflateInit2 with negative windowBits). Not thread-safe. Holds
// about 2^(window_bits+2) + 2^(mem_level+9) bytes of zlib state once init() succeeded.
class Deflater {
public:
    Deflater() = default;
    ~Deflater();
    Deflater(const Deflater&) = delete;
    Deflater& operator=(const Deflater&) = delete;

    // window_bits 9..15 (zlib cannot do raw 8), mem_level 1..9, level 0..9. memory, if not null,
    // must outlive this object. False (and not ready) if zlib refuses.
    bool init(int level, int window_bits, int mem_level, ZlibMemory* memory);
    bool ready() const { return ready_; }

    // Compresses one whole message into out (cleared first) and removes the trailing
    // 00 00 ff ff (RFC 7692 §7.2.1). reset: forget the LZ77 window afterwards (no context
    // takeover, §7.1.1.1). False if zlib fails; the stream is then reset.
    bool compress(std::span<const std::byte> in, std::vector<std::byte>& out, bool reset);

private:
    z_stream strm_{};
    bool ready_ = false;
};

// One raw-deflate decompressor (inflateInit2 with negative windowBits). Not thread-safe. Holds
// about 2^window_bits + 7 KiB of zlib state once init() succeeded.
class Inflater {
public:
    Inflater() = default;
    ~Inflater();
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;

    // window_bits 8..15 (it must be >= the peer's compressor window). False if zlib refuses.
    bool init(int window_bits, ZlibMemory* memory);
    bool ready() const { return ready_; }

    // Inflates one whole message (RFC 7692 §7.2.2: in + 00 00 ff ff) into out (cleared first).
    // out grows by doubling and never past limit + 1 bytes: as soon as more than `limit` bytes
    // come out, it stops with kInflateTooBig, so a small bomb costs at most limit + 1 bytes.
    // Corrupt data is kBadDeflateData, and so are bytes after a final block other than the one
    // 0x00 of RFC 7692 §7.2.3.4; a zlib failure (out of memory) is kDeflateFailed. reset:
    // forget the window afterwards (the peer uses no context takeover). After an error the
    // stream is reset, ready for nothing but the connection's close.
    ProtocolError inflate(std::span<const std::byte> in, size_t limit, std::vector<std::byte>& out,
                          bool reset);

private:
    ProtocolError feed(std::span<const std::byte> in, size_t limit, std::vector<std::byte>& out,
                       size_t& used, bool& ended);
    bool restart_keeping_window();

    z_stream strm_{};
    uint8_t window_bits_ = 15;
    bool ready_ = false;
};

} // namespace epws::ws
