// bench/peers/uws_server.cpp: the uWebSockets peer for bench/compare, written for it: one thread,
// one uWS::App, /echo (send back) and /broadcast (every connection subscribes to one topic and
// every message is App::publish'ed to all of them, the sender included, as epws-bench expects).
// Usage: uws_server PORT [shared] [--tls CERT KEY [low-memory]]
//   shared: permessage-deflate with uWS::SHARED_COMPRESSOR | SHARED_DECOMPRESSOR (no context
//   takeover either way, one zlib stream per loop), echoes compressed.
//   --tls: a uWS::SSLApp with that PEM pair (wss://; needs a build with -DLIBUS_USE_OPENSSL);
//   low-memory: its ssl_prefer_low_memory_usage (off by default).
// Built outside this repository against uWebSockets and uSockets checkouts, and given to
// bench/compare as UWS_PEER (bench/tls_compare: UWS_TLS_PEER); nothing of uWS is vendored.
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
template <bool kSsl>
typename uWS::TemplatedApp<kSsl>::template WebSocketBehavior<PerSocket> behavior(
    uWS::CompressOptions compression) {
    typename uWS::TemplatedApp<kSsl>::template WebSocketBehavior<PerSocket> b;
    b.compression = compression;
    b.maxPayloadLength = 16 * 1024 * 1024;
    b.idleTimeout = 0;
    b.maxBackpressure = 0;
    b.closeOnBackpressureLimit = false;
    b.sendPingsAutomatically = false;
    return b;
}

// The same routes on a plain uWS::App or a uWS::SSLApp.
template <bool kSsl>
int serve(uWS::TemplatedApp<kSsl>& app, int port, bool shared) {
    auto compression = shared ? uWS::CompressOptions(uWS::SHARED_COMPRESSOR |
                                                     uWS::SHARED_DECOMPRESSOR)
                              : uWS::DISABLED;
    auto echo = behavior<kSsl>(compression);
    // compress = true asks uWS to deflate when the connection negotiated it (ignored otherwise).
    echo.message = [shared](auto* ws, std::string_view m, uWS::OpCode op) {
        ws->send(m, op, shared);
    };

    auto fan = behavior<kSsl>(compression);
    fan.open = [](auto* ws) { ws->subscribe(kTopic); };
    // App::publish, not ws->publish: the latter skips the sender, and the publisher here must
    // get its own message back (epws-bench counts it as a delivery and frees its in-flight slot).
    fan.message = [&app, shared](auto*, std::string_view m, uWS::OpCode op) {
        app.publish(kTopic, m, op, shared);
    };

    app.template ws<PerSocket>("/echo", std::move(echo))
        .template ws<PerSocket>("/broadcast", std::move(fan));
    app.listen("127.0.0.1", port, [port](us_listen_socket_t* s) {
        if (s == nullptr) {
            std::fprintf(stderr, "uws: cannot listen on 127.0.0.1:%d\n", port);
            std::exit(1);
        }
        int bound = us_socket_local_port(kSsl, reinterpret_cast<us_socket_t*>(s));
        std::printf("uws: listening on 127.0.0.1:%d\n", bound);
        std::fflush(stdout);
    });
    app.run();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    int port = argc > 1 ? std::atoi(argv[1]) : 0;
    bool shared = false;
    const char* cert = nullptr;
    const char* key = nullptr;
    bool low_memory = false;
    for (int i = 2; i < argc; ++i) {
        if (std::strcmp(argv[i], "shared") == 0) {
            shared = true;
        } else if (std::strcmp(argv[i], "--tls") == 0 && i + 2 < argc) {
            cert = argv[++i];
            key = argv[++i];
        } else if (std::strcmp(argv[i], "low-memory") == 0) {
            low_memory = true;
        } else {
            std::fprintf(stderr, "usage: uws_server PORT [shared] [--tls CERT KEY [low-memory]]\n");
            return 2;
        }
    }
    if (cert == nullptr) {
        uWS::App app;
        return serve(app, port, shared);
    }
    uWS::SSLApp app({.key_file_name = key,
                     .cert_file_name = cert,
                     .ssl_prefer_low_memory_usage = low_memory ? 1 : 0});
    if (app.constructorFailed()) {
        std::fprintf(stderr, "uws: cannot load %s / %s (or no OpenSSL in this build)\n", cert, key);
        return 1;
    }
    return serve(app, port, shared);
}
