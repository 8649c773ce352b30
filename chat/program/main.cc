// chat/program/main.cc: the epws server binary: flags, one event loop per thread, signals.
// Layer: chat/program/.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chat/memory_bus.h"
#include "chat/program/options.h"
#include "chat/program/process.h"
#include "chat/program/server_loop.h"
#include "chat/program/token_main.h"
#include "net/signals.h"
#include "net/socket.h"

using namespace epws;

namespace {

int fail(const std::string& what) {
    std::fprintf(stderr, "epws: %s\n", what.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "token") == 0) return chat::token_command(argc - 1, argv + 1);
    chat::Options options;
    options.threads = std::max(1u, std::thread::hardware_concurrency());
    if (const char* secret = std::getenv("EPWS_JWT_SECRET")) options.chat.jwt_secret = secret;
    if (const char* admin = std::getenv("EPWS_ADMIN_TOKEN")) {
        std::string e = chat::check_admin_token(admin);
        if (!e.empty()) return fail("EPWS_ADMIN_TOKEN: " + e);
        options.chat.admin_token = admin;
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
    uint64_t nofile = net::raise_nofile_limit();
    chat::MemoryBus bus(options.threads, options.chat.ring_capacity, options.chat.history,
                        options.chat.max_rooms);
    chat::Process process(options, bus);
    std::vector<std::unique_ptr<chat::ServerLoop>> loops(options.threads);
    // Loop 0 picks the port (maybe an ephemeral one); the others bind the same port.
    loops[0] = chat::ServerLoop::create(0, process, options.port, err);
    if (!loops[0]) return fail(err);
    uint16_t port = net::local_port(loops[0]->server().listen_fd());
    for (size_t i = 1; i < loops.size(); ++i) {
        loops[i] = chat::ServerLoop::create(i, process, port, err);
        if (!loops[i]) return fail(err);
    }

    // Signals are blocked before any thread starts, so every thread inherits the mask and
    // only loop 0's signalfd receives them.
    auto signals = net::SignalWatcher::create(loops[0]->loop(), [&](int signo) {
        if (process.stopping.exchange(true)) return;  // a second signal changes nothing
        std::fprintf(stderr, "epws: signal %d: closing every connection with 1001\n", signo);
        for (auto& l : loops) l->notifier().notify();
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
    for (size_t i = 1; i < loops.size(); ++i) threads.emplace_back([&, i] { loops[i]->loop().run(); });
    loops[0]->loop().run();
    for (auto& t : threads) t.join();
    loops.clear();
    bus.release_undrained();  // entries still in the ring when the loops stopped
    std::fprintf(stderr, "epws: stopped\n");
    return 0;
}
