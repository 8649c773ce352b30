// ws/deflate.cc: raw DEFLATE compress/inflate of whole messages for permessage-deflate.
// Layer: ws/. RFC 7692 §7.2; every zlib return value is checked.
#include "ws/deflate.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace epws::ws {
namespace {

// A small header in front of each zlib allocation remembers its size for the counter; 16 keeps
// malloc's alignment.
constexpr size_t kAllocHeader = 16;
// First output chunk of an inflate; then doubling, capped at limit + 1.
constexpr size_t kFirstInflateChunk = 4096;

voidpf zlib_alloc(voidpf opaque, uInt items, uInt size) {
    const size_t n = static_cast<size_t>(items) * size;
    auto* p = static_cast<unsigned char*>(std::malloc(n + kAllocHeader));
    if (p == nullptr) return Z_NULL;
    std::memcpy(p, &n, sizeof n);
    if (opaque != Z_NULL) static_cast<ZlibMemory*>(opaque)->bytes += n;
    return p + kAllocHeader;
}

void zlib_free(voidpf opaque, voidpf address) {
    if (address == Z_NULL) return;
    auto* p = static_cast<unsigned char*>(address) - kAllocHeader;
    size_t n = 0;
    std::memcpy(&n, p, sizeof n);
    if (opaque != Z_NULL) static_cast<ZlibMemory*>(opaque)->bytes -= n;
    std::free(p);
}

void hook_allocator(z_stream& s, ZlibMemory* memory) {
    s = z_stream{};
    s.zalloc = zlib_alloc;
    s.zfree = zlib_free;
    s.opaque = memory;
}

Bytef* in_ptr(const std::byte* p) { return reinterpret_cast<Bytef*>(const_cast<std::byte*>(p)); }

} // namespace

Deflater::~Deflater() {
    // Z_DATA_ERROR here only says a message was in progress; the memory is freed either way.
    if (ready_) (void)deflateEnd(&strm_);
}

bool Deflater::init(int level, int window_bits, int mem_level, ZlibMemory* memory) {
    if (ready_) return true;
    hook_allocator(strm_, memory);
    // Negative windowBits: raw DEFLATE, no zlib header or checksum (RFC 7692 §7.2.1).
    ready_ = deflateInit2(&strm_, level, Z_DEFLATED, -window_bits, mem_level, Z_DEFAULT_STRATEGY) ==
             Z_OK;
    return ready_;
}

bool Deflater::compress(std::span<const std::byte> in, std::vector<std::byte>& out, bool reset) {
    out.clear();
    if (!ready_ || in.size() > UINT32_MAX) return false;
    strm_.next_in = in_ptr(in.data());
    strm_.avail_in = static_cast<uInt>(in.size());
    // deflateBound covers one complete stream; the sync flush adds a few bytes, and the loop
    // below grows the buffer if even that is not enough.
    out.resize(static_cast<size_t>(deflateBound(&strm_, in.size())) + 16);
    size_t used = 0;
    do {
        if (used == out.size()) out.resize(out.size() * 2);
        strm_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
        strm_.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - used, UINT32_MAX));
        // RFC 7692 §7.2.1: Z_SYNC_FLUSH ends the data on a byte boundary with 00 00 ff ff.
        const int rc = deflate(&strm_, Z_SYNC_FLUSH);
        used = out.size() - strm_.avail_out;
        if (rc != Z_OK && rc != Z_BUF_ERROR) { // Z_BUF_ERROR: no progress, nothing lost
            (void)deflateReset(&strm_);        // the connection fails; keep the stream sane
            return false;
        }
    } while (strm_.avail_out == 0);
    // RFC 7692 §7.2.1: remove the 4 octets 00 00 ff ff from the tail end.
    if (used < 4 || std::memcmp(out.data() + used - 4, kDeflateTail, 4) != 0) return false;
    out.resize(used - 4);
    // RFC 7692 §7.1.1.1: without context takeover each message starts from an empty window.
    return !reset || deflateReset(&strm_) == Z_OK;
}

Inflater::~Inflater() {
    if (ready_) (void)inflateEnd(&strm_); // only fails for a stream that was never set up
}

