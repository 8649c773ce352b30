// ws/deflate_engine.cc: which zlib stream serves which message, and the loop's scratch.
// Layer: ws/. RFC 7692 §7.1.1 (context takeover) and §7.1.2 (window bits).
#include "ws/deflate_engine.h"

#include <algorithm>

namespace epws::ws {
namespace {

// zlib cannot compress with a 256-byte window (deflateInit2 refuses raw windowBits 8), and a
// zlib peer that agreed to 8 really compresses with 9; so our streams never go below 9.
constexpr int kMinZlibWindowBits = 9;
// With a 9-bit window, a message of at most 256 bytes compressed from an empty window has no
// match distance over 256, so it is valid for a peer that asked for server_max_window_bits=8.
constexpr size_t kMaxMessageForWindow8 = 256;

} // namespace

DeflateEngine::DeflateEngine(const DeflateConfig& config, DeflateStats& stats)
    : config_(config), stats_(stats) {}

bool DeflateEngine::should_compress(const DeflateParams& p, size_t size) const {
    if (!p.enabled || size < config_.threshold) return false; // RFC 7692 §6: per message
    return p.server_window_bits > 8 || size <= kMaxMessageForWindow8;
}

bool DeflateEngine::output_is_shareable(const DeflateParams& p) {
    // An 8-bit window is served by resetting after every message (see kMaxMessageForWindow8).
    return p.server_no_context_takeover || p.server_window_bits == 8;
}

DeflateStreams& DeflateEngine::streams(std::unique_ptr<DeflateStreams>& own) {
    if (!own) {
        own = std::make_unique<DeflateStreams>();
        ++stats_.dedicated_streams;
    }
    return *own;
}

void DeflateEngine::release(std::unique_ptr<DeflateStreams>& own) {
    if (!own) return;
    --stats_.dedicated_streams;
    own.reset();
}

Deflater* DeflateEngine::deflater_for(const DeflateParams& p,
                                      std::unique_ptr<DeflateStreams>& own) {
    const int bits = std::max<int>(kMinZlibWindowBits, p.server_window_bits);
    // RFC 7692 §7.1.1.1: no context takeover, so the loop's compressor for this window will do.
    Deflater& d = output_is_shareable(p) ? shared_deflaters_[bits - kMinZlibWindowBits]
                                         : streams(own).deflater;
    return d.init(config_.level, bits, config_.mem_level, &stats_.zlib) ? &d : nullptr;
}

Inflater* DeflateEngine::inflater_for(const DeflateParams& p,
                                      std::unique_ptr<DeflateStreams>& own) {
    // RFC 7692 §7.1.2.2: the client's window is at most client_window_bits; ours must be as big.
    Inflater& in = streams(own).inflater;
    const int bits = std::max<int>(kMinZlibWindowBits, p.client_window_bits);
    return in.init(bits, &stats_.zlib) ? &in : nullptr;
}

bool DeflateEngine::compress(const DeflateParams& p, std::unique_ptr<DeflateStreams>& own,
                             std::span<const std::byte> in, std::vector<std::byte>& out) {
    const bool shareable = output_is_shareable(p);
    const int bits = std::max<int>(kMinZlibWindowBits, p.server_window_bits);
    if (shareable && OneShotDeflater::fits_window(in.size(), bits)) {
        // RFC 7692 §7.1.1.1: from an empty window every time, so one call does the message.
        if (!one_shot_deflater_.init(config_.level, &stats_.zlib) || !one_shot_deflater_.compress(in, out))
            return false;
    } else {
        Deflater* d = deflater_for(p, own);
        if (d == nullptr || !d->compress(in, out, shareable)) return false;
    }
    ++stats_.messages_deflated;
    stats_.deflate_in_bytes += in.size();
    stats_.deflate_out_bytes += out.size();
    return true;
}

ProtocolError DeflateEngine::inflate(const DeflateParams& p, std::unique_ptr<DeflateStreams>& own,
                                     std::span<const std::byte> in, size_t limit,
                                     std::vector<std::byte>& out) {
    ProtocolError e;
    if (p.client_no_context_takeover) {
        // RFC 7692 §7.1.1.2: a client without context takeover sends messages that inflate from
        // an empty window: one call each, whoever sent them.
        if (!one_shot_inflater_.init(&stats_.zlib)) return ProtocolError::kDeflateFailed;
        e = one_shot_inflater_.inflate(in, limit, out);
    } else {
        Inflater* inf = inflater_for(p, own);
        if (inf == nullptr) return ProtocolError::kDeflateFailed;
        e = inf->inflate(in, limit, out, false);
    }
    if (e != ProtocolError::kNone) return e;
    ++stats_.messages_inflated;
    stats_.inflate_in_bytes += in.size();
    stats_.inflate_out_bytes += out.size();
    return ProtocolError::kNone;
}

void DeflateEngine::trim(std::vector<std::byte>& scratch) {
    if (scratch.capacity() > kKeepScratchBytes) std::vector<std::byte>().swap(scratch);
}

} // namespace epws::ws
