// bench/peers/uws_server.cpp: the uWebSockets peer for bench/compare, written for it: one thread,
// one uWS::App, /echo (send back) and /broadcast (every connection subscribes to one topic and
// every message is App::publish'ed to all of them, the sender included, as epws-bench expects).
// Usage: uws_server PORT [shared]   "shared": permessage-deflate with uWS::SHARED_COMPRESSOR |
// SHARED_DECOMPRESSOR (no context takeover either way, one zlib stream per loop), echoes
// compressed. Built outside this repository against uWebSockets and uSockets checkouts, and
// given to bench/compare as UWS_PEER; nothing of uWS is vendored.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "App.h"

namespace {

struct PerSocket {};

constexpr std::string_view kTopic = "broadcast";

// Matches the other peers: 16 MiB messages, no idle timeout or automatic pings, and no
// backpressure limit (0: never drop, like Beast's and Node's unbounded send queues), so that a
// slow subscriber costs memory and latency, never a lost message that would fail the run.
uWS::App::WebSocketBehavior<PerSocket> behavior(uWS::CompressOptions compression) {
    uWS::App::WebSocketBehavior<PerSocket> b;
    b.compression = compression;
    b.maxPayloadLength = 16 * 1024 * 1024;
    b.idleTimeout = 0;
    b.maxBackpressure = 0;
    b.closeOnBackpressureLimit = false;
    b.sendPingsAutomatically = false;
    return b;
}

}  // namespace

int main(int argc, char** argv) {
    int port = argc > 1 ? std::atoi(argv[1]) : 0;
    bool shared = argc > 2 && std::strcmp(argv[2], "shared") == 0;
    auto compression = shared ? uWS::CompressOptions(uWS::SHARED_COMPRESSOR |
                                                     uWS::SHARED_DECOMPRESSOR)
                              : uWS::DISABLED;
    uWS::App app;

    auto echo = behavior(compression);
    // compress = true asks uWS to deflate when the connection negotiated it (ignored otherwise).
    echo.message = [shared](auto* ws, std::string_view m, uWS::OpCode op) {
        ws->send(m, op, shared);
    };

    auto fan = behavior(compression);
    fan.open = [](auto* ws) { ws->subscribe(kTopic); };
    // App::publish, not ws->publish: the latter skips the sender, and the publisher here must
    // get its own message back (epws-bench counts it as a delivery and frees its in-flight slot).
    fan.message = [&app, shared](auto*, std::string_view m, uWS::OpCode op) {
        app.publish(kTopic, m, op, shared);
    };

    app.ws<PerSocket>("/echo", std::move(echo)).ws<PerSocket>("/broadcast", std::move(fan));
    app.listen("127.0.0.1", port, [port](us_listen_socket_t* s) {
        if (s == nullptr) {
            std::fprintf(stderr, "uws: cannot listen on 127.0.0.1:%d\n", port);
            std::exit(1);
        }
        int bound = us_socket_local_port(0, reinterpret_cast<us_socket_t*>(s));
        std::printf("uws: listening on 127.0.0.1:%d\n", bound);
        std::fflush(stdout);
    });
    app.run();
    return 0;
}
