// ws/shared_message.cc: a message compressed once for every recipient that can share it.
// Layer: ws/.
#include "ws/shared_message.h"

#include <memory>

#include "ws/server_connection.h"

namespace epws::ws {

SharedMessage::SharedMessage(Opcode op, std::span<const std::byte> frame, size_t header_len)
    : header_(frame.first(header_len)), payload_(frame.subspan(header_len)), op_(op) {}

net::SendStatus SharedMessage::send_to(ServerConnection& to) {
    const DeflateParams& p = to.deflate_params();
    if (!to.context().deflate.should_compress(p, payload_.size()))
        return to.send_frame(header_, payload_, payload_.size());
    // A compressor that keeps context makes bytes valid for its own peer only.
    if (!DeflateEngine::output_is_shareable(p)) return to.send_message(op_, payload_);
    Variant& v = variant(to, p.server_window_bits);
    if (!v.compressed) return to.send_frame(header_, payload_, payload_.size());
    return to.send_frame({v.header, v.header_size}, v.body, payload_.size());
}

SharedMessage::Variant& SharedMessage::variant(ServerConnection& to, uint8_t window_bits) {
    ServerContext& ctx = to.context();
    Variant& v = variants_[window_bits - 8];
    if (v.ready) {
        if (v.compressed) ++ctx.stats.deflate.frames_reused;
        return v;
    }
    v.ready = true;
    DeflateParams p;
    p.enabled = true;
    p.server_no_context_takeover = true;
    p.server_window_bits = window_bits;
    std::unique_ptr<DeflateStreams> none;  // a shareable compressor is the loop's own
    // RFC 7692 §6: any message may go uncompressed, so a zlib failure or a message that does
    // not shrink (its receivers keep no context from us) is sent plain.
    v.compressed = ctx.deflate.compress(p, none, payload_, v.body) && v.body.size() < payload_.size();
    if (v.compressed) {
        // RFC 7692 §6: RSV1 on the first (here the only) frame marks the message compressed.
        v.header_size = static_cast<uint8_t>(encode_frame_header(v.header, op_, v.body.size(), true, true));
    }
    return v;
}

}  // namespace epws::ws
