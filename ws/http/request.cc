// ws/http_request.cc: the in-place HTTP/1.1 request-head parser and header-value helpers.
// Layer: ws/. No I/O; allocation-free once the caller's header vector is warm.
#include "ws/http/request.h"

#include <array>
#include <cstring>

namespace epws::ws {
namespace {

// RFC 7230 §3.5: a server SHOULD ignore at least one empty line before the request line. A few are
// allowed (left over after a previous message); more is not a plausible client, so the rest are
// parsed as the start line and fail there. Bounded so the skip, redone on every call, stays O(1).
constexpr size_t kMaxLeadingEmptyLines = 4;

using ByteClass = std::array<bool, 256>;

// RFC 7230 §3.2.6: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" /
// "`" / "|" / "~" / DIGIT / ALPHA.
constexpr ByteClass kTchar = [] {
    ByteClass t{};
    for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}();

// RFC 7230 §3.2: field-value bytes are HT, SP, VCHAR and obs-text (0x80-0xFF); no other controls.
constexpr ByteClass kFieldValue = [] {
    ByteClass t{};
    t['\t'] = true;
    for (size_t c = 0x20; c < 0x7F; ++c) t[c] = true;
    for (size_t c = 0x80; c < 0x100; ++c) t[c] = true;
    return t;
}();

// RFC 3986 §2 allows only visible ASCII in a URI; '#' starts a fragment, which a request never
// carries (RFC 7230 §5.3, and RFC 6455 §3 forbids fragments in WebSocket URIs).
constexpr ByteClass kTargetChar = [] {
    ByteClass t{};
    for (size_t c = 0x21; c < 0x7F; ++c) t[c] = true;
    t['#'] = false;
    return t;
}();

bool all_of_class(std::string_view s, const ByteClass& cls) {
    for (char c : s) {
        if (!cls[static_cast<unsigned char>(c)]) return false;
    }
    return true;
}

constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = ascii_lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// Number of leading CRLF pairs to skip, at most `max_pairs`, in bytes.
size_t leading_crlf_bytes(std::string_view data, size_t max_pairs) {
    size_t pos = 0;
    for (size_t i = 0; i < max_pairs && data.substr(pos, 2) == "\r\n"; ++i) pos += 2;
    return pos;
}

// RFC 7230 §2.6: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive. Only 1.0 and 1.1 are
// spoken.
HttpError parse_version(std::string_view v, int& minor) {
    if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.')
        return HttpError::kBadRequestLine;
    auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    if (!is_digit(v[5]) || !is_digit(v[7])) return HttpError::kBadRequestLine;
    if (v[5] != '1' || v[7] > '1') return HttpError::kBadVersion;
    minor = v[7] - '0';
    return HttpError::kNone;
}

// RFC 9112 §3.2.2 absolute-form: "http" or "https" (case-insensitive, RFC 3986 §3.1) "://"
// authority path-abempty ["?" query]. Returns the part from the path on (perhaps empty) and sets
// authority; nullopt for another scheme, an empty authority or one with userinfo ('@'), which
// RFC 9110 §4.2.4 tells recipients to treat as an error.
std::optional<std::string_view> origin_of_absolute(std::string_view target,
                                                   std::string_view& authority) {
    const size_t sep = target.find("://");
    if (sep == std::string_view::npos) return std::nullopt;
    const std::string_view scheme = target.substr(0, sep);
    if (!ascii_iequals(scheme, "http") && !ascii_iequals(scheme, "https")) return std::nullopt;
    const std::string_view rest = target.substr(sep + 3);
    const size_t end = rest.find_first_of("/?");
    authority = rest.substr(0, end);
    if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
    return end == std::string_view::npos ? std::string_view{} : rest.substr(end);
}

// RFC 9110 §7.2: Host = uri-host [ ":" port ], uri-host being an IP-literal in brackets, an IPv4
// address or a reg-name (RFC 3986 §3.2.2: unreserved, pct-encoded, sub-delims). Empty is allowed
// (RFC 9112 §3.2: a target without authority). No '/', '?', '#', '@', space or non-ASCII.
constexpr ByteClass kHostChar = [] {
    ByteClass t{};
    for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] = true;
    for (char c : std::string_view("-._~%!$&'()*+,;=:[]")) t[static_cast<unsigned char>(c)] = true;
    return t;
}();

// RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host, to any request
// with more than one Host line, and to one whose Host value is invalid. With an absolute-form
// target the Host value is ignored (§3.2.2) but still required and still checked.
HttpError check_host(const HttpRequest& req) {
    const std::string_view* host = nullptr;
    for (const Header& h : req.headers) {
        if (!ascii_iequals(h.name, "host")) continue;
        if (host != nullptr) return HttpError::kDuplicateHost;
        host = &h.value;
    }
    if (host == nullptr) return req.minor_version >= 1 ? HttpError::kMissingHost : HttpError::kNone;
    return all_of_class(*host, kHostChar) ? HttpError::kNone : HttpError::kBadHost;
}

// RFC 7230 §3.1.1: request-line = method SP request-target SP HTTP-version, single spaces.
HttpError parse_request_line(std::string_view line, const HttpLimits& limits, HttpRequest& out) {
    size_t sp1 = line.find(' ');
    if (sp1 == 0 || sp1 == std::string_view::npos) return HttpError::kBadRequestLine;
    out.method = line.substr(0, sp1);
    if (!all_of_class(out.method, kTchar))
        return HttpError::kBadRequestLine;  // §3.1.1: method = token
    size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return HttpError::kBadRequestLine;
    out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (out.target.size() > limits.max_target_bytes) return HttpError::kUriTooLong;  // §3.1.1: 414
    if (out.target.empty() || !all_of_class(out.target, kTargetChar)) {
        return HttpError::kBadRequestLine;
    }
    // RFC 9112 §3.2: origin-form ("/path?query"), asterisk-form for OPTIONS, or absolute-form,
    // which a server MUST accept (§3.2.2) though clients send it only to proxies. Authority-form
    // is for CONNECT, which this server does not do.
    std::string_view origin = out.target;
    out.authority = {};
    if (out.target.front() != '/' && out.target != "*") {
        std::optional<std::string_view> o = origin_of_absolute(out.target, out.authority);
        if (!o) return HttpError::kBadRequestLine;
        origin = *o;
    }
    size_t q = origin.find('?');
    out.path = origin.substr(0, q);
    // RFC 9112 §3.2.1 (and §3.3): an empty path of an absolute URI is "/".
    if (out.path.empty()) out.path = "/";
    out.query = q == std::string_view::npos ? std::string_view{} : origin.substr(q + 1);
    return parse_version(line.substr(sp2 + 1), out.minor_version);
}

// This server accepts no request bodies, so any announced body is refused rather than skipped: RFC
// 7230 §3.3.3 makes a mis-framed body a request-smuggling hazard.
HttpError check_no_body(const std::vector<Header>& headers) {
    for (const Header& h : headers) {
        if (ascii_iequals(h.name, "transfer-encoding")) return HttpError::kBadContentLength;
        if (ascii_iequals(h.name, "content-length") &&
            (h.value.empty() || h.value.find_first_not_of('0') != std::string_view::npos)) {
            return HttpError::kBadContentLength;
        }
    }
    return HttpError::kNone;
}

// A head over the byte limit is 431, unless its request line already shows a target over the target
// limit: then 414 names the real cause.
HttpError oversized_error(std::string_view data, const HttpLimits& limits) {
    data.remove_prefix(leading_crlf_bytes(data, kMaxLeadingEmptyLines));
    data = data.substr(0, data.find('\r'));
    size_t sp1 = data.find(' ');
    if (sp1 == std::string_view::npos) return HttpError::kHeadersTooLarge;
    size_t target_len = data.find(' ', sp1 + 1);
    target_len = (target_len == std::string_view::npos ? data.size() : target_len) - sp1 - 1;
    return target_len > limits.max_target_bytes ? HttpError::kUriTooLong
                                                : HttpError::kHeadersTooLarge;
}

HttpError head_fault_error(HeadFault f, std::string_view data, const HttpLimits& limits) {
    switch (f) {
    case HeadFault::kBareLfInStartLine: return HttpError::kBadRequestLine;
    case HeadFault::kBareLfInHeaders: return HttpError::kBadHeaderLine;
    case HeadFault::kTooLarge: return oversized_error(data, limits);
    case HeadFault::kNone: break;
    }
    return HttpError::kBadRequestLine;
}

HttpError header_lines_error(HeaderLinesStatus s) {
    switch (s) {
    case HeaderLinesStatus::kOk: return HttpError::kNone;
    case HeaderLinesStatus::kBadLine: return HttpError::kBadHeaderLine;
    case HeaderLinesStatus::kTooMany: return HttpError::kTooManyHeaders;
    }
    return HttpError::kBadHeaderLine;
}

// RFC 7230 §3.2: header-field = field-name ":" OWS field-value OWS.
// §3.2.4: obs-fold (a line starting with SP/HT) must be refused or replaced; its leading SP/HT is
// not a tchar, so the name check below refuses it.
bool parse_header_line(std::string_view line, Header& out) {
    size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return false;
    out.name = line.substr(0, colon);
    // §3.2.4: no whitespace is allowed between the name and ':' (a smuggling vector); tchar
    // excludes it.
    if (!all_of_class(out.name, kTchar)) return false;
    out.value = trim_ows(line.substr(colon + 1));
    return is_field_value(out.value);
}

}  // namespace

