// chat/program/server_loop.cc: one loop's parts, its path table and its before-wait hook.
// Layer: chat/program/.
#include "chat/program/server_loop.h"

#include <unistd.h>
#include <ctime>

#include "chat/program/metrics.h"
#include "chat/program/reload.h"
#include "chat/program/stats.h"
#include "chat/program/web_api.h"
#include "net/clock.h"
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
    self->server_ = std::make_unique<ws::Server>(*self->loop_, self->config_, self->routes_);
    if (process.trace_writer != nullptr) {
        self->tracer_ = std::make_unique<ws::ServerTracer>(
            self->trace_selector_, *process.trace_writer, process.connection_ids);
        self->server_->set_tracer(self->tracer_.get());
    }
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
    process.chat_stats[index] = &self->chat_.stats();
    process.loop_stats[index] = &self->loop_->stats();
    process.bus.attach(index, self->notifier_.get());
    if (index == 0 && process.options.metrics_port != 0 && !self->start_metrics_server(err))
        return nullptr;
    self->loop_->set_before_wait([raw = self.get()] { return raw->before_wait(); });
    return self;
}

ServerLoop::ServerLoop(size_t index, Process& process, std::unique_ptr<net::Loop> loop)
    : index_(index), process_(process), config_(process.options),
      config_generation_(process.config_generation.load(std::memory_order_acquire)),
      loop_(std::move(loop)), outbox_(process.bus), delivery_(process.bus, index), broadcast_(outbox_),
      chat_({config_.chat, process.bus, process.rooms, process.users, process.registry},
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
    routes_.add_http("/healthz", [this](const ws::HttpRequest&, ws::HttpReply& reply) {
        // Draining: fail the health check so a load balancer stops sending here.
        if (stopping_) {
            reply.status = 503;
            reply.body = "draining\n";
            return;
        }
        reply.body = "ok\n";
    });
    routes_.add_http("/stats", [this](const ws::HttpRequest&, ws::HttpReply& reply) {
        reply.content_type = "application/json";
        reply.body = stats_json(process_.stats, process_.bus, process_.output_budget, process_.rooms);
    });
    routes_.add_http("/metrics", [this](const ws::HttpRequest&, ws::HttpReply& reply) {
        reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
        reply.body = render_metrics(process_, routes_);
    });
    routes_.add_http("/api/whoami", [this](const ws::HttpRequest& req, ws::HttpReply& reply) {
        whoami(config_.chat, req.query, reply);
    });
    routes_.add_http("/api/connections", [this](const ws::HttpRequest& req, ws::HttpReply& reply) {
        // Every loop's /chat connections, through the shared registry (?id=N: one of them), as
        // far as the request's token may see them.
        const ChatConfig& chat = config_.chat;
        api_connections(req.query, api_viewer(chat, req, std::time(nullptr)), index_,
                        config_, chat, process_.stats, process_.registry, reply);
    });
    // The browser client, or 404.
    routes_.set_fallback([this](const ws::HttpRequest& req, ws::HttpReply& reply) {
        ws::serve_static(config_.web_root, req, reply);
    });
}

int ServerLoop::before_wait() {
    process_.bus.awake(index_);
    // acquire: pairs with publish_config's release (a value check; the mutex does the rest).
    if (process_.config_generation.load(std::memory_order_acquire) != config_generation_)
        take_reloaded_config();
    int drain_wait = -1;
    if (stopping_ || process_.stopping.load(std::memory_order_acquire)) {  // set by main
        stopping_ = true;
        drain_wait = drain();
    }
    size_t drained = delivery_.drain();
    outbox_.retry();
    chat_.tick(loop_->now_ms());
    if (drained == Delivery::kBatch) return 0;  // more may be waiting
    if (!outbox_.empty()) return 1;             // retry the refused publications soon
    return process_.bus.prepare_to_sleep(index_) ? drain_wait : 0;
}

// GET /metrics alone on a loopback port, for a scraper kept off the public one. Its
// connections share the process's caps and counts but not the main server's counters.
bool ServerLoop::start_metrics_server(std::string& err) {
    int fd = net::listen_tcp("127.0.0.1", config_.metrics_port, false, err);
    if (fd < 0) return false;
    metrics_routes_.add_http("/metrics", [this](const ws::HttpRequest&, ws::HttpReply& reply) {
        reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
        reply.body = render_metrics(process_, routes_);
    });
    metrics_server_ = std::make_unique<ws::Server>(*loop_, config_, metrics_routes_);
    metrics_server_->listen(fd, net::PlainTransport::make);
    if (!metrics_server_->start(err)) return false;
    metrics_server_->share_connection_count(&process_.connections);
    metrics_server_->share_peer_limit(&process_.peers);
    return true;
}

void ServerLoop::take_reloaded_config() {
    config_generation_ = process_.config_generation.load(std::memory_order_acquire);  // as above
    if (std::shared_ptr<const Options> next = process_.latest_config()) apply_reloadable(*next, config_);
}

int ServerLoop::drain() {
    uint64_t now = net::monotonic_ms();
    if (!drain_.started()) {
        drain_.start(now, server_->open_websockets(), config_.drain_ms);
        server_->refuse_upgrades();
    } else if (shut_down_) {
        return -1;
    } else if (drain_.over(now) || open_websockets_everywhere() == 0) {
        // Not when only this loop's are gone: it keeps draining the bus for the others (a loop
        // that stopped would hold back the ring for every publisher).
        shut_down_ = true;
        if (metrics_server_) metrics_server_->shutdown();
        server_->shutdown();  // the rest (if any) at once; the loop stops once all are gone
        return -1;
    }
    if (size_t n = drain_.due(now); n > 0) {
        // A hint for the client: this node is going; reconnect (to another one) after a short
        // jittered delay, so the clients closed in the same step do not arrive together.
        std::uniform_int_distribution<uint32_t> jitter(0, 999);
        drain_.closed(server_->close_websockets(n, [&] {
            return "server draining; reconnect in " + std::to_string(jitter(rng_)) + " ms";
        }));
    }
    if (open_websockets_everywhere() == 0) return 0;  // shut down on the next round
    return drain_.wait_ms(now);
}

size_t ServerLoop::open_websockets_everywhere() const {
    size_t n = 0;
    for (const ws::ServerStats* s : process_.stats)
        if (s != nullptr) n += s->websockets.load();  // another loop's counter: a value only
    return n;
}

}  // namespace epws::chat
