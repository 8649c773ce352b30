// ws/shared_message.cc: a message compressed once for every recipient that can share it.
// Layer: ws/.
#include "ws/shared_message.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "ws/server_connection.h"

namespace epws::ws {

SharedMessage::SharedMessage(Opcode op, std::span<const std::byte> frame, size_t header_len,
                             net::SharedBytes* owner)
    : header_(frame.first(header_len)), payload_(frame.subspan(header_len)), owner_(owner), op_(op) {}

SharedMessage::~SharedMessage() {
    for (Variant& v : variants_)
        if (v.body) v.body->release();
}

net::SendStatus SharedMessage::send_to(ServerConnection& to) {
    const DeflateParams& p = to.deflate_params();
    // RFC 7692 §6: any message may go uncompressed. A recipient whose compressor keeps context
    // (dedicated mode) is sent the plain frame too: compressing for it alone would cost one
    // compression per such recipient on the loop thread, and a message it is sent uncompressed
    // leaves both sides' windows as they were, so its later messages stay consistent.
    if (!to.context().deflate.should_compress(p, payload_.size()) ||
        !DeflateEngine::output_is_shareable(p))
        return to.send_frame(header_, payload_, payload_.size(), owner_);
    Variant& v = variant(to, p.server_window_bits);
    if (!v.compressed) return to.send_frame(header_, payload_, payload_.size(), owner_);
    return to.send_frame({v.header, v.header_size}, v.body->bytes(), payload_.size(), v.body);
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
    std::vector<std::byte>& out = ctx.deflate.deflate_scratch();
    // RFC 7692 §6: any message may go uncompressed, so a zlib failure or a message that does
    // not shrink (its receivers keep no context from us) is sent plain.
    v.compressed = ctx.deflate.compress(p, none, payload_, out) && out.size() < payload_.size() &&
                   (v.body = SharedBuffer::make(out)) != nullptr;
    if (v.compressed) {
        // RFC 7692 §6: RSV1 on the first (here the only) frame marks the message compressed.
        v.header_size = static_cast<uint8_t>(encode_frame_header(v.header, op_, out.size(), true, true));
    }
    DeflateEngine::trim(out);
    return v;
}

}  // namespace epws::ws
