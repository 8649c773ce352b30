// chat/program/server_loop.h: one event loop of the server and everything on it: its epoll and
// wake-up, its listener and ws::Server, the path table with this loop's endpoints, and its share
// of the bus. Layer: chat/program/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "chat/endpoints/broadcast_endpoint.h"
#include "chat/endpoints/chat_endpoint.h"
#include "chat/endpoints/delivery.h"
#include "chat/endpoints/echo_endpoint.h"
#include "chat/endpoints/outbox.h"
#include "chat/program/process.h"
#include "net/loop.h"
#include "net/notifier.h"
#include "ws/routes.h"
#include "ws/server.h"

namespace epws::chat {

// Built on the main thread, then run on its own (loop 0 on the main thread). The path table is
// here: a new endpoint is a member and one line in the constructor.
class ServerLoop {
public:
    // The ports to listen on: 0 picks one (loop 0), the others bind loop 0's.
    struct Ports {
        uint16_t plain = 0;  // used when options.plain
        uint16_t tls = 0;    // used when process.tls is set
    };
    // index: this loop's number (0 .. loops-1). nullptr with err filled on failure.
    static std::unique_ptr<ServerLoop> create(size_t index, Process& process, Ports ports,
                                              std::string& err);
    ~ServerLoop();
    // The ports this loop's listeners are bound to (0 for one it does not have).
    Ports ports() const { return bound_; }

    net::Loop& loop() { return *loop_; }
    net::Notifier& notifier() { return *notifier_; }
    ws::Server& server() { return *server_; }

private:
    ServerLoop(size_t index, Process& process, std::unique_ptr<net::Loop> loop);
    void add_routes();
    // The loop's before-wait hook: delivers bus entries, retries refused publications, sends
    // heartbeats. Returns how long the loop may sleep (-1, 0 or milliseconds).
    int before_wait();

    const size_t index_;
    Process& process_;
    std::unique_ptr<net::Loop> loop_;
    std::unique_ptr<net::Notifier> notifier_;
    Outbox outbox_;
    Delivery delivery_;
    EchoEndpoint echo_;
    BroadcastEndpoint broadcast_;
    ChatEndpoint chat_;
    ws::Routes routes_;
    std::unique_ptr<ws::Server> server_;
    Ports bound_;
    bool stopping_ = false;
};

}  // namespace epws::chat
