// chat/program/process.h: what every loop of the server process shares: the settings, the bus,
// rooms, users, the connection registry and the admission counts. Layer: chat/program/.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "chat/bus.h"
#include "chat/connection_registry.h"
#include "chat/program/options.h"
#include "chat/rooms.h"
#include "net/output_budget.h"
#include "net/peer_limit.h"
#include "net/tls_context.h"
#include "ws/server_config.h"
#include "ws/server_trace.h"

namespace epws::net {
struct LoopStats;
}

namespace epws::chat {

struct ChatStats;

// Owned by main; outlives every loop. Thread-safe (each member says how).
struct Process {
    Process(const Options& o, Bus& b)
        : options(o), bus(b), rooms(o.chat.max_rooms), users(o.chat.connections_per_user),
          stats(b.loops(), nullptr), chat_stats(b.loops(), nullptr),
          loop_stats(b.loops(), nullptr), peers(o.max_connections_per_ip),
          output_budget(o.max_total_output_bytes ? o.max_total_output_bytes : quarter_of_memory()) {}

    // The default process-wide output budget.
    static uint64_t quarter_of_memory();

    const Options& options;
    Bus& bus;
    RoomRegistry rooms;
    UserRegistry users;
    ConnectionRegistry registry;  // every loop's /chat connections, for GET /api/connections
    // Every loop's counters (net::Counter: any thread may read them), for /stats. Filled
    // before the loops start.
    std::vector<const ws::ServerStats*> stats;
    std::vector<const ChatStats*> chat_stats;     // likewise, for /metrics
    std::vector<const net::LoopStats*> loop_stats;
    std::atomic<uint32_t> connections{0};  // open connections of every loop (--max-connections)
    net::PeerLimit peers;                  // per peer address, every loop (--max-connections-per-ip)
    net::OutputBudget output_budget;       // unsent copies, every loop (--max-total-output-bytes)
    // The certificates of the TLS listeners (null: no TLS), swapped whole on SIGHUP. Not owned.
    const net::TlsServerContextHolder* tls = nullptr;
    // --trace-*: the one writer of every loop's trace lines (null: no tracing), and the
    // connection ids every loop draws from (ws::ServerTracer). Not owned.
    ws::TraceWriter* trace_writer = nullptr;
    std::atomic<uint64_t> connection_ids{1};
    // Set by the main thread on SIGINT/SIGTERM (then every loop is woken): each loop's next
    // before-wait hook starts its server's graceful shutdown. release/acquire: the flag is
    // the only thing passed.
    std::atomic<bool> stopping{false};

    // SIGHUP: main publishes a new configuration; each loop copies its reloadable settings
    // into its own Options (ServerLoop::config_) before it next waits, so no setting is ever
    // written while another thread reads it. The snapshot is immutable once published.
    void publish_config(std::shared_ptr<const Options> next) {
        std::lock_guard<std::mutex> lock(config_mu_);
        config_ = std::move(next);
        // release: a loop that sees the new generation (acquire) finds config_ set; the
        // mutex orders the pointer itself.
        config_generation.fetch_add(1, std::memory_order_release);
    }
    std::shared_ptr<const Options> latest_config() {
        std::lock_guard<std::mutex> lock(config_mu_);
        return config_;
    }
    std::atomic<uint64_t> config_generation{0};

private:
    std::mutex config_mu_;
    std::shared_ptr<const Options> config_;
};

}  // namespace epws::chat
