// chat/program/main.cc: the epws server binary: flags, one event loop per thread, signals.
// Layer: chat/program/.
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chat/jwt.h"
#include "chat/memory_bus.h"
#include "chat/redis/redis_bus.h"
#include "chat/program/options.h"
#include "chat/program/process.h"
#include "chat/program/server_loop.h"
#include "chat/program/token_main.h"
#include "net/signals.h"
#include "net/socket.h"
#include "net/tls_context.h"

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
    if (const char* secret = std::getenv("EPWS_JWT_SECRET")) {
        // The same rule as --jwt-secret (chat/jwt.h), and the same exit status as a bad flag.
        if (std::string e = chat::secret_problem(secret); !e.empty()) {
            std::fprintf(stderr, "epws: EPWS_JWT_SECRET: %s\n", e.c_str());
            return 2;
        }
        options.chat.jwt_secret = secret;
    }
    if (const char* admin = std::getenv("EPWS_ADMIN_TOKEN")) {
        // Bad usage, like a bad --admin-token: exit 2.
        if (std::string e = chat::check_admin_token(admin); !e.empty()) {
            std::fprintf(stderr, "epws: EPWS_ADMIN_TOKEN: %s\n", e.c_str());
            return 2;
        }
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
    // A --web-root that is not a directory was refused above; the built-in default may be gone
    // (a binary copied elsewhere): say so once rather than answer 404 without a word.
    if (struct stat st {}; ::stat(options.web_root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        std::fprintf(stderr, "epws: warning: web root %s is not a directory: GET / answers 404 "
                     "(give --web-root DIR)\n", options.web_root.c_str());
    uint64_t nofile = net::raise_nofile_limit();
    // Certificates are checked before anything listens: a bad one is one line and exit 1.
    std::vector<net::TlsCertFiles> cert_files;
    for (size_t i = 0; i < options.tls_certs.size(); ++i)
        cert_files.push_back({options.tls_certs[i], options.tls_keys[i]});
    std::unique_ptr<net::TlsServerContextHolder> tls;
    if (!cert_files.empty()) {
        tls = std::make_unique<net::TlsServerContextHolder>(cert_files);
        if (!tls->reload(err)) return fail(err);
    }
    // In memory unless --redis: then Redis owns each room's order, shared by every node.
    std::unique_ptr<chat::MemoryBus> memory_bus;
    std::unique_ptr<chat::RedisBus> redis_bus;
    if (options.redis_enabled) {
        chat::RedisBusConfig rc{options.redis, options.threads, options.chat.ring_capacity,
                                options.chat.history, options.chat.max_rooms, options.redis_timeout_ms,
                                options.redis_presence_ttl_ms};
        redis_bus = chat::RedisBus::create(rc, err);
        if (!redis_bus) return fail(err);
    } else {
        memory_bus = std::make_unique<chat::MemoryBus>(options.threads, options.chat.ring_capacity,
                                                       options.chat.history, options.chat.max_rooms);
    }
    chat::Bus& bus = redis_bus ? static_cast<chat::Bus&>(*redis_bus) : *memory_bus;
    chat::Process process(options, bus);
    if (redis_bus) {
        redis_bus->set_rooms(&process.rooms);
        redis_bus->set_users(&process.users);
    }
    process.tls = tls.get();
    // Before any loop binds with SO_REUSEPORT: a port another process holds fails here.
    if (options.plain && !net::port_is_free(options.host, options.port, err)) return fail(err);
    if (tls && !net::port_is_free(options.host, options.tls_port, err)) return fail(err);
    std::vector<std::unique_ptr<chat::ServerLoop>> loops(options.threads);
    // Loop 0 picks the ports (maybe ephemeral ones); the others bind the same ports.
    loops[0] = chat::ServerLoop::create(0, process, {options.port, options.tls_port}, err);
    if (!loops[0]) return fail(err);
    chat::ServerLoop::Ports ports = loops[0]->ports();
    for (size_t i = 1; i < loops.size(); ++i) {
        loops[i] = chat::ServerLoop::create(i, process, ports, err);
        if (!loops[i]) return fail(err);
    }
    // Only our sockets, bound in loop order, ever get a connection (on every port).
    for (size_t i = 0; i < loops[0]->server().listener_count(); ++i)
        if (!net::spread_over_first(loops[0]->server().listen_fd(i), options.threads, err))
            return fail(err);

    // Signals are blocked before any thread starts, so every thread inherits the mask and
    // only loop 0's signalfd receives them.
    auto signals = net::SignalWatcher::create(loops[0]->loop(), [&](int signo) {
        if (signo == SIGHUP) {
            // New handshakes take the new set; open connections keep theirs.
            std::string why;
            if (!tls) std::fprintf(stderr, "epws: SIGHUP: no certificates to reload\n");
            else if (tls->reload(why)) std::fprintf(stderr, "epws: SIGHUP: certificates reloaded\n");
            else std::fprintf(stderr, "epws: SIGHUP: kept the old certificates: %s\n", why.c_str());
            return;
        }
        if (process.stopping.exchange(true)) return;  // a second signal changes nothing
        std::fprintf(stderr, "epws: signal %d: closing every connection with 1001\n", signo);
        for (auto& l : loops) l->notifier().notify();
    }, err);
    if (!signals) return fail(err);

    bool v6 = options.host.find(':') != std::string::npos;
    const char* open_bracket = v6 ? "[" : "";
    const char* close_bracket = v6 ? "]" : "";
    // The first line on stdout is what scripts wait for; a TLS port follows on its own line.
    if (options.plain)
        std::printf("epws: listening on %s%s%s:%u\n", open_bracket, options.host.c_str(),
                    close_bracket, ports.plain);
    if (tls)
        std::printf("epws: listening with TLS on %s%s%s:%u\n", open_bracket, options.host.c_str(),
                    close_bracket, ports.tls);
    std::fflush(stdout);
    std::fprintf(stderr, "epws: %u loop(s), file descriptor limit %llu%s\n", options.threads,
                 static_cast<unsigned long long>(nofile),
                 options.chat.jwt_secret.empty()
                     ? "; no JWT secret: open development mode, /chat trusts ?username="
                     : "");
    if (redis_bus) redis_bus->start();  // after every loop attached its notifier
    std::vector<std::thread> threads;
    for (size_t i = 1; i < loops.size(); ++i) threads.emplace_back([&, i] { loops[i]->loop().run(); });
    loops[0]->loop().run();
    for (auto& t : threads) t.join();
    if (redis_bus) redis_bus->stop();
    signals.reset();  // it watches loop 0's epoll: it goes before the loops
    loops.clear();
    if (memory_bus) memory_bus->release_undrained();  // entries still in the ring when the loops stopped
    std::fprintf(stderr, "epws: stopped\n");
    return 0;
}
