// ws/http/response.h: writing HTTP/1.1 responses: status lines, the plain answers the server
// gives and the refusals for each HttpError. Layer: ws/ (no I/O).
#pragma once

#include <string>
#include <string_view>

#include "ws/error.h"
#include "ws/shared_buffer.h"

namespace epws::ws {

// A plain HTTP answer a route fills in.
struct HttpReply {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::string extra_headers;  // each a full "Name: value\r\n"
    // Instead of body: bytes many replies share (a cached file), sent by reference, so a slow
    // reader holds no copy of its own. body stays empty then.
    SharedBufferRef shared_body;
    size_t body_size() const { return shared_body ? shared_body.size() : body.size(); }
};

// Standard reason phrase for an HTTP status ("Switching Protocols", "Not Found"), or "Unknown".
std::string_view status_text(int status);

// Whether a response with this status carries content (RFC 9110 §6.4.1: 1xx, 204 and 304 never
// do). Responses that do not get no Content-Length either: §8.6 forbids it in 1xx and 204, and
// in a 304 it would have to be the length the 200 would have had (§15.4.5), so it is left out.
constexpr bool status_has_content(int status) {
    return status >= 200 && status != 204 && status != 304;
}

// Appends a complete HTTP/1.1 response: status line, Content-Type (left out if empty),
// Content-Length (left out when !status_has_content(status); body must then be empty),
// `extra_headers` (each a full "Name: value\r\n"), Connection: keep-alive or close, blank line,
// body.
void append_http_response(std::string& out, int status, std::string_view content_type,
                          std::string_view body, bool keep_alive,
                          std::string_view extra_headers = {});

// The head of that response alone, for a body of body_size bytes sent after it.
void append_http_head(std::string& out, int status, std::string_view content_type,
                      size_t body_size, bool keep_alive, std::string_view extra_headers = {});

// Appends the refusal for `e` (which must not be kNone): status http_status(e), text/plain body
// http_reason(e) + "\n", Connection: close. A 426 adds "Upgrade: websocket" and the "Upgrade"
// connection option (RFC 7231 §6.5.15, RFC 7230 §6.7); for kBadWsVersion also
// "Sec-WebSocket-Version: 13" (RFC 6455 §4.4). 405 adds "Allow: GET"; 503 adds "Retry-After: 1".
void append_http_error(std::string& out, HttpError e);

}  // namespace epws::ws
