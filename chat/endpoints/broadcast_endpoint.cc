// chat/endpoints/broadcast_endpoint.cc: /broadcast. Layer: chat/.
#include "chat/endpoints/broadcast_endpoint.h"

#include "ws/server_connection.h"

namespace epws::chat {

void BroadcastEndpoint::on_open(ws::ServerConnection& conn) {
    subscribers_.push_back(&conn);
    conn.set_tag(static_cast<uint32_t>(subscribers_.size()));
}

void BroadcastEndpoint::on_message(ws::ServerConnection& conn, ws::Opcode op,
                                   std::span<const std::byte> payload) {
    RingEntry* e = RingEntry::make(Topic::kBroadcast, 0, op, payload);
    if (e == nullptr || !outbox_.publish(e)) {
        // Nowhere to keep it: tell the sender instead of losing it silently.
        conn.close_websocket(ws::CloseCode::kTryAgainLater, "server busy, try again later");
    }
}

void BroadcastEndpoint::on_close(ws::ServerConnection& conn, uint16_t) {
    uint32_t pos = conn.tag() - 1;
    conn.set_tag(0);
    // Swap-remove: the last subscriber takes the leaving one's place and index.
    ws::ServerConnection* moved = subscribers_.back();
    subscribers_[pos] = moved;
    moved->set_tag(pos + 1);
    subscribers_.pop_back();
}

void BroadcastEndpoint::deliver(Group& group) {
    // Backwards: a recipient whose socket fails is closed at once and swap-removed, which
    // moves an already served one into its place; none is skipped or served twice.
    for (size_t i = subscribers_.size(); i-- > 0;) {
        if (i >= subscribers_.size()) continue;
        ws::ServerConnection* conn = subscribers_[i];
        if (conn->is_open()) group.send_from(*conn, 0);
    }
}

}  // namespace epws::chat
