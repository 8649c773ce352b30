// chat/endpoints/broadcast_endpoint.h: /broadcast, every message to every /broadcast connection
// of every loop, the sender included, framed once and shared by reference. Layer: chat/.
#pragma once

#include <cstdint>
#include <vector>

#include "chat/endpoints/delivery.h"
#include "chat/endpoints/outbox.h"
#include "ws/endpoint.h"

namespace epws::chat {

// One per loop: its subscribers (an idle one costs one pointer), and the sink of the bus's
// broadcast topic for them. Loop thread only.
class BroadcastEndpoint final : public ws::Endpoint, public TopicSink {
public:
    explicit BroadcastEndpoint(Outbox& outbox) : outbox_(outbox) {}

    void on_open(ws::ServerConnection& conn) override;
    void on_message(ws::ServerConnection& conn, ws::Opcode op,
                    std::span<const std::byte> payload) override;
    void on_close(ws::ServerConnection& conn, uint16_t code) override;
    void deliver(Group& group) override;
    size_t subscribers() const { return subscribers_.size(); }

private:
    Outbox& outbox_;
    std::vector<ws::ServerConnection*> subscribers_;  // a connection's tag: its index + 1
};

}  // namespace epws::chat
