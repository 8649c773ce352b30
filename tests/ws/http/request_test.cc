// tests/ws/http/request_test.cc: the HTTP/1.1 request-head parser fed whole, byte by byte and split
// at every offset, every refusal cause, the limits at and one over, and the header/query helpers.
#include "ws/http/request.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace epws::ws;

namespace {

// What a parse produced, copied out of the buffer so that three ways of feeding can be compared.
struct Outcome {
    ParseStatus status = ParseStatus::kNeedMore;
    size_t consumed = 0;
    HttpError error = HttpError::kNone;
    std::string request;  // "METHOD|target|path|query|minor|name=value|..." when kDone

    bool operator==(const Outcome&) const = default;
};

std::string describe(const HttpRequest& r) {
    std::string s = std::string(r.method) + "|" + std::string(r.target) + "|" +
                    std::string(r.path) + "|" + std::string(r.query) + "|" +
                    std::to_string(r.minor_version);
    for (const Header& h : r.headers) s += "|" + std::string(h.name) + "=" + std::string(h.value);
    return s;
}

Outcome outcome_of(const ParseResult& r, const HttpRequest& req) {
    return {r.status, r.consumed, r.error, r.status == ParseStatus::kDone ? describe(req) : ""};
}

Outcome parse_whole(std::string_view data, const HttpLimits& limits = {}) {
    HttpRequest req;
    size_t scanned = 0;
    ParseResult r = parse_request(data, scanned, limits, req);
    return outcome_of(r, req);
}

// The terminator search may look back at most this far: "\r\n\r" before a new '\n'.
constexpr size_t kMaxRescan = 3;

// Feeds `data` one byte at a time, as a trickling client would, checking that `scanned` keeps the
// total work linear: after each kNeedMore it is within kMaxRescan bytes of the end and never moves
// back.
Outcome parse_bytewise(std::string_view data, const HttpLimits& limits = {}) {
    HttpRequest req;
    size_t scanned = 0;
    for (size_t n = 1; n <= data.size(); ++n) {
        size_t before = scanned;
        ParseResult r = parse_request(data.substr(0, n), scanned, limits, req);
        if (r.status != ParseStatus::kNeedMore) return outcome_of(r, req);
        CHECK(scanned >= before);
        CHECK(n - scanned <= kMaxRescan);
    }
    return {};
}

// Parses data[0, cut) then, if that needed more, the whole of data, with one `scanned`.
Outcome parse_split(std::string_view data, size_t cut, const HttpLimits& limits = {}) {
    HttpRequest req;
    size_t scanned = 0;
    ParseResult r = parse_request(data.substr(0, cut), scanned, limits, req);
    if (r.status == ParseStatus::kNeedMore) r = parse_request(data, scanned, limits, req);
    return outcome_of(r, req);
}

// Whole, byte by byte, and split at every offset must all agree; returns the whole-parse outcome.
Outcome parse_three_ways(std::string_view data, const HttpLimits& limits = {}) {
    Outcome whole = parse_whole(data, limits);
    CHECK(parse_bytewise(data, limits) == whole);
    for (size_t cut = 0; cut <= data.size(); ++cut) {
        CAPTURE(cut);
        CHECK(parse_split(data, cut, limits) == whole);
    }
    return whole;
}

constexpr std::string_view kBrowserRequest =
    "GET /chat?room=lobby&name=J%C3%B6rg HTTP/1.1\r\n"
    "Host: localhost:8080\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Pragma: no-cache\r\n"
    "Cache-Control: no-cache\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36\r\n"
    "Upgrade: websocket\r\n"
    "Origin: http://localhost:8080\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "\r\n";

// A request with `target`, the Host line HTTP/1.1 requires (RFC 9112 §3.2), `extra` header lines
// ("X-N: v\r\n" each) and nothing else.
std::string make_request(std::string_view target, size_t extra) {
    std::string s = "GET " + std::string(target) + " HTTP/1.1\r\nHost: h\r\n";
    for (size_t i = 0; i < extra; ++i) s += "X-" + std::to_string(i) + ": v\r\n";
    return s + "\r\n";
}

}  // namespace

