// ws/routes.cc: the path table. Layer: ws/.
#include "ws/routes.h"

#include <cassert>

namespace epws::ws {

void Routes::add_websocket(std::string path, Endpoint& endpoint) {
    assert(endpoints_.size() < kNoEndpoint);  // a connection keeps its endpoint in one byte
    endpoints_.push_back({std::move(path), &endpoint});
}

void Routes::add_http(std::string path, HttpHandler handler) {
    handlers_.push_back({std::move(path), std::move(handler)});
}

uint8_t Routes::find_websocket(std::string_view path) const {
    for (size_t i = 0; i < endpoints_.size(); ++i)
        if (endpoints_[i].path == path) return static_cast<uint8_t>(i);
    return kNoEndpoint;
}

void Routes::serve_http(const HttpRequest& req, HttpReply& reply) const {
    if (req.method != "GET" && req.method != "HEAD") {
        reply.status = 405;
        reply.body = "only GET and HEAD are served here\n";
        reply.extra_headers = "Allow: GET, HEAD\r\n";  // RFC 9110 §15.5.6: a 405 lists them
        return;
    }
    for (const HttpRoute& r : handlers_) {
        if (r.path == req.path) return r.handler(req, reply);
    }
    if (fallback_) return fallback_(req, reply);
    reply.status = 404;
    reply.body = "not found\n";
}

}  // namespace epws::ws
