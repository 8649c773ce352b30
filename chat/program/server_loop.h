// chat/program/server_loop.h: one event loop of the server and everything on it: its epoll and
// wake-up, its listener and ws::Server, the path table with this loop's endpoints, and its share
// of the bus. Layer: chat/program/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "chat/endpoints/broadcast_endpoint.h"
#include "chat/endpoints/chat_endpoint.h"
#include "chat/endpoints/delivery.h"
#include "chat/endpoints/echo_endpoint.h"
#include "chat/endpoints/outbox.h"
#include "chat/program/drain.h"
#include "chat/program/process.h"
#include "chat/program/trace_selector.h"
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
    // A graceful stop, paced over --drain-seconds; returns how long the loop may sleep (-1: no
    // limit). Closes with 1001, each reason carrying a reconnect hint.
    int drain();
    void take_reloaded_config();
    bool start_metrics_server(std::string& err);
    size_t open_websockets_everywhere() const;

    const size_t index_;
    Process& process_;
    // This loop's own settings: a copy of the process's, changed only on this thread when a
    // reload is published (Process::publish_config); the server and endpoints read this one.
    Options config_;
    uint64_t config_generation_ = 0;
    std::unique_ptr<net::Loop> loop_;
    std::unique_ptr<net::Notifier> notifier_;
    Outbox outbox_;
    Delivery delivery_;
    EchoEndpoint echo_;
    BroadcastEndpoint broadcast_;
    ChatEndpoint chat_;
    ws::Routes routes_;
    TraceSelector trace_selector_{config_};
    std::unique_ptr<ws::ServerTracer> tracer_;  // --trace-*; declared before the server it serves
    std::unique_ptr<ws::Server> server_;
    Ports bound_;
    bool stopping_ = false;
    PacedDrain drain_;
    bool shut_down_ = false;
    std::minstd_rand rng_{std::random_device{}()};  // the reconnect hints' jitter
    ws::Routes metrics_routes_;                   // declared before its server, outlives it
    std::unique_ptr<ws::Server> metrics_server_;  // --metrics-port, loop 0 only
};

}  // namespace epws::chat
