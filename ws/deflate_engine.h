// ws/deflate_engine.h: one loop's permessage-deflate machinery: chooses, per connection and per
// direction, a shared (per-loop) or a dedicated (per-connection) zlib stream, and owns the
// loop's scratch buffers. Layer: ws/. Pure: whole messages in, whole messages out, no I/O.
#pragma once

#include "net/counter.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ws/deflate.h"
#include "ws/deflate_params.h"
#include "ws/one_shot_deflate.h"

namespace epws::ws {

// Counters, reported by /stats. Loop thread only.
struct DeflateStats {
    net::Counter negotiated;        // connections that agreed to permessage-deflate
    net::Counter messages_inflated; // compressed messages received
    net::Counter inflate_in_bytes;  // their payloads as sent
    net::Counter inflate_out_bytes; // ... and inflated
    net::Counter messages_deflated; // messages compressed (a shared message counts once)
    net::Counter deflate_in_bytes;  // their payloads before compression
    net::Counter deflate_out_bytes; // ... and after
    net::Counter frames_reused;     // compressed shared-message frames sent without compressing again
    net::Counter dedicated_streams; // per-connection stream pairs alive now
    ZlibMemory zlib;                // heap held by every zlib stream of the loop now
};

// A connection's own streams, created on first use, only for a direction that keeps context.
struct DeflateStreams {
    Deflater deflater;
    Inflater inflater;
};

// One per loop (in ws::Server). Loop thread only. Messages without context takeover (the shared
// mode) go through libdeflate in one call each; zlib streams serve context takeover. Both are
// created on first use, so a server with compression off, or one that never sees a compressed
// message, holds none.
class DeflateEngine {
public:
    // config and stats are not owned and must outlive the engine.
    DeflateEngine(const DeflateConfig& config, DeflateStats& stats);

    // Whether a message of `size` bytes to a connection with params p goes out compressed:
    // the extension is agreed, the message reaches the threshold, and, for a peer that asked
    // for an 8-bit window (which zlib cannot produce), it is at most 256 bytes long.
    bool should_compress(const DeflateParams& p, size_t size) const;
    // True when p's outgoing messages are compressed from an empty window every time, so the
    // compressed bytes depend only on the message and p.server_window_bits: one compression
    // then serves every such recipient (RFC 7692 §7.1.1.1).
    static bool output_is_shareable(const DeflateParams& p);

    // Compresses a whole message for a connection with params p into out (RFC 7692 §7.2.1).
    // own: that connection's streams, created here if p keeps context; may stay null. False
    // on a zlib failure (close with kDeflateFailed).
    bool compress(const DeflateParams& p, std::unique_ptr<DeflateStreams>& own,
                  std::span<const std::byte> in, std::vector<std::byte>& out);
    // Inflates a whole received message (RFC 7692 §7.2.2) into out, stopping as soon as it
    // passes `limit` bytes (kInflateTooBig). Errors: kBadDeflateData, kInflateTooBig,
    // kDeflateFailed.
    ProtocolError inflate(const DeflateParams& p, std::unique_ptr<DeflateStreams>& own,
                          std::span<const std::byte> in, size_t limit, std::vector<std::byte>& out);

    // Scratch buffers for one message at a time; their contents are valid until the next use.
    std::vector<std::byte>& inflate_scratch() { return inflated_; }
    std::vector<std::byte>& deflate_scratch() { return deflated_; }
    // Frees scratch (one of the two above) that a large message grew past kKeepScratchBytes,
    // so a loop does not keep MiBs because one message was large once. Call it only once
    // nothing views that buffer any more.
    static void trim(std::vector<std::byte>& scratch);
    // Releases a connection's streams (on close).
    void release(std::unique_ptr<DeflateStreams>& own);

    static constexpr size_t kKeepScratchBytes = 64 << 10;

private:
    Deflater* deflater_for(const DeflateParams& p, std::unique_ptr<DeflateStreams>& own);
    Inflater* inflater_for(const DeflateParams& p, std::unique_ptr<DeflateStreams>& own);
    DeflateStreams& streams(std::unique_ptr<DeflateStreams>& own);

    const DeflateConfig& config_;
    DeflateStats& stats_;
    OneShotDeflater one_shot_deflater_; // shareable output whose window libdeflate honours
    OneShotInflater one_shot_inflater_; // every peer without context takeover
    Deflater shared_deflaters_[7];      // by window bits 9..15, reset after every message: a
                                        // shareable message longer than a small window
    std::vector<std::byte> inflated_;
    std::vector<std::byte> deflated_;
};

} // namespace epws::ws
