// chat/program/server_loop.cc: one loop's parts, its path table and its before-wait hook.
// Layer: chat/program/.
#include "chat/program/server_loop.h"

#include <unistd.h>
#include <ctime>

#include "chat/program/stats.h"
#include "chat/program/web_api.h"
#include "net/socket.h"
#include "ws/http/static_files.h"

namespace epws::chat {

uint64_t Process::quarter_of_memory() {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return uint64_t{1} << 30;  // unknown: 1 GiB
    return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 4;
}

std::unique_ptr<ServerLoop> ServerLoop::create(size_t index, Process& process, Ports ports,
                                               std::string& err) {
    std::unique_ptr<net::Loop> loop = net::Loop::create(err);
    if (!loop) return nullptr;
    std::unique_ptr<ServerLoop> self(new ServerLoop(index, process, std::move(loop)));
    self->notifier_ = net::Notifier::create(*self->loop_, err);
    if (!self->notifier_) return nullptr;
    self->add_routes();
    self->server_ = std::make_unique<ws::Server>(*self->loop_, process.options, self->routes_);
    // SO_REUSEPORT: one listener per loop and port, the kernel spreads new connections over them.
    if (process.options.plain) {
        int fd = net::listen_tcp(process.options.host, ports.plain, true, err);
        if (fd < 0) return nullptr;
        self->bound_.plain = net::local_port(fd);
        self->server_->listen(fd, net::PlainTransport::make);
    }
    if (process.tls != nullptr) {
        int fd = net::listen_tcp(process.options.host, ports.tls, true, err);
        if (fd < 0) return nullptr;
        self->bound_.tls = net::local_port(fd);
        // Each accept takes the certificate set current at that moment (SIGHUP swaps it).
        const net::TlsServerContextHolder* tls = process.tls;
        self->server_->listen(fd, [tls] { return tls->make_transport(); }, true);
    }
    if (!self->server_->start(err)) return nullptr;
    self->server_->share_connection_count(&process.connections);
    self->server_->share_peer_limit(&process.peers);
    self->loop_->share_output_budget(&process.output_budget);
    process.stats[index] = &self->server_->stats();
    process.bus.attach(index, self->notifier_.get());
    self->loop_->set_before_wait([raw = self.get()] { return raw->before_wait(); });
    return self;
}

ServerLoop::ServerLoop(size_t index, Process& process, std::unique_ptr<net::Loop> loop)
    : index_(index), process_(process), loop_(std::move(loop)), outbox_(process.bus),
      delivery_(process.bus, index), broadcast_(outbox_),
      chat_({process.options.chat, process.bus, process.rooms, process.users, process.registry},
            *loop_, index, outbox_) {
    delivery_.set_sink(Topic::kBroadcast, &broadcast_);
    delivery_.set_sink(Topic::kRoom, &chat_);
    delivery_.set_sink(Topic::kUser, &chat_);
}

// Members go in reverse order: the server first (its listener leaves the loop, which is still
// there), the loop last, deleting without callbacks any connection still open.
ServerLoop::~ServerLoop() = default;

void ServerLoop::add_routes() {
    routes_.add_websocket("/echo", echo_);
    routes_.add_websocket("/broadcast", broadcast_);
    routes_.add_websocket("/chat", chat_);
    routes_.add_http("/echo", echo_over_http);
    routes_.add_http("/healthz", [](const ws::HttpRequest&, ws::HttpReply& reply) { reply.body = "ok\n"; });
    routes_.add_http("/stats", [this](const ws::HttpRequest&, ws::HttpReply& reply) {
        reply.content_type = "application/json";
        reply.body = stats_json(process_.stats, process_.bus, process_.output_budget, process_.rooms);
    });
    routes_.add_http("/api/whoami", [this](const ws::HttpRequest& req, ws::HttpReply& reply) {
        whoami(process_.options.chat, req.query, reply);
    });
    routes_.add_http("/api/connections", [this](const ws::HttpRequest& req, ws::HttpReply& reply) {
        // Every loop's /chat connections, through the shared registry (?id=N: one of them), as
        // far as the request's token may see them.
        const ChatConfig& chat = process_.options.chat;
        api_connections(req.query, api_viewer(chat, req, std::time(nullptr)), index_,
                        process_.options, chat, process_.stats, process_.registry, reply);
    });
    // The browser client, or 404.
    routes_.set_fallback([this](const ws::HttpRequest& req, ws::HttpReply& reply) {
        ws::serve_static(process_.options.web_root, req, reply);
    });
}

int ServerLoop::before_wait() {
    process_.bus.awake(index_);
    if (!stopping_ && process_.stopping.load(std::memory_order_acquire)) {  // set by main
        stopping_ = true;
        server_->shutdown();
    }
    size_t drained = delivery_.drain();
    outbox_.retry();
    chat_.tick(loop_->now_ms());
    if (drained == Delivery::kBatch) return 0;  // more may be waiting
    if (!outbox_.empty()) return 1;             // retry the refused publications soon
    return process_.bus.prepare_to_sleep(index_) ? -1 : 0;
}

}  // namespace epws::chat