bool Inflater::init(int window_bits, ZlibMemory* memory) {
    if (ready_) return true;
    hook_allocator(strm_, memory);
    window_bits_ = static_cast<uint8_t>(window_bits);
    ready_ = inflateInit2(&strm_, -window_bits) == Z_OK;
    return ready_;
}

ProtocolError Inflater::inflate(std::span<const std::byte> in, size_t limit,
                                std::vector<std::byte>& out, bool reset) {
    out.clear();
    if (!ready_ || in.size() > UINT32_MAX) return ProtocolError::kDeflateFailed;
    size_t used = 0;
    bool ended = false;
    ProtocolError e = feed(in, limit, out, used, ended);
    // After a final block (BFINAL = 1) nothing may follow but what RFC 7692 §7.2.3.4 shows: one
    // 0x00, the header of an empty stored block whose LEN and NLEN were the 00 00 ff ff the sender
    // removed (§7.2.1). Other bytes there are data the stream ended without reading: refused
    // (1007) rather than silently dropped.
    if (e == ProtocolError::kNone && ended &&
        !(strm_.avail_in == 0 || (strm_.avail_in == 1 && strm_.next_in[0] == 0))) {
        e = ProtocolError::kBadDeflateData;
    }
    // RFC 7692 §7.2.2: append 00 00 ff ff to the payload, then inflate.
    if (e == ProtocolError::kNone && !ended) {
        e = feed(kDeflateTail, limit, out, used, ended);
        // A stream that ends inside the tail ends on bytes the sender never wrote.
        if (e == ProtocolError::kNone && ended && strm_.avail_in != 0)
            e = ProtocolError::kBadDeflateData;
    }
    out.resize(std::min(used, out.size()));
    if (e != ProtocolError::kNone) {
        (void)inflateReset(&strm_); // the connection is failing; this only tidies the stream
        return e;
    }
    // A final block (BFINAL = 1, RFC 7692 §7.2.3.4) ends the DEFLATE stream: the next message
    // is a new stream, over the same window unless the peer resets its context.
    bool ok = true;
    if (reset) {
        ok = inflateReset(&strm_) == Z_OK;
    } else if (ended) {
        ok = restart_keeping_window();
    }
    if (!ok) ready_ = false;
    return ok ? ProtocolError::kNone : ProtocolError::kDeflateFailed;
}

// Inflates one input piece into out[used..], growing out by doubling up to limit + 1 bytes.
ProtocolError Inflater::feed(std::span<const std::byte> in, size_t limit,
                             std::vector<std::byte>& out, size_t& used, bool& ended) {
    strm_.next_in = in_ptr(in.data());
    strm_.avail_in = static_cast<uInt>(in.size());
    while (true) {
        if (used == out.size()) {
            // RFC 7692 §8.1 (and RFC 6455 §10.4): bound the inflated size while inflating.
            const size_t next = std::min(limit + 1, std::max(kFirstInflateChunk, out.size() * 2));
            out.reserve(next); // exact: capacity never runs past limit + 1
            out.resize(next);
        }
        strm_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
        strm_.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - used, UINT32_MAX));
        const int rc = ::inflate(&strm_, Z_SYNC_FLUSH);
        used = out.size() - strm_.avail_out;
        if (used > limit) return ProtocolError::kInflateTooBig;
        if (rc == Z_STREAM_END) {
            ended = true; // what follows the final block is judged by inflate()
            return ProtocolError::kNone;
        }
        if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) return ProtocolError::kBadDeflateData;
        if (rc != Z_OK && rc != Z_BUF_ERROR) return ProtocolError::kDeflateFailed; // memory
        if (strm_.avail_out != 0) {
            // Output room left over: zlib has used all it could. Input left here would mean
            // zlib stalled on it, which only corrupt data does.
            return strm_.avail_in == 0 ? ProtocolError::kNone : ProtocolError::kBadDeflateData;
        }
    }
}

// inflateReset forgets the window; keep it across the reset for context takeover.
bool Inflater::restart_keeping_window() {
    std::vector<Bytef> window(size_t{1} << window_bits_);
    uInt n = static_cast<uInt>(window.size());
    if (inflateGetDictionary(&strm_, window.data(), &n) != Z_OK) return false;
    if (inflateReset(&strm_) != Z_OK) return false;
    return n == 0 || inflateSetDictionary(&strm_, window.data(), n) == Z_OK;
}

} // namespace epws::ws
