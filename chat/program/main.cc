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
#include "chat/program/reload.h"
#include "chat/program/server_loop.h"
#include "chat/program/token_main.h"
#include "chat/program/trace_selector.h"
#include "net/log.h"
#include "net/signals.h"
#include "net/socket.h"
#include "net/tls_context.h"

using namespace epws;

namespace {

int fail(const std::string& what) {
    std::fprintf(stderr, "epws: %s\n", what.c_str());
    return 1;
}

// The defaults that depend on the machine and the environment, then the file and the flags.
chat::ParseOutcome load_options(int argc, char** argv, chat::Options& options, std::string& err) {
    options.threads = std::max(1u, std::thread::hardware_concurrency());
    if (const char* secret = std::getenv("EPWS_JWT_SECRET")) {
        // The same rule as --jwt-secret (chat/jwt.h), and the same exit status as a bad flag.
        if (std::string e = chat::secret_problem(secret); !e.empty()) {
            err = "EPWS_JWT_SECRET: " + e;
            return chat::ParseOutcome::kError;
        }
        options.chat.jwt_secret = secret;
    }
    if (const char* admin = std::getenv("EPWS_ADMIN_TOKEN")) {
        // Bad usage, like a bad --admin-token.
        if (std::string e = chat::check_admin_token(admin); !e.empty()) {
            err = "EPWS_ADMIN_TOKEN: " + e;
            return chat::ParseOutcome::kError;
        }
        options.chat.admin_token = admin;
    }
    return chat::parse_options(argc, argv, options, err);
}

// The effective configuration, every setting, as the first line of the log.
void log_start(const chat::Options& options, uint16_t port, uint16_t tls_port, uint64_t nofile) {
    std::vector<std::pair<std::string, std::string>> settings = chat::describe_config(options);
    if (options.plain) settings.emplace_back("listening-port", std::to_string(port));
    if (!options.tls_certs.empty()) settings.emplace_back("listening-tls-port", std::to_string(tls_port));
    settings.emplace_back("file-descriptor-limit", std::to_string(nofile));
    settings.emplace_back("config", options.config_path.empty() ? "(none)" : options.config_path);
    std::vector<net::LogField> fields;
    for (const auto& [k, v] : settings) fields.push_back({k, v});
    net::log(net::LogLevel::kInfo, "start", fields);
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
}

// SIGHUP: the file and the flags read again; a bad file is refused whole (the old settings
// stay); what changed is applied by each loop on its own thread (Process::publish_config).
void reload_config(int argc, char** argv, chat::Options& current, chat::Process& process,
                   std::vector<std::unique_ptr<chat::ServerLoop>>& loops) {
    chat::Options next;
    std::string err;
    if (load_options(argc, argv, next, err) != chat::ParseOutcome::kRun) {
        net::log(net::LogLevel::kError, "reload_refused", {{"error", err}, {"kept", "the running configuration"}});
        return;
    }
    chat::ConfigDiff diff = chat::diff_config(current, next);
    if (!diff.needs_restart.empty())
        net::log(net::LogLevel::kWarn, "reload_needs_restart",
                 {{"settings", join(diff.needs_restart)}, {"kept", "until a restart"}});
    chat::apply_reloadable(next, current);
    net::set_log_level(current.log_level);
    net::set_log_format(current.log_format);
    net::log(net::LogLevel::kInfo, "reload",
             {{"changed", diff.applied.empty() ? "nothing" : join(diff.applied)},
              {"file", current.config_path.empty() ? "(none)" : current.config_path}});
    if (diff.applied.empty()) return;
    process.publish_config(std::make_shared<const chat::Options>(current));
    for (auto& l : loops) l->notifier().notify();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "token") == 0) return chat::token_command(argc - 1, argv + 1);
    chat::Options options;
    std::string err;
    switch (load_options(argc, argv, options, err)) {
    case chat::ParseOutcome::kHelp:
        std::fputs(chat::usage(argv[0]).c_str(), stdout);
        return 0;
    case chat::ParseOutcome::kError:
        std::fprintf(stderr, "epws: %s\n", err.c_str());
        // --check-config answers 0 or 1; a bad command line otherwise exits 2 (usage).
        return options.check_config ? 1 : 2;
    case chat::ParseOutcome::kRun:
        break;
    }
    if (options.check_config) {
        std::printf("epws: configuration ok%s%s\n", options.config_path.empty() ? "" : ": ",
                    options.config_path.c_str());
        return 0;
    }
    net::set_log_level(options.log_level);
    net::set_log_format(options.log_format);
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
        chat::RedisBusConfig rc{options.redis, options.redis_cluster, options.threads, options.chat.ring_capacity,
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
    // --trace-*: one thread writes every loop's trace lines, so a slow stderr never stops a
    // loop; over 4 MiB waiting, lines are dropped and counted (ws/server_trace.h).
    std::unique_ptr<ws::TraceWriter> trace_writer;
    if (chat::tracing_enabled(options)) {
        trace_writer = std::make_unique<ws::TraceWriter>(STDERR_FILENO, size_t{4} << 20);
        process.trace_writer = trace_writer.get();
    }
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

    // SIGHUP: every part that can reload registers its hook here.
    chat::Options current = options;  // what the loops run with, as main last published it
    chat::ReloadHooks reload;
    reload.add("config", [&] { reload_config(argc, argv, current, process, loops); });
    reload.add("tls", [&] {
        // New handshakes take the new set; open connections keep theirs.
        std::string why;
        if (!tls) std::fprintf(stderr, "epws: SIGHUP: no certificates to reload\n");
        else if (tls->reload(why)) std::fprintf(stderr, "epws: SIGHUP: certificates reloaded\n");
        else std::fprintf(stderr, "epws: SIGHUP: kept the old certificates: %s\n", why.c_str());
    });
    // Signals are blocked before any thread starts, so every thread inherits the mask and
    // only loop 0's signalfd receives them.
    auto signals = net::SignalWatcher::create(loops[0]->loop(), [&](int signo) {
        if (signo == SIGHUP) return reload.run();
        if (process.stopping.exchange(true)) return;  // a second signal changes nothing
        net::log(net::LogLevel::kInfo, "stopping",
                 {{"signal", signo == SIGINT ? "SIGINT" : "SIGTERM"},
                  {"drain", std::to_string(current.drain_ms) + "ms"}});
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
    if (trace_writer) {
        std::string id = options.trace_connection ? std::to_string(options.trace_connection) : "";
        std::fprintf(stderr, "epws: tracing%s%s%s%s on stderr, each line prefixed [conn ID]\n",
                     id.empty() ? "" : " connection ", id.c_str(),
                     options.trace_user.empty() ? "" : " user ", options.trace_user.c_str());
    }
    log_start(options, ports.plain, ports.tls, nofile);
    if (redis_bus) redis_bus->start();  // after every loop attached its notifier
    std::vector<std::thread> threads;
    for (size_t i = 1; i < loops.size(); ++i) threads.emplace_back([&, i] { loops[i]->loop().run(); });
    loops[0]->loop().run();
    for (auto& t : threads) t.join();
    if (redis_bus) redis_bus->stop();
    signals.reset();  // it watches loop 0's epoll: it goes before the loops
    loops.clear();
    if (memory_bus) memory_bus->release_undrained();  // entries still in the ring when the loops stopped
    net::log(net::LogLevel::kInfo, "stopped");
    std::fprintf(stderr, "epws: stopped\n");
    return 0;
}