const std::string_view* find_header(std::span<const Header> headers, std::string_view name) {
    for (const Header& h : headers) {
        if (ascii_iequals(h.name, name)) return &h.value;
    }
    return nullptr;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

bool is_field_value(std::string_view s) { return all_of_class(s, kFieldValue); }

HeadSpan find_head(std::string_view data, size_t& scanned, size_t max_bytes,
                   size_t max_leading_crlfs) {
    const size_t begin = leading_crlf_bytes(data, max_leading_crlfs);
    const size_t window = data.size() < max_bytes ? data.size() : max_bytes;
    size_t pos = scanned > begin ? scanned : begin;
    while (pos < window) {
        const void* hit = std::memchr(data.data() + pos, '\n', window - pos);
        if (hit == nullptr) break;
        const size_t lf = static_cast<size_t>(static_cast<const char*>(hit) - data.data());
        if (lf == begin || data[lf - 1] != '\r') {
            // Strict CRLF (RFC 7230 §3.5 lets a parser accept bare LF; we do not, so that what we
            // accept is exactly what every intermediary splits the same way). Fail now rather than
            // wait.
            bool in_start = data.substr(begin, lf - begin).find('\n') == std::string_view::npos;
            scanned = lf;
            return {ParseStatus::kError, begin, 0,
                    in_start ? HeadFault::kBareLfInStartLine : HeadFault::kBareLfInHeaders};
        }
        // Every earlier LF was checked to follow a CR, so "\n" two back means CRLFCRLF ends here.
        if (lf >= begin + 3 && data[lf - 2] == '\n') return {ParseStatus::kDone, begin, lf + 1, {}};
        pos = lf + 1;
    }
    scanned = window;
    // No terminator in the first max_bytes: the head would be longer than the limit, so fail now.
    if (data.size() >= max_bytes) return {ParseStatus::kError, begin, 0, HeadFault::kTooLarge};
    return {ParseStatus::kNeedMore, begin, 0, HeadFault::kNone};
}

HeadParts split_head(std::string_view head) {
    size_t eol = head.find("\r\n");
    size_t lines_begin = eol + 2;
    // The head ends in CRLFCRLF; header lines stop before the final empty line's CRLF.
    size_t lines_end = head.size() - 2;
    if (lines_begin > lines_end) lines_begin = lines_end;  // no header lines
    return {head.substr(0, eol), head.substr(lines_begin, lines_end - lines_begin)};
}

HeaderLinesStatus parse_header_lines(std::string_view header_lines, size_t max_headers,
                                     std::vector<Header>& out) {
    out.clear();
    while (!header_lines.empty()) {
        size_t eol = header_lines.find("\r\n");
        if (eol == std::string_view::npos) return HeaderLinesStatus::kBadLine;
        if (out.size() == max_headers) return HeaderLinesStatus::kTooMany;
        Header h;
        if (!parse_header_line(header_lines.substr(0, eol), h)) return HeaderLinesStatus::kBadLine;
        out.push_back(h);
        header_lines.remove_prefix(eol + 2);
    }
    return HeaderLinesStatus::kOk;
}

ParseResult parse_request(std::string_view data, size_t& scanned, const HttpLimits& limits,
                          HttpRequest& out) {
    HeadSpan span = find_head(data, scanned, limits.max_header_bytes, kMaxLeadingEmptyLines);
    if (span.status == ParseStatus::kNeedMore) return {ParseStatus::kNeedMore, 0, HttpError::kNone};
    scanned = 0;
    if (span.status == ParseStatus::kError) {
        return {ParseStatus::kError, 0, head_fault_error(span.fault, data, limits)};
    }
    HeadParts parts = split_head(data.substr(span.begin, span.end - span.begin));
    HttpError e = parse_request_line(parts.start_line, limits, out);
    if (e == HttpError::kNone) {
        e = header_lines_error(
            parse_header_lines(parts.header_lines, limits.max_headers, out.headers));
    }
    if (e == HttpError::kNone) e = check_no_body(out.headers);
    if (e == HttpError::kNone) e = check_host(out);
    if (e != HttpError::kNone) return {ParseStatus::kError, 0, e};
    return {ParseStatus::kDone, span.end, HttpError::kNone};
}

std::optional<std::string_view> next_list_element(std::string_view& rest) {
    while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string_view element = trim_ows(rest.substr(0, comma));
        rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
        if (!element.empty()) return element;  // RFC 7230 §7: empty list elements are ignored
    }
    return std::nullopt;
}

