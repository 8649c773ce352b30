// chat/program/options.h: the server's command line: every flag, its default and its help text.
// Layer: chat/program/ (the server binary), filling the ws/ server config and the chat's.
#pragma once

#include <string>
#include <string_view>
#include <vector>
#include <string_view>

#include "chat/config.h"
#include "net/log.h"
#include "chat/redis/redis_cluster.h"
#include "chat/redis/redis_url.h"
#include "ws/server_config.h"

// The browser client's folder; the Makefile sets it to the repository's web/.
#ifndef EPWS_WEB_ROOT
#define EPWS_WEB_ROOT "web"
#endif

namespace epws::chat {

enum class ParseOutcome { kRun, kHelp, kError };

// Everything the command line sets: the WebSocket server's limits and the chat's.
struct Options : ws::ServerConfig {
    ChatConfig chat;
    std::string web_root = EPWS_WEB_ROOT;  // static files served for other GET paths
    uint32_t drain_ms = 0;       // SIGTERM: WebSockets closed spread over this long (0: at once)
    uint16_t metrics_port = 0;   // GET /metrics also on 127.0.0.1:this port (0: none)
    std::string config_path;     // --config FILE (read before the flags, which override it)
    bool check_config = false;   // --check-config: validate, print the result, exit 0 or 1
    net::LogLevel log_level = net::LogLevel::kInfo;
    net::LogFormat log_format = net::LogFormat::kText;
    bool plain = true;                     // ws:// on --port (--port off: none)
    // wss:// on tls_port: certificate chains and their keys, paired in the order given; the
    // first is the default, the others are chosen by SNI. Empty: no TLS listener.
    std::vector<std::string> tls_certs;
    std::vector<std::string> tls_keys;
    uint16_t tls_port = 8443;
    bool tls_port_set = false;
    bool redis_enabled = false;            // --redis: the bus is Redis (chat/redis/redis_bus.h)
    RedisUrl redis;
    std::vector<RedisUrl> redis_cluster;   // --redis-cluster: its seed nodes (redis is the first)
    uint32_t redis_timeout_ms = 2000;
    uint32_t redis_presence_ttl_ms = 10000;
    // Tracing on stderr (ws/server_trace.h): the connection with this id (0: none), and every
    // connection whose request carries this user (empty: none).
    uint64_t trace_connection = 0;
    std::string trace_user;
};

// Parses argv into config (which holds the defaults on entry). On kError, err holds one line
// naming the flag and what is wrong with it.
ParseOutcome parse_options(int argc, const char* const* argv, Options& config,
                           std::string& err);
// Sets one flag by its name without the dashes ("max-message-bytes") from a text value, as the
// command line would. "" or what is wrong (an unknown name included). For the config file.
std::string set_option(std::string_view name, std::string_view value, Options& config);
// Every flag's name without the dashes, in --help order (for the reload table's test).
std::vector<std::string_view> option_names();
// "" or what is wrong with an admin token (--admin-token, its file, EPWS_ADMIN_TOKEN): at least
// 16 bytes of visible ASCII.
std::string check_admin_token(std::string_view token);
// The --help text, with the defaults taken from a default-constructed config.
std::string usage(const char* program);

}  // namespace epws::chat
