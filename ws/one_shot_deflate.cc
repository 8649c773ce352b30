// ws/one_shot_deflate.cc: permessage-deflate in one call per message, over libdeflate.
// Layer: ws/. RFC 7692 §7.2.1 (compression), §7.2.2 (decompression), §7.2.3.4 (BFINAL).
#include "ws/one_shot_deflate.h"

#include <libdeflate.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "ws/deflate.h"

namespace epws::ws {
namespace {

// libdeflate matches at distances up to 32 KiB (RFC 1951 §3.2.5), zlib's largest window.
constexpr int kLibdeflateWindowBits = 15;
// First output room tried for a message, as a multiple of its compressed size (text compresses
// to a fifth to a tenth); then doubling up to the limit.
constexpr size_t kFirstGuessRatio = 8;
constexpr size_t kFirstGuessMin = 4096;
// RFC 7692 §7.2.2: the tail the sender removed, then (ours) an empty stored block with BFINAL
// set, so that the stream libdeflate reads always ends in a final block where the message ends.
constexpr std::byte kFinalEmptyBlock[5] = {std::byte{0x01}, std::byte{0x00}, std::byte{0x00},
                                           std::byte{0xff}, std::byte{0xff}};
// Input kept across messages up to this size (like DeflateEngine::kKeepScratchBytes).
constexpr size_t kKeepInputBytes = 64 << 10;

// libdeflate takes one allocator for the whole process; the counter an allocation is charged to
// rides in a header in front of it (16 bytes keep malloc's alignment), so frees need no lookup,
// and allocations happen only inside init(), which names the counter for its thread.
struct AllocHeader {
    size_t size;
    ZlibMemory* memory;
};
static_assert(sizeof(AllocHeader) == 16);
thread_local ZlibMemory* t_charged = nullptr;

void* counted_malloc(size_t n) {
    auto* h = static_cast<AllocHeader*>(std::malloc(n + sizeof(AllocHeader)));
    if (h == nullptr) return nullptr;
    *h = AllocHeader{n, t_charged};
    if (h->memory != nullptr) h->memory->bytes += n;
    return h + 1;
}

void counted_free(void* p) {
    if (p == nullptr) return;
    auto* h = static_cast<AllocHeader*>(p) - 1;
    if (h->memory != nullptr) h->memory->bytes -= h->size;
    std::free(h);
}

// Installs the allocator once, before the first libdeflate object, and charges what is
// allocated until the returned guard goes to `memory`.
struct Charge {
    explicit Charge(ZlibMemory* memory) {
        static std::once_flag once;
        std::call_once(once, [] { libdeflate_set_memory_allocator(counted_malloc, counted_free); });
        t_charged = memory;
    }
    ~Charge() { t_charged = nullptr; }
    Charge(const Charge&) = delete;
    Charge& operator=(const Charge&) = delete;
};

} // namespace

OneShotDeflater::~OneShotDeflater() { libdeflate_free_compressor(c_); }

bool OneShotDeflater::init(int level, ZlibMemory* memory) {
    if (c_ != nullptr) return true;
    Charge charge(memory);
    c_ = libdeflate_alloc_compressor(std::clamp(level, 0, 9));
    return c_ != nullptr;
}

bool OneShotDeflater::fits_window(size_t message_size, int window_bits) {
    return window_bits >= kLibdeflateWindowBits || message_size <= (size_t{1} << window_bits);
}

bool OneShotDeflater::compress(std::span<const std::byte> in, std::vector<std::byte>& out) {
    out.clear();
    if (c_ == nullptr) return false;
    // The bound covers one complete stream; one more byte for the stored block's header.
    out.resize(libdeflate_deflate_compress_bound(c_, in.size()) + 1);
    const size_t n = libdeflate_deflate_compress(c_, in.data(), in.size(), out.data(), out.size() - 1);
    if (n == 0) return false; // cannot happen within the bound; fail the connection if it does
    // RFC 7692 §7.2.1: the data does not end in an empty stored block (libdeflate ends with a
    // final block), so one is appended (a 0x00 header byte, then 00 00 ff ff) and those four
    // octets removed again: what is left after the final block is the 0x00 of §7.2.3.4.
    out[n] = std::byte{0x00};
    out.resize(n + 1);
    return true;
}

OneShotInflater::~OneShotInflater() { libdeflate_free_decompressor(d_); }

bool OneShotInflater::init(ZlibMemory* memory) {
    if (d_ != nullptr) return true;
    Charge charge(memory);
    d_ = libdeflate_alloc_decompressor();
    return d_ != nullptr;
}

ProtocolError OneShotInflater::inflate(std::span<const std::byte> in, size_t limit,
                                       std::vector<std::byte>& out) {
    out.clear();
    if (d_ == nullptr) return ProtocolError::kDeflateFailed;
    // No DEFLATE data at all (an empty message is 0x00 when compressed, RFC 7692 §7.2.3.6, but
    // zlib's inflater, which waits for more, takes an empty payload as an empty message too).
    if (in.empty()) return ProtocolError::kNone;
    // RFC 7692 §7.2.2: append 00 00 ff ff; then our final empty block.
    const size_t total = in.size() + sizeof(kDeflateTail) + sizeof(kFinalEmptyBlock);
    input_.resize(total);
    if (!in.empty()) std::memcpy(input_.data(), in.data(), in.size());
    std::memcpy(input_.data() + in.size(), kDeflateTail, sizeof(kDeflateTail));
    std::memcpy(input_.data() + in.size() + sizeof(kDeflateTail), kFinalEmptyBlock,
                sizeof(kFinalEmptyBlock));
    // RFC 7692 §8.1: never more than limit + 1 bytes of output, whatever the data claims.
    size_t room = std::min(limit + 1, std::max(kFirstGuessMin, in.size() * kFirstGuessRatio));
    size_t consumed = 0, written = 0;
    libdeflate_result r = LIBDEFLATE_BAD_DATA;
    while (true) {
        out.reserve(room); // exact: capacity never runs past limit + 1
        out.resize(room);
        r = libdeflate_deflate_decompress_ex(d_, input_.data(), total, out.data(), room,
                                             &consumed, &written);
        if (r != LIBDEFLATE_INSUFFICIENT_SPACE || room > limit) break;
        room = std::min(limit + 1, room * 2);
    }
    if (input_.capacity() > kKeepInputBytes) std::vector<std::byte>().swap(input_);
    ProtocolError e = ProtocolError::kNone;
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE || (r == LIBDEFLATE_SUCCESS && written > limit)) {
        e = ProtocolError::kInflateTooBig;
    } else if (r != LIBDEFLATE_SUCCESS) {
        e = ProtocolError::kBadDeflateData;
    } else if (consumed < in.size()) {
        // The sender's own final block ended the stream (RFC 7692 §7.2.3.4): after it, nothing
        // but the one 0x00 of an empty stored block; other bytes would be data never read.
        if (!(consumed + 1 == in.size() && in[consumed] == std::byte{0})) e = ProtocolError::kBadDeflateData;
    } else if (consumed > in.size() && consumed < total - sizeof(kFinalEmptyBlock)) {
        // A final block that ends inside 00 00 ff ff ends on bytes the sender never wrote.
        e = ProtocolError::kBadDeflateData;
    }
    out.resize(e == ProtocolError::kNone ? written : 0);
    return e;
}

} // namespace epws::ws
