// chat/main.cc: the epws server binary: flags, one loop, the echo application, signals.
// Layer: chat/.
#include <cstdio>
#include <string>

#include "chat/echo_app.h"
#include "chat/options.h"
#include "net/loop.h"
#include "net/signals.h"
#include "net/socket.h"
#include "ws/server.h"

using namespace epws;

namespace {

int fail(const std::string& what) {
    std::fprintf(stderr, "epws: %s\n", what.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    ws::ServerConfig config;
    std::string err;
    switch (chat::parse_options(argc, argv, config, err)) {
    case chat::ParseOutcome::kHelp:
        std::fputs(chat::usage(argv[0]).c_str(), stdout);
        return 0;
    case chat::ParseOutcome::kError:
        std::fprintf(stderr, "epws: %s\n", err.c_str());
        return 2;
    case chat::ParseOutcome::kRun:
        break;
    }
    uint64_t nofile = net::raise_nofile_limit();

    auto loop = net::Loop::create(err);
    if (!loop) return fail("cannot start the event loop: " + err);
    int listen_fd = net::listen_tcp(config.host, config.port, false, err);
    if (listen_fd < 0) return fail(err);
    uint16_t port = net::local_port(listen_fd);

    chat::EchoApp app;
    ws::Server server(*loop, listen_fd, config, app);
    app.set_stats_source(&server.stats());

    int stop_signal = 0;
    auto signals = net::SignalWatcher::create(*loop, [&](int signo) {
        if (stop_signal != 0) return;  // a second signal while draining changes nothing
        stop_signal = signo;
        std::fprintf(stderr, "epws: signal %d: closing %zu connection(s) with 1001\n", signo,
                     loop->connection_count());
        server.shutdown();
    }, err);
    if (!signals) return fail(err);

    bool v6 = config.host.find(':') != std::string::npos;
    std::printf("epws: listening on %s%s%s:%u\n", v6 ? "[" : "", config.host.c_str(), v6 ? "]" : "",
                port);
    std::fflush(stdout);
    std::fprintf(stderr, "epws: 1 loop, file descriptor limit %llu\n",
                 static_cast<unsigned long long>(nofile));
    loop->run();
    std::fprintf(stderr, "epws: stopped\n");
    return 0;
}
