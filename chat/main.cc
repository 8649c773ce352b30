// chat/main.cc: the epws server binary: flags, one event loop per thread, the chat
// application, signals. Layer: chat/.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chat/app.h"
#include "chat/jwt.h"
#include "chat/options.h"
#include "chat/shared.h"
#include "chat/token_main.h"
#include "net/loop.h"
#include "net/notifier.h"
#include "net/signals.h"
#include "net/socket.h"
#include "ws/server.h"

using namespace epws;

namespace {

int fail(const std::string& what) {
    std::fprintf(stderr, "epws: %s\n", what.c_str());
    return 1;
}

// One event loop: its epoll, its listening socket (SO_REUSEPORT: the kernel spreads new
// connections over the loops), its server and its application.
struct LoopParts {
    std::unique_ptr<net::Loop> loop;
    std::unique_ptr<net::Notifier> notifier;
    std::unique_ptr<chat::App> app;
    std::unique_ptr<ws::Server> server;
};

bool make_loop(size_t i, const chat::Options& options, chat::Shared& shared, uint16_t port,
               LoopParts& parts, std::string& err) {
    parts.loop = net::Loop::create(err);
    if (!parts.loop) return false;
    parts.notifier = net::Notifier::create(*parts.loop, err);
    if (!parts.notifier) return false;
    int fd = net::listen_tcp(options.host, port, true, err);
    if (fd < 0) return false;
    parts.app = std::make_unique<chat::App>(shared, i);
    parts.server = std::make_unique<ws::Server>(*parts.loop, fd, options, *parts.app);
    parts.app->set_server(parts.server.get());
    parts.server->share_connection_count(&shared.connections);
    parts.server->share_peer_limit(&shared.peers);
    shared.stats[i] = &parts.server->stats();
    shared.hub.attach(i, parts.notifier.get());
    parts.loop->set_before_wait([app = parts.app.get()] { return app->before_wait(); });
    return true;
}

// Entries still in the ring when the loops have stopped: release them, so nothing leaks.
void drain_leftovers(chat::Shared& shared) {
    for (size_t i = 0; i < shared.hub.loops(); ++i)
        while (shared.hub.drain(i, [](chat::RingEntry* e) { e->release(); }, 1024) > 0) {
        }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "token") == 0) return chat::token_command(argc - 1, argv + 1);
    chat::Options options;
    options.threads = std::max(1u, std::thread::hardware_concurrency());
    if (const char* secret = std::getenv("EPWS_JWT_SECRET")) {
        // The same rule as --jwt-secret (chat/jwt.h), and the same exit status as a bad flag.
        if (std::string e = chat::secret_problem(secret); !e.empty()) {
            std::fprintf(stderr, "epws: EPWS_JWT_SECRET: %s\n", e.c_str());
            return 2;
        }
        options.chat.jwt_secret = secret;
    }
    std::string err;
    switch (chat::parse_options(argc, argv, options, err)) {
    case chat::ParseOutcome::kHelp:
        std::fputs(chat::usage(argv[0]).c_str(), stdout);
        return 0;
    case chat::ParseOutcome::kError:
        std::fprintf(stderr, "epws: %s\n", err.c_str());
        return 2;
    case chat::ParseOutcome::kRun:
        break;
    }
    // A --web-root that is not a directory was refused above; the built-in default may be gone
    // (a binary copied elsewhere): say so once rather than answer 404 without a word.
    if (struct stat st {}; ::stat(options.chat.web_root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        std::fprintf(stderr, "epws: warning: web root %s is not a directory: GET / answers 404 "
                     "(give --web-root DIR)\n", options.chat.web_root.c_str());
    uint64_t nofile = net::raise_nofile_limit();
    chat::Shared shared(options.threads, options.chat, options.max_connections_per_ip);
    std::vector<LoopParts> loops(options.threads);
    // Loop 0 picks the port (maybe an ephemeral one); the others bind the same port.
    if (!make_loop(0, options, shared, options.port, loops[0], err)) return fail(err);
    uint16_t port = net::local_port(loops[0].server->listen_fd());
    for (size_t i = 1; i < loops.size(); ++i)
        if (!make_loop(i, options, shared, port, loops[i], err)) return fail(err);

    // Signals are blocked before any thread starts, so every thread inherits the mask and
    // only loop 0's signalfd receives them.
    auto signals = net::SignalWatcher::create(*loops[0].loop, [&](int signo) {
        if (shared.stopping.exchange(true)) return;  // a second signal changes nothing
        std::fprintf(stderr, "epws: signal %d: closing every connection with 1001\n", signo);
        for (auto& l : loops) l.notifier->notify();
    }, err);
    if (!signals) return fail(err);

    bool v6 = options.host.find(':') != std::string::npos;
    std::printf("epws: listening on %s%s%s:%u\n", v6 ? "[" : "", options.host.c_str(), v6 ? "]" : "",
                port);
    std::fflush(stdout);
    std::fprintf(stderr, "epws: %u loop(s), file descriptor limit %llu%s\n", options.threads,
                 static_cast<unsigned long long>(nofile),
                 options.chat.jwt_secret.empty()
                     ? "; no JWT secret: open development mode, /chat trusts ?username="
                     : "");
    std::vector<std::thread> threads;
    for (size_t i = 1; i < loops.size(); ++i) threads.emplace_back([&, i] { loops[i].loop->run(); });
    loops[0].loop->run();
    for (auto& t : threads) t.join();
    drain_leftovers(shared);
    std::fprintf(stderr, "epws: stopped\n");
    return 0;
}