TEST_SUITE("ws/http/request") {

TEST_CASE("a browser's upgrade request parses the same whole, byte by byte and split anywhere") {
    Outcome o = parse_three_ways(kBrowserRequest);
    REQUIRE(o.status == ParseStatus::kDone);
    CHECK(o.consumed == kBrowserRequest.size());

    HttpRequest req;
    size_t scanned = 0;
    REQUIRE(parse_request(kBrowserRequest, scanned, {}, req).status == ParseStatus::kDone);
    CHECK(scanned == 0);
    CHECK(req.method == "GET");
    CHECK(req.target == "/chat?room=lobby&name=J%C3%B6rg");
    CHECK(req.path == "/chat");
    CHECK(req.query == "room=lobby&name=J%C3%B6rg");
    CHECK(req.minor_version == 1);
    CHECK(req.headers.size() == 12);
    REQUIRE(req.find("sec-websocket-key") != nullptr);
    CHECK(*req.find("SEC-WEBSOCKET-KEY") == "dGhlIHNhbXBsZSBub25jZQ==");
    CHECK(*req.find("Connection") == "keep-alive, Upgrade");
    CHECK(req.find("Content-Length") == nullptr);
}

TEST_CASE("bytes after the head, such as the first WebSocket frame, are left unconsumed") {
    // RFC 6455 §5.7: a masked "Hello", which a client may send right behind its handshake. The
    // bytes after it hold a CRLFCRLF too, which must not be mistaken for the end of the head.
    std::string data = std::string(kBrowserRequest) +
                       "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58" + "\r\n\r\n";
    Outcome o = parse_three_ways(data);
    CHECK(o.status == ParseStatus::kDone);
    CHECK(o.consumed == kBrowserRequest.size());
}

TEST_CASE("pipelined heads parse one after another from the consumed offset") {
    std::string data = make_request("/a", 1) + make_request("/b?x=1", 2);
    HttpRequest req;
    size_t scanned = 0;
    ParseResult first = parse_request(data, scanned, {}, req);
    REQUIRE(first.status == ParseStatus::kDone);
    CHECK(req.target == "/a");
    std::string_view rest = std::string_view(data).substr(first.consumed);
    ParseResult second = parse_request(rest, scanned, {}, req);
    REQUIRE(second.status == ParseStatus::kDone);
    CHECK(req.path == "/b");
    CHECK(req.query == "x=1");
    CHECK(req.headers.size() == 3);
    CHECK(first.consumed + second.consumed == data.size());
}

TEST_CASE("a few empty lines before the request line are skipped and counted as consumed") {
    std::string data = "\r\n\r\n" + make_request("/", 0);
    Outcome o = parse_three_ways(data);
    CHECK(o.status == ParseStatus::kDone);
    CHECK(o.consumed == data.size());
    CHECK(o.request == "GET|/|/||1|Host=h");
    // Five is more than any plausible client leaves behind: the fifth is parsed as the start line.
    CHECK(parse_three_ways("\r\n\r\n\r\n\r\n\r\n" + make_request("/", 0)).error ==
          HttpError::kBadRequestLine);
}

TEST_CASE("targets split into path and query; asterisk-form and HTTP/1.0 are accepted") {
    CHECK(parse_whole("GET /?x HTTP/1.1\r\nHost: h\r\n\r\n").request == "GET|/?x|/|x|1|Host=h");
    CHECK(parse_whole("GET /? HTTP/1.1\r\nHost: h\r\n\r\n").request == "GET|/?|/||1|Host=h");
    CHECK(parse_whole("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").request ==
          "OPTIONS|*|*||1|Host=h");
    CHECK(parse_whole("GET /a/b.html HTTP/1.0\r\n\r\n").request == "GET|/a/b.html|/a/b.html||0");
    // OWS around values is trimmed; inner spaces stay; an empty value is allowed.
    CHECK(parse_whole("GET / HTTP/1.1\r\nA: \t x  y \t\r\nB:\r\nHost: h\r\n\r\n").request ==
          "GET|/|/||1|A=x  y|B=|Host=h");
}

TEST_CASE("every parse refusal is produced by a request that triggers it, fed three ways") {
    struct Row {
        std::string_view request;
        HttpError error;
    };
    const Row rows[] = {
        {"GET /\r\n\r\n", HttpError::kBadRequestLine},                   // no version
        {"GET  / HTTP/1.1\r\n\r\n", HttpError::kBadRequestLine},         // two spaces
        {" GET / HTTP/1.1\r\n\r\n", HttpError::kBadRequestLine},         // leading space
        {"GE(T / HTTP/1.1\r\n\r\n", HttpError::kBadRequestLine},         // method not a token
        {"GET /a b HTTP/1.1\r\n\r\n", HttpError::kBadRequestLine},       // space in target
        {"GET /a\x01 HTTP/1.1\r\n\r\n", HttpError::kBadRequestLine},     // control in target
        {"GET /\xc3\xa9 HTTP/1.1\r\n\r\n", HttpError::kBadRequestLine},  // raw UTF-8 in target
        {"GET /a#top HTTP/1.1\r\n\r\n", HttpError::kBadRequestLine},     // fragment
        {"GET chat HTTP/1.1\r\n\r\n", HttpError::kBadRequestLine},       // not origin-form
        {"GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", HttpError::kBadRequestLine},  // scheme
        {"GET http:/h HTTP/1.1\r\nHost: h\r\n\r\n", HttpError::kBadRequestLine},
        {"GET http:///p HTTP/1.1\r\nHost: h\r\n\r\n", HttpError::kBadRequestLine},  // no host
        {"GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", HttpError::kBadRequestLine},  // userinfo
        {"GET h:80 HTTP/1.1\r\nHost: h\r\n\r\n", HttpError::kBadRequestLine},  // authority-form
        {"GET / http/1.1\r\n\r\n", HttpError::kBadRequestLine},          // HTTP-name: case matters
        {"GET / HTTP/1.1 \r\n\r\n", HttpError::kBadRequestLine},         // trailing space
        {"GET / HTTP/1.1\r\r\n\r\n", HttpError::kBadRequestLine},        // stray CR
        {"GET / HTTP/x.1\r\n\r\n", HttpError::kBadRequestLine},
        {"GET / HTTP/1.1\n\r\n", HttpError::kBadRequestLine},            // bare LF ends the line
        {"\nGET / HTTP/1.1\r\n\r\n", HttpError::kBadRequestLine},
        {"GET / HTTP/1.2\r\n\r\n", HttpError::kBadVersion},
        {"GET / HTTP/2.0\r\n\r\n", HttpError::kBadVersion},
        {"GET / HTTP/0.9\r\n\r\n", HttpError::kBadVersion},
        {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", HttpError::kBadHeaderLine},  // space before ':'
        {"GET / HTTP/1.1\r\n: x\r\n\r\n", HttpError::kBadHeaderLine},       // empty name
        {"GET / HTTP/1.1\r\nHost x\r\n\r\n", HttpError::kBadHeaderLine},    // no colon
        {"GET / HTTP/1.1\r\nHo@st: x\r\n\r\n", HttpError::kBadHeaderLine},  // not a tchar
        {"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", HttpError::kBadHeaderLine},   // obs-fold, SP
        {"GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n", HttpError::kBadHeaderLine},  // obs-fold, HT
        {"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", HttpError::kBadHeaderLine},      // stray CR
        {"GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n", HttpError::kBadHeaderLine},     // DEL
        {"GET / HTTP/1.1\r\nHost: x\n\r\n", HttpError::kBadHeaderLine},        // bare LF
        {"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", HttpError::kBadContentLength},
        {"GET / HTTP/1.1\r\ncontent-length: x\r\n\r\n", HttpError::kBadContentLength},
        {"GET / HTTP/1.1\r\nContent-Length:\r\n\r\n", HttpError::kBadContentLength},
        {"GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n",
         HttpError::kBadContentLength},
        {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", HttpError::kBadContentLength},
        {"GET / HTTP/1.1\r\nTRANSFER-ENCODING: identity\r\n\r\n", HttpError::kBadContentLength},
    };
    for (const Row& row : rows) {
        CAPTURE(row.request);
        Outcome o = parse_three_ways(row.request);
        CHECK(o.status == ParseStatus::kError);
        CHECK(o.error == row.error);
        CHECK(o.consumed == 0);
    }
    // A NUL in a value, which a string literal above would cut short.
    CHECK(parse_three_ways(std::string("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", 26)).error ==
          HttpError::kBadHeaderLine);
    // A zero Content-Length announces no body and is fine.
    CHECK(parse_whole("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 00\r\n\r\n").status ==
          ParseStatus::kDone);
}

TEST_CASE("an HTTP/1.1 request needs exactly one valid Host line; HTTP/1.0 may omit it") {
    // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, for any request with two Host
    // lines, and for an invalid Host value.
    struct Row {
        std::string_view request;
        HttpError error;
    };
    const Row rows[] = {
        {"GET / HTTP/1.1\r\n\r\n", HttpError::kMissingHost},
        {"GET / HTTP/1.1\r\nX-Host: h\r\n\r\n", HttpError::kMissingHost},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", HttpError::kDuplicateHost},
        {"GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", HttpError::kDuplicateHost},
        {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", HttpError::kBadHost},
        {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", HttpError::kBadHost},
        {"GET / HTTP/1.1\r\nHost: user@h\r\n\r\n", HttpError::kBadHost},
        {"GET / HTTP/1.1\r\nHost: h?x\r\n\r\n", HttpError::kBadHost},
        {"GET / HTTP/1.1\r\nHost: h\xc3\xa9\r\n\r\n", HttpError::kBadHost},
        {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", HttpError::kNone},
        {"GET / HTTP/1.1\r\nhOST: 127.0.0.1:8080\r\n\r\n", HttpError::kNone},
        {"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", HttpError::kNone},
        {"GET / HTTP/1.1\r\nHost: xn--caf-dma.example\r\n\r\n", HttpError::kNone},
        {"GET / HTTP/1.1\r\nHost:\r\n\r\n", HttpError::kNone},  // a URI without authority
        {"GET / HTTP/1.0\r\n\r\n", HttpError::kNone},
    };
    for (const Row& row : rows) {
        CAPTURE(row.request);
        Outcome o = parse_three_ways(row.request);
        CHECK(o.error == row.error);
        const bool ok = row.error == HttpError::kNone;
        CHECK(o.status == (ok ? ParseStatus::kDone : ParseStatus::kError));
        if (row.error != HttpError::kNone) CHECK(http_status(row.error) == 400);
    }
}

TEST_CASE("an absolute-form target is accepted: path and query from the URI, its authority kept") {
    // RFC 9112 §3.2.2: a server MUST accept the absolute-form.
    struct Row {
        std::string_view target, path, query, authority;
    };
    const Row rows[] = {
        {"http://example.com:8080/chat?username=a", "/chat", "username=a", "example.com:8080"},
        {"HTTPS://h/a/b", "/a/b", "", "h"},
        {"http://h", "/", "", "h"},  // RFC 9112 §3.2.1: an empty path is "/"
        {"http://h?q=1", "/", "q=1", "h"},
        {"http://[::1]:9/x", "/x", "", "[::1]:9"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.target);
        const std::string data =
            "GET " + std::string(row.target) + " HTTP/1.1\r\nHost: other\r\n\r\n";
        REQUIRE(parse_three_ways(data).status == ParseStatus::kDone);
        HttpRequest req;
        size_t scanned = 0;
        REQUIRE(parse_request(data, scanned, {}, req).status == ParseStatus::kDone);
        CHECK(req.target == row.target);
        CHECK(req.path == row.path);
        CHECK(req.query == row.query);
        CHECK(req.authority == row.authority);
    }
    HttpRequest req;
    size_t scanned = 0;
    REQUIRE(parse_request(make_request("/p?q", 0), scanned, {}, req).status == ParseStatus::kDone);
    CHECK(req.authority.empty());  // origin-form: no authority, even after an absolute one
}

TEST_CASE("the default target limit takes a /chat query with the longest name and token") {
    // chat/jwt.h: tokens up to 4096 bytes reach the verifier; a 32-code-point name of 4-byte
    // characters, percent-encoded, is 384 bytes. The 414 must not answer first.
    std::string target = "/chat?username=";
    for (int i = 0; i < 32; ++i) target += "%F0%9F%98%80";
    target += "&token=" + std::string(4096, 'a');
    REQUIRE(target.size() == 4502);
    CHECK(HttpLimits{}.max_target_bytes >= target.size());
    Outcome o = parse_whole(make_request(target, 0));
    CHECK(o.status == ParseStatus::kDone);
    const std::string over = "/" + std::string(HttpLimits{}.max_target_bytes, 'a');
    CHECK(parse_whole(make_request(over, 0)).error == HttpError::kUriTooLong);
}

TEST_CASE("the head byte limit allows exactly max_header_bytes and refuses one more") {
    HttpLimits limits;
    limits.max_header_bytes = 128;
    // "GET / HTTP/1.1\r\nHost: h\r\n\r\n" is 27 bytes; grow the target to reach the limit.
    std::string at = make_request("/" + std::string(128 - 27, 'a'), 0);
    REQUIRE(at.size() == 128);
    CHECK(parse_three_ways(at, limits).status == ParseStatus::kDone);
    std::string over = make_request("/" + std::string(128 - 26, 'a'), 0);
    Outcome o = parse_three_ways(over, limits);
    CHECK(o.status == ParseStatus::kError);
    CHECK(o.error == HttpError::kHeadersTooLarge);
}

TEST_CASE("an oversized head fails as soon as the limit is buffered, without waiting for more") {
    HttpLimits limits;
    limits.max_header_bytes = 64;
    std::string data = "GET / HTTP/1.1\r\nX: " + std::string(45, 'v');
    REQUIRE(data.size() == 64);
    HttpRequest req;
    size_t scanned = 0;
    CHECK(parse_request(std::string_view(data).substr(0, 63), scanned, limits, req).status ==
          ParseStatus::kNeedMore);
    ParseResult r = parse_request(data, scanned, limits, req);
    CHECK(r.status == ParseStatus::kError);
    CHECK(r.error == HttpError::kHeadersTooLarge);
}

TEST_CASE("a bare LF fails at once instead of waiting for a CRLFCRLF that may never come") {
    struct Row {
        std::string_view partial;
        HttpError error;
    };
    const Row rows[] = {
        {"GET / HTTP/1.1\nHost: x", HttpError::kBadRequestLine},
        {"GET / HTTP/1.1\r\nHost: x\n", HttpError::kBadHeaderLine},
        {"GET / HTTP/1.1\r\nHost: x\n\n", HttpError::kBadHeaderLine},  // an LF-only client's head
    };
    for (const Row& row : rows) {
        CAPTURE(row.partial);
        Outcome o = parse_three_ways(row.partial);
        CHECK(o.status == ParseStatus::kError);
        CHECK(o.error == row.error);
    }
}

TEST_CASE("the header count limit allows exactly max_headers and refuses one more") {
    HttpLimits limits;
    limits.max_headers = 6;  // Host and five more
    CHECK(parse_three_ways(make_request("/", 5), limits).status == ParseStatus::kDone);
    Outcome o = parse_three_ways(make_request("/", 6), limits);
    CHECK(o.status == ParseStatus::kError);
    CHECK(o.error == HttpError::kTooManyHeaders);
}

TEST_CASE("the target limit allows exactly max_target_bytes and refuses one more with 414") {
    HttpLimits limits;
    limits.max_target_bytes = 32;
    CHECK(parse_three_ways(make_request("/" + std::string(31, 'a'), 0), limits).status ==
          ParseStatus::kDone);
    Outcome o = parse_three_ways(make_request("/" + std::string(32, 'a'), 0), limits);
    CHECK(o.error == HttpError::kUriTooLong);
    CHECK(http_status(o.error) == 414);
    // A target that also overflows the head limit is still reported as the real cause.
    limits.max_header_bytes = 64;
    HttpRequest req;
    size_t scanned = 0;
    ParseResult r = parse_request("GET /" + std::string(100, 'a'), scanned, limits, req);
    CHECK(r.error == HttpError::kUriTooLong);
}

TEST_CASE("a warm request object parses without growing or moving its header storage") {
    HttpRequest req;
    size_t scanned = 0;
    REQUIRE(parse_request(kBrowserRequest, scanned, {}, req).status == ParseStatus::kDone);
    const Header* storage = req.headers.data();
    size_t capacity = req.headers.capacity();
    for (int i = 0; i < 3; ++i) {
        REQUIRE(parse_request(kBrowserRequest, scanned, {}, req).status == ParseStatus::kDone);
        CHECK(req.headers.data() == storage);
        CHECK(req.headers.capacity() == capacity);
    }
}

TEST_CASE("a long head trickled one byte at a time is scanned in linear time") {
    // 300 headers, ~3 KiB: parse_bytewise checks after every byte that the search resumes within
    // kMaxRescan bytes of the end instead of starting over.
    HttpLimits limits;
    limits.max_headers = 301;
    Outcome o = parse_bytewise(make_request("/", 300), limits);
    CHECK(o.status == ParseStatus::kDone);
}

TEST_CASE("header_has_token matches whole comma-separated elements case-insensitively") {
    struct Row {
        std::string_view value, token;
        bool has;
    };
    const Row rows[] = {
        {"Upgrade", "upgrade", true},
        {"upgrade", "Upgrade", true},
        {"keep-alive, Upgrade", "upgrade", true},
        {"keep-alive,Upgrade", "UPGRADE", true},
        {"\t keep-alive ,\t Upgrade \t", "upgrade", true},
        {",, ,upgrade,,", "upgrade", true},
        {"Upgradex", "upgrade", false},
        {"xUpgrade", "upgrade", false},
        {"keep-alive, Upgrade2", "upgrade", false},
        {"up grade", "upgrade", false},
        {"keep-alive", "upgrade", false},
        {"", "upgrade", false},
        {" , ", "upgrade", false},
    };
    for (const Row& row : rows) {
        CAPTURE(row.value);
        CHECK(header_has_token(row.value, row.token) == row.has);
    }
}

TEST_CASE("next_list_element yields trimmed non-empty elements in order") {
    std::string_view rest = " chat ,, superchat,\tv2.json ";
    std::vector<std::string_view> got;
    while (auto e = next_list_element(rest)) got.push_back(*e);
    CHECK(got == std::vector<std::string_view>{"chat", "superchat", "v2.json"});
}

TEST_CASE("query_param finds the raw value of the first pair with that exact name") {
    struct Row {
        std::string_view query, name;
        std::optional<std::string_view> value;
    };
    const Row rows[] = {
        {"a=1&b=2", "b", "2"},
        {"a=1&b=2", "a", "1"},
        {"a=1&b=2", "c", std::nullopt},
        {"a&name&b", "name", ""},
        {"name=", "name", ""},
        {"name=x=y", "name", "x=y"},
        {"n=1&n=2", "n", "1"},
        {"nam=1&name=2", "name", "2"},
        {"Name=1", "name", std::nullopt},
        {"name=%2F", "name", "%2F"},
        {"&&name=v&", "name", "v"},
        {"", "name", std::nullopt},
    };
    for (const Row& row : rows) {
        CAPTURE(row.query);
        CHECK(query_param(row.query, row.name) == row.value);
    }
}

TEST_CASE("percent_decode decodes escapes and plus, and refuses malformed escapes") {
    struct Row {
        std::string_view in;
        bool ok;
        std::string_view out;
    };
    const Row rows[] = {
        {"plain", true, "plain"},
        {"%2F", true, "/"},
        {"%2f", true, "/"},
        {"a+b", true, "a b"},
        {"%2B", true, "+"},
        {"%41%42c", true, "ABc"},
        {"%E4%BD%A0", true, "\xE4\xBD\xA0"},  // U+4F60, three UTF-8 bytes
        {"", true, ""},
        {"%zz", false, ""},
        {"%2", false, ""},
        {"%", false, ""},
        {"100%", false, ""},
        {"%g0", false, ""},
        {"%0g", false, ""},
    };
    std::string out = "left over";
    for (const Row& row : rows) {
        CAPTURE(row.in);
        REQUIRE(percent_decode(row.in, out) == row.ok);
        if (row.ok) CHECK(out == row.out);
    }
    REQUIRE(percent_decode("a%00b", out));
    CHECK(out == std::string("a\0b", 3));
}

}  // TEST_SUITE