bool header_has_token(std::string_view value, std::string_view token) {
    while (auto element = next_list_element(value)) {
        if (ascii_iequals(*element, token))
            return true;  // RFC 7230 §6.1/§6.7: tokens are case-insensitive
    }
    return false;
}

std::optional<std::string_view> query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
        size_t eq = pair.find('=');
        if (pair.substr(0, eq) != name) continue;
        return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    }
    return std::nullopt;
}

bool percent_decode(std::string_view in, std::string& out) {
    out.clear();
    for (size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '+') {
            c = ' ';  // application/x-www-form-urlencoded: '+' is a space in queries
        } else if (c == '%') {
            // RFC 3986 §2.1: pct-encoded = "%" HEXDIG HEXDIG
            if (in.size() - i < 3) return false;
            int hi = hex_value(in[i + 1]);
            int lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return false;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        out.push_back(c);
    }
    return true;
}

size_t count_headers(std::span<const Header> headers, std::string_view name) {
    size_t n = 0;
    for (const Header& h : headers) n += ascii_iequals(h.name, name) ? 1U : 0U;
    return n;
}

bool any_header_has_token(std::span<const Header> headers, std::string_view name,
                          std::string_view token) {
    for (const Header& h : headers) {
        if (ascii_iequals(h.name, name) && header_has_token(h.value, token)) return true;
    }
    return false;
}

}  // namespace epws::ws
