// ws/http/response.cc: HTTP/1.1 response heads and the refusals for each HttpError.
// Layer: ws/.
#include "ws/http/response.h"

#include <charconv>

namespace epws::ws {
namespace {

void append_number(std::string& out, size_t n) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    out.append(buf, ec == std::errc{} ? static_cast<size_t>(end - buf) : 0);
}

// Status line, Content-Type (if any), Content-Length (where the status allows a body), extra
// headers, Connection and the blank line.
void append_head(std::string& out, int status, std::string_view content_type, size_t body_size,
                 std::string_view connection, std::string_view extra_headers) {
    out += "HTTP/1.1 ";
    append_number(out, static_cast<size_t>(status));
    out += ' ';
    out += status_text(status);
    out += "\r\n";
    if (!content_type.empty()) {
        out += "Content-Type: ";
        out += content_type;
        out += "\r\n";
    }
    if (status_has_content(status)) {
        out += "Content-Length: ";
        append_number(out, body_size);
        out += "\r\n";
    }
    out += extra_headers;
    out += "Connection: ";
    out += connection;
    out += "\r\n\r\n";
}

}  // namespace

std::string_view status_text(int status) {
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

void append_http_response(std::string& out, int status, std::string_view content_type,
                          std::string_view body, bool keep_alive, std::string_view extra_headers) {
    append_head(out, status, content_type, body.size(), keep_alive ? "keep-alive" : "close",
                extra_headers);
    out += body;
}

void append_http_head(std::string& out, int status, std::string_view content_type,
                      size_t body_size, bool keep_alive, std::string_view extra_headers) {
    append_head(out, status, content_type, body_size, keep_alive ? "keep-alive" : "close",
                extra_headers);
}

void append_http_error(std::string& out, HttpError e) {
    const int status = http_status(e);
    std::string_view extra;
    std::string_view connection = "close";
    if (status == 426) {
        // RFC 7231 §6.5.15: a 426 names the protocol to upgrade to; RFC 7230 §6.7: a sender of
        // Upgrade also lists it in Connection. RFC 6455 §4.4: a version mismatch names the versions
        // we speak.
        extra = e == HttpError::kBadWsVersion
                    ? "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                    : "Upgrade: websocket\r\n";
        connection = "Upgrade, close";
    } else if (status == 405) {
        extra = "Allow: GET\r\n";  // RFC 7231 §6.5.5: a 405 must list the allowed methods
    } else if (status == 503) {
        extra = "Retry-After: 1\r\n";  // RFC 7231 §7.1.3: a hint for well-behaved clients
    }
    std::string_view reason = http_reason(e);
    append_head(out, status, "text/plain; charset=utf-8", reason.size() + 1, connection, extra);
    out += reason;
    out += '\n';
}

}  // namespace epws::ws
