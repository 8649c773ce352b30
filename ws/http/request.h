// ws/http/request.h: an in-place HTTP/1.1 request-head parser (RFC 7230) and the small header-value
// helpers the handshake needs. Layer: ws/ (pure codec: bytes in, results out, no I/O, no allocation
// once warm). The head-scanning and header-line pieces are shared with parse_response
// (handshake.h).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ws/error.h"

namespace epws::ws {

// Every HTTP limit a client controls. Defaults follow common servers (nginx: 8 KiB of headers).
struct HttpLimits {
    size_t max_header_bytes = 8192;  // whole head: request line + headers + final CRLFCRLF -> 431
    size_t max_headers = 100;        // header fields -> 431
    // Request target (path + query) -> 414. Covers /chat?username=U&token=T with the longest
    // token the verifier takes (chat/jwt.h kMaxTokenBytes, 4096) and a 32-code-point name fully
    // percent-encoded (384 bytes), with room to spare.
    size_t max_target_bytes = 6144;
};

// One header field. Both views point into the parsed buffer; the value has its OWS trimmed.
struct Header {
    std::string_view name, value;
};

// First header named `name` (ASCII case-insensitive, RFC 7230 §3.2), or nullptr. The pointer is
// into `headers` and is valid until that vector is next modified (i.e. the next parse into it).
const std::string_view* find_header(std::span<const Header> headers, std::string_view name);

// A parsed request head. Every view points into the buffer given to parse_request and is valid
// while that buffer is unchanged (not moved, compacted or freed). Reuse one object per connection:
// `headers` keeps its capacity, so parsing does not allocate once warm. Not thread-safe; one owner
// at a time.
struct HttpRequest {
    // target as sent; path and query of its origin form (query excludes the '?'). For an
    // absolute-form target ("http://host:1/p?q", RFC 9112 §3.2.2) authority is "host:1" and path
    // "/p" ("/" when the URI has none, a static string); otherwise authority is empty.
    std::string_view method, target, path, query, authority;
    int minor_version = 1;                         // HTTP/1.<minor>, 0 or 1
    std::vector<Header> headers;                   // in arrival order, duplicates kept

    // First header named `name`, case-insensitive; nullptr if absent. Valid until the next parse.
    const std::string_view* find(std::string_view name) const { return find_header(headers, name); }
};

enum class ParseStatus { kNeedMore, kDone, kError };

// consumed: when kDone, bytes of the head including leading empty lines and the final CRLFCRLF; the
// bytes after it (e.g. a client's first WebSocket frames) are the caller's. 0 otherwise.
// error: HttpError::kNone unless kError.
struct ParseResult {
    ParseStatus status;
    size_t consumed;
    HttpError error;
};

// Parses one request head from `data`, which must be the whole unconsumed head so far: on each call
// for the same connection the prefix is unchanged and more bytes may be appended. `scanned` carries
// how far the terminator search got, so a client trickling one byte at a time costs O(n) in total
// (like picohttpparser's last_len): start it at 0; it is set back to 0 on kDone and kError. `out`
// is filled only on kDone (and is unspecified otherwise). Strict: every line must end in CRLF (a
// bare LF is an error, never a line end), obs-fold is refused, and a body (Content-Length other
// than 0, or any Transfer-Encoding) is refused because this server accepts none, and so is an
// HTTP/1.1 request without exactly one valid Host (RFC 9112 §3.2; HTTP/1.0 may omit it). Errors are
// reported as soon as they are certain: a head over the byte limit fails as soon as that many bytes
// are buffered without a terminator. Pure function of its arguments; no allocation once out.headers
// has enough capacity.
ParseResult parse_request(std::string_view data, size_t& scanned, const HttpLimits& limits,
                          HttpRequest& out);

// ASCII case-insensitive equality, without building lowercase copies.
bool ascii_iequals(std::string_view a, std::string_view b);

// Pops the next element of a comma-separated list (RFC 7230 §7: `#rule`) from `rest`, trimmed of
// OWS; empty elements are skipped. Returns nullopt when the list is exhausted. The result views
// `rest`'s buffer. Elements are not unquoted (no header this server reads needs quoted commas).
std::optional<std::string_view> next_list_element(std::string_view& rest);

// Does the comma-separated `value` contain `token`, compared ASCII case-insensitively? For
// Connection and Upgrade: "keep-alive, Upgrade" contains "upgrade"; "Upgradex" does not.
bool header_has_token(std::string_view value, std::string_view token);

// How many headers are named `name` (case-insensitive).
size_t count_headers(std::span<const Header> headers, std::string_view name);
// RFC 9110 §5.3: a list-valued header may be split over several lines; whether any of them
// holds `token`.
bool any_header_has_token(std::span<const Header> headers, std::string_view name,
                          std::string_view token);

// Raw (still percent-encoded) value of the first `name=value` pair in an '&'-separated query. The
// name is compared byte for byte, undecoded. "a&name&b" gives "" for "name"; absent gives nullopt.
// The result views `query`'s buffer.
std::optional<std::string_view> query_param(std::string_view query, std::string_view name);

// Decodes %XX escapes and, as in form-encoded queries, '+' to ' '. Replaces `out`'s contents (its
// capacity is reused). Returns false on a '%' not followed by two hex digits; `out` is then
// unspecified. The result may contain any byte, NUL included: validate it for its use. Not for
// paths ('+' rule).
bool percent_decode(std::string_view in, std::string& out);

// ---- Building blocks shared by parse_request and parse_response (handshake.cc). ----

// Why a head could not be delimited.
enum class HeadFault { kNone, kBareLfInStartLine, kBareLfInHeaders, kTooLarge };

// Where a head lies in the data: [begin, end), end just past the final CRLFCRLF; begin is past any
// skipped leading empty lines. Valid only when status is kDone.
struct HeadSpan {
    ParseStatus status;
    size_t begin;
    size_t end;
    HeadFault fault;
};

// Finds the end of a head (the first CRLFCRLF) in `data`, resuming from `scanned` (see
// parse_request; this function leaves `scanned` at the resume point and never resets it). Skips up
// to `max_leading_crlfs` empty lines before the start line (RFC 7230 §3.5). Fails on a bare LF and
// on a head that would exceed `max_bytes` (counted from data[0]), as soon as either is certain.
HeadSpan find_head(std::string_view data, size_t& scanned, size_t max_bytes,
                   size_t max_leading_crlfs);

// The head [begin, end) from find_head split into its start line (without CRLF) and its header
// lines (each ending in CRLF, the final empty line excluded).
struct HeadParts {
    std::string_view start_line, header_lines;
};
HeadParts split_head(std::string_view head);

enum class HeaderLinesStatus { kOk, kBadLine, kTooMany };

// Parses `header_lines` (from split_head) into `out` (cleared first, capacity kept), at most
// `max_headers` fields. Names are RFC 7230 tchars followed directly by ':'; values may hold HT, SP,
// visible ASCII and obs-text but no other control bytes; obs-fold is refused (RFC 7230 §3.2.4).
HeaderLinesStatus parse_header_lines(std::string_view header_lines, size_t max_headers,
                                     std::vector<Header>& out);

// Is every byte of `s` a valid field-value byte (HT, SP, VCHAR, obs-text; RFC 7230 §3.2)?
bool is_field_value(std::string_view s);

}  // namespace epws::ws
