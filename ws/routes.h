// ws/routes.h: the server's path table: which Endpoint answers a WebSocket upgrade and which
// handler a plain HTTP request, by exact path. Layer: ws/.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ws/endpoint.h"
#include "ws/http/request.h"
#include "ws/http/response.h"

namespace epws::ws {

// Fills reply for a request; runs on the loop thread, req valid only during the call.
using HttpHandler = std::function<void(const HttpRequest& req, HttpReply& reply)>;

// Filled before the loop runs, read-only after. A path may have both a WebSocket endpoint and
// an HTTP handler (/echo answers both). Lookups compare whole paths: a table of a few entries.
class Routes {
public:
    // Endpoints are not owned and must outlive the table.
    void add_websocket(std::string path, Endpoint& endpoint);
    void add_http(std::string path, HttpHandler handler);
    // For any GET or HEAD path no handler matches (static files); without one: 404.
    void set_fallback(HttpHandler handler) { fallback_ = std::move(handler); }

    // The index of path's endpoint (what a connection keeps: one byte), or kNoEndpoint.
    static constexpr uint8_t kNoEndpoint = 0xFF;
    uint8_t find_websocket(std::string_view path) const;
    Endpoint& endpoint(uint8_t index) const { return *endpoints_[index].endpoint; }
    // The endpoints in index order, for counters kept by index (metrics).
    size_t websocket_count() const { return endpoints_.size(); }
    std::string_view websocket_path(uint8_t index) const { return endpoints_[index].path; }
    // Answers a plain HTTP request: GET and HEAD only (405 otherwise), then the path's handler,
    // then the fallback, then 404.
    void serve_http(const HttpRequest& req, HttpReply& reply) const;

private:
    struct WebSocketRoute {
        std::string path;
        Endpoint* endpoint;
    };
    struct HttpRoute {
        std::string path;
        HttpHandler handler;
    };
    std::vector<WebSocketRoute> endpoints_;
    std::vector<HttpRoute> handlers_;
    HttpHandler fallback_;
};

}  // namespace epws::ws
