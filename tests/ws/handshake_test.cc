// tests/ws/handshake_test.cc: the RFC 6455 §4 opening handshake, both sides: request validation and
// every refusal cause, the accept key, the 101 and error responses, and the client's checks.
#include "ws/client_handshake.h"
#include "ws/handshake.h"
#include "ws/http/response.h"

#include <doctest/doctest.h>

#include <array>
#include <string>
#include <vector>

#include "ws/base64.h"

using namespace epws::ws;

namespace {

// RFC 6455 §1.3's example key and the accept value it must produce.
constexpr std::string_view kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kRfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

const std::vector<std::string> kGoodHeaders = {
    "Host: server.example.com",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Origin: http://example.com",
    "Sec-WebSocket-Protocol: chat, superchat",
    "Sec-WebSocket-Version: 13",
};

// kGoodHeaders with the line for header `name` replaced by `line` (or dropped if `line` is empty),
// and `more` lines appended.
std::vector<std::string> headers_with(std::string_view name, std::string_view line,
                                      const std::vector<std::string>& more = {}) {
    std::vector<std::string> out;
    for (const std::string& h : kGoodHeaders) {
        if (h.substr(0, name.size() + 1) != std::string(name) + ":") {
            out.push_back(h);
        } else if (!line.empty()) {
            out.emplace_back(line);
        }
    }
    out.insert(out.end(), more.begin(), more.end());
    return out;
}

// A request parsed into an object that keeps its buffer alive as long as the views into it.
struct Parsed {
    std::string text;
    HttpRequest req;
};

Parsed parse(std::string_view request_line, const std::vector<std::string>& headers) {
    Parsed p;
    p.text = std::string(request_line) + "\r\n";
    for (const std::string& h : headers) p.text += h + "\r\n";
    p.text += "\r\n";
    size_t scanned = 0;
    REQUIRE(parse_request(p.text, scanned, {}, p.req).status == ParseStatus::kDone);
    return p;
}

HttpError upgrade_error(const std::vector<std::string>& headers, const HandshakeConfig& config = {},
                        std::string_view request_line = "GET /chat HTTP/1.1") {
    Parsed p = parse(request_line, headers);
    return check_upgrade(p.req, config).error;
}

struct ParsedResponse {
    std::string text;
    HttpResponse resp;
    ResponseParseResult result{};
};

// Parses whole, byte by byte and split at every offset; all must agree. Returns the whole parse.
ParsedResponse parse_response_three_ways(std::string text, const HttpLimits& limits = {}) {
    ParsedResponse p{std::move(text), {}, {}};
    size_t scanned = 0;
    p.result = parse_response(p.text, scanned, limits, p.resp);
    for (size_t cut = 0; cut <= p.text.size(); ++cut) {
        CAPTURE(cut);
        HttpResponse other;
        size_t s = 0;
        std::string_view prefix = std::string_view(p.text).substr(0, cut);
        ResponseParseResult r = parse_response(prefix, s, limits, other);
        if (r.status == ParseStatus::kNeedMore) r = parse_response(p.text, s, limits, other);
        CHECK(r.status == p.result.status);
        CHECK(r.consumed == p.result.consumed);
        CHECK(r.error == p.result.error);
        if (r.status == ParseStatus::kDone) CHECK(other.headers.size() == p.resp.headers.size());
    }
    HttpResponse bytewise;
    size_t s = 0;
    ResponseParseResult r{ParseStatus::kNeedMore, 0, ResponseError::kNone};
    for (size_t n = 1; n <= p.text.size() && r.status == ParseStatus::kNeedMore; ++n) {
        r = parse_response(std::string_view(p.text).substr(0, n), s, limits, bytewise);
        if (r.status == ParseStatus::kNeedMore) CHECK(n - s <= 3);
    }
    CHECK(r.status == p.result.status);
    CHECK(r.error == p.result.error);
    return p;
}

std::string upgrade_response(std::string_view key, std::string_view subprotocol = {},
                             std::string_view extensions = {}) {
    std::string out;
    REQUIRE(append_upgrade_response(out, key, subprotocol, extensions));
    return out;
}

std::string replaced(std::string s, std::string_view from, std::string_view to) {
    size_t at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

ResponseError check_response(const std::string& text, std::string_view offered_subprotocols = {},
                             bool offered_extensions = false) {
    ParsedResponse p = parse_response_three_ways(text);
    REQUIRE(p.result.status == ParseStatus::kDone);
    return check_upgrade_response(p.resp, kRfcKey, offered_subprotocols, offered_extensions);
}

}  // namespace

TEST_SUITE("ws/handshake") {

TEST_CASE("the accept key for RFC 6455's example key is the RFC's value") {
    char out[kAcceptKeySize];
    REQUIRE(accept_key(kRfcKey, out));
    CHECK(std::string_view(out, kAcceptKeySize) == kRfcAccept);
}

TEST_CASE("RFC 6455's example request is accepted and answered with the RFC's response") {
    HandshakeConfig config;
    config.subprotocols = {"chat"};
    config.allowed_origins = {"http://example.com"};
    Parsed p = parse("GET /chat HTTP/1.1", kGoodHeaders);
    UpgradeRequest up = check_upgrade(p.req, config);
    REQUIRE(up.error == HttpError::kNone);
    CHECK(up.key == kRfcKey);
    CHECK(up.subprotocol == "chat");
    CHECK(up.extensions.empty());
    CHECK(upgrade_response(up.key, up.subprotocol) ==
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
          "Sec-WebSocket-Protocol: chat\r\n\r\n");
    CHECK(upgrade_response(up.key, {}, "permessage-deflate") ==
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
          "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
}

TEST_CASE("every upgrade refusal cause is produced by a request that triggers it") {
    struct Row {
        const char* what;
        std::vector<std::string> headers;
        HttpError error;
    };
    const Row rows[] = {
        {"no Upgrade", headers_with("Upgrade", ""), HttpError::kMissingUpgrade},
        {"Upgrade: h2c", headers_with("Upgrade", "Upgrade: h2c"), HttpError::kMissingUpgrade},
        {"Upgrade: websocketx", headers_with("Upgrade", "Upgrade: websocketx"),
         HttpError::kMissingUpgrade},
        {"no Connection", headers_with("Connection", ""), HttpError::kMissingConnection},
        {"Connection: keep-alive", headers_with("Connection", "Connection: keep-alive"),
         HttpError::kMissingConnection},
        {"Connection: Upgradex", headers_with("Connection", "Connection: Upgradex"),
         HttpError::kMissingConnection},
        {"no version", headers_with("Sec-WebSocket-Version", ""), HttpError::kBadWsVersion},
        {"version 8", headers_with("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"),
         HttpError::kBadWsVersion},
        {"version list", headers_with("Sec-WebSocket-Version", "Sec-WebSocket-Version: 13, 8"),
         HttpError::kBadWsVersion},
        // RFC 6455 §11.3.5: one line only, refused like two keys, whatever the lines say.
        {"two versions", headers_with("Origin", "Sec-WebSocket-Version: 13"),
         HttpError::kDuplicateWsVersion},
        {"versions 8 and 13", headers_with("Origin", "Sec-WebSocket-Version: 8"),
         HttpError::kDuplicateWsVersion},
        {"no key", headers_with("Sec-WebSocket-Key", ""), HttpError::kMissingKey},
        {"empty key", headers_with("Sec-WebSocket-Key", "Sec-WebSocket-Key:"), HttpError::kBadKey},
        {"15-byte key",
         headers_with("Sec-WebSocket-Key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA"),
         HttpError::kBadKey},
        {"17-byte key",
         headers_with("Sec-WebSocket-Key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA="),
         HttpError::kBadKey},
        {"unpadded key",
         headers_with("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ"),
         HttpError::kBadKey},
        {"bad base64 key",
         headers_with("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ!=="),
         HttpError::kBadKey},
        {"two keys", headers_with("Origin", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="),
         HttpError::kBadKey},
    };
    for (const Row& row : rows) {
        CAPTURE(row.what);
        CHECK(upgrade_error(row.headers) == row.error);
    }
    CHECK(upgrade_error(kGoodHeaders, {}, "POST /chat HTTP/1.1") == HttpError::kMethodNotAllowed);
    CHECK(upgrade_error(kGoodHeaders, {}, "get /chat HTTP/1.1") == HttpError::kMethodNotAllowed);
    CHECK(upgrade_error(kGoodHeaders, {}, "GET /chat HTTP/1.0") == HttpError::kUpgradeNeedsHttp11);
    CHECK(upgrade_error(kGoodHeaders) == HttpError::kNone);
    CHECK(http_status(HttpError::kDuplicateWsVersion) == 400);
}

TEST_CASE("an upgrade without exactly one Host is refused by the request parser already") {
    // RFC 9112 §3.2 (and RFC 6455 §4.2.1 item 2): parse_request answers before check_upgrade.
    for (const auto& [headers, error] :
         {std::pair{headers_with("Host", ""), HttpError::kMissingHost},
          std::pair{headers_with("Origin", "Host: other.example"), HttpError::kDuplicateHost}}) {
        std::string text = "GET /chat HTTP/1.1\r\n";
        for (const std::string& h : headers) text += h + "\r\n";
        text += "\r\n";
        HttpRequest req;
        size_t scanned = 0;
        ParseResult r = parse_request(text, scanned, {}, req);
        CHECK(r.status == ParseStatus::kError);
        CHECK(r.error == error);
    }
    // check_upgrade keeps its own check for requests that did not come through the parser.
    Parsed p = parse("GET /chat HTTP/1.1", kGoodHeaders);
    p.req.headers.erase(p.req.headers.begin());  // the Host line
    CHECK(check_upgrade(p.req, {}).error == HttpError::kMissingHost);
}

TEST_CASE("the origin allow-list admits listed origins, case-insensitively, and nothing else") {
    HandshakeConfig config;
    config.allowed_origins = {"https://chat.example", "http://example.com"};
    CHECK(upgrade_error(kGoodHeaders, config) == HttpError::kNone);
    CHECK(upgrade_error(headers_with("Origin", "Origin: HTTP://Example.COM"), config) ==
          HttpError::kNone);
    CHECK(upgrade_error(headers_with("Origin", "Origin: http://evil.example"), config) ==
          HttpError::kOriginNotAllowed);
    CHECK(upgrade_error(headers_with("Origin", "Origin: http://example.com.evil"), config) ==
          HttpError::kOriginNotAllowed);
    CHECK(upgrade_error(headers_with("Origin", ""), config) == HttpError::kOriginNotAllowed);
    CHECK(upgrade_error(headers_with("Origin", ""), {}) == HttpError::kNone);  // empty list: any
}

TEST_CASE("Connection and Upgrade tokens are found in lists, in any case, over several lines") {
    CHECK(upgrade_error(headers_with("Connection", "Connection: keep-alive, Upgrade")) ==
          HttpError::kNone);
    CHECK(upgrade_error(headers_with("Connection", "Connection:   upgrade  ")) == HttpError::kNone);
    CHECK(upgrade_error(headers_with("Connection", "Connection: keep-alive",
                                     {"Connection: Upgrade"})) == HttpError::kNone);
    CHECK(upgrade_error(headers_with("Upgrade", "Upgrade: WebSocket")) == HttpError::kNone);
    CHECK(upgrade_error(headers_with("Upgrade", "Upgrade: h2c, websocket")) == HttpError::kNone);
}

TEST_CASE("the subprotocol chosen is the server's first preference among the client's offers") {
    HandshakeConfig config;
    config.subprotocols = {"superchat", "chat"};
    auto chosen = [&](const std::vector<std::string>& headers) {
        Parsed p = parse("GET /chat HTTP/1.1", headers);
        UpgradeRequest up = check_upgrade(p.req, config);
        REQUIRE(up.error == HttpError::kNone);
        return std::string(up.subprotocol);
    };
    CHECK(chosen(kGoodHeaders) == "superchat");
    CHECK(chosen(headers_with("Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: chat")) == "chat");
    CHECK(chosen(headers_with("Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: x",
                              {"Sec-WebSocket-Protocol: chat"})) == "chat");
    CHECK(chosen(headers_with("Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: Chat")).empty());
    CHECK(chosen(headers_with("Sec-WebSocket-Protocol", "")).empty());
    config.subprotocols.clear();
    CHECK(chosen(kGoodHeaders).empty());
}

TEST_CASE("extension offers are passed on raw for a later negotiation") {
    Parsed p = parse("GET /chat HTTP/1.1",
                     headers_with("Origin", "Origin: http://example.com",
                                  {"Sec-WebSocket-Extensions: permessage-deflate; "
                                   "client_max_window_bits"}));
    UpgradeRequest up = check_upgrade(p.req, {});
    REQUIRE(up.error == HttpError::kNone);
    CHECK(up.extensions.count == 1);
    CHECK(up.extensions.lines[0] == "permessage-deflate; client_max_window_bits");
}

TEST_CASE("several Sec-WebSocket-Extensions lines are one list, negotiated in order") {
    // RFC 9110 §5.3: the lines are as if joined by commas. An offer we cannot honour on the first
    // line must not hide a good one on the second.
    Parsed p = parse("GET /chat HTTP/1.1",
                     headers_with("Origin", "Sec-WebSocket-Extensions: x-webkit-deflate-frame",
                                  {"Sec-WebSocket-Extensions: permessage-deflate; "
                                   "client_max_window_bits"}));
    UpgradeRequest up = check_upgrade(p.req, {});
    REQUIRE(up.error == HttpError::kNone);
    REQUIRE(up.extensions.count == 2);
    CHECK(up.extensions.lines[0] == "x-webkit-deflate-frame");
    CHECK(up.extensions.lines[1] == "permessage-deflate; client_max_window_bits");
    std::string answer;
    DeflateParams params = negotiate_deflate(up.extensions, DeflateConfig{}, answer);
    CHECK(bool(params.enabled));
    CHECK(answer.starts_with("permessage-deflate"));

    // The first acceptable offer wins across lines, as within one.
    Parsed two = parse("GET /chat HTTP/1.1",
                       headers_with("Origin", "Sec-WebSocket-Extensions: permessage-deflate; "
                                              "client_max_window_bits=10",
                                    {"Sec-WebSocket-Extensions: permessage-deflate"}));
    up = check_upgrade(two.req, {});
    params = negotiate_deflate(up.extensions, DeflateConfig{}, answer);
    CHECK(int(params.client_window_bits) == 10);

    // A garbled line declines every offer, as a garbled part of one line does.
    Parsed bad = parse("GET /chat HTTP/1.1",
                       headers_with("Origin", "Sec-WebSocket-Extensions: permessage-deflate",
                                    {"Sec-WebSocket-Extensions: ;;"}));
    up = check_upgrade(bad.req, {});
    CHECK_FALSE(bool(negotiate_deflate(up.extensions, DeflateConfig{}, answer).enabled));
    CHECK(answer.empty());

    // More lines than ExtensionField holds: nothing is negotiated, the upgrade still succeeds.
    std::vector<std::string> many = kGoodHeaders;
    for (int i = 0; i < ExtensionField::kMaxLines + 1; ++i)
        many.push_back("Sec-WebSocket-Extensions: permessage-deflate");
    Parsed flood = parse("GET /chat HTTP/1.1", many);
    up = check_upgrade(flood.req, {});
    REQUIRE(up.error == HttpError::kNone);
    CHECK(up.extensions.too_many);
    CHECK_FALSE(bool(negotiate_deflate(up.extensions, DeflateConfig{}, answer).enabled));
}

TEST_CASE("is_upgrade_request tells an upgrade attempt from plain HTTP") {
    CHECK(is_upgrade_request(parse("GET / HTTP/1.1", kGoodHeaders).req));
    CHECK(is_upgrade_request(parse("GET / HTTP/1.1", {"Host: x", "Upgrade: h2c, WebSocket"}).req));
    CHECK_FALSE(is_upgrade_request(parse("GET / HTTP/1.1", {"Host: x"}).req));
    CHECK_FALSE(is_upgrade_request(parse("GET / HTTP/1.1", {"Host: x", "Upgrade: h2c"}).req));
}

TEST_CASE("a client request, our answer and the client's check round-trip") {
    std::string key = make_client_key();
    REQUIRE(key.size() == 24);
    std::string request;
    append_client_request(request, "example.com:8080", "/chat?room=1", key, "chat, superchat",
                          "permessage-deflate");
    HttpRequest req;
    size_t scanned = 0;
    REQUIRE(parse_request(request, scanned, {}, req).status == ParseStatus::kDone);
    CHECK(req.target == "/chat?room=1");
    HandshakeConfig config;
    config.subprotocols = {"superchat"};
    UpgradeRequest up = check_upgrade(req, config);
    REQUIRE(up.error == HttpError::kNone);
    CHECK(up.key == key);
    CHECK(up.extensions.count == 1);
    CHECK(up.extensions.lines[0] == "permessage-deflate");

    // The server's answer, followed by a first frame that must stay unconsumed.
    std::string answer = upgrade_response(up.key, up.subprotocol);
    ParsedResponse p = parse_response_three_ways(answer + "\x81\x02hi");
    REQUIRE(p.result.status == ParseStatus::kDone);
    CHECK(p.result.consumed == answer.size());
    CHECK(p.resp.status == 101);
    CHECK(p.resp.reason == "Switching Protocols");
    CHECK(check_upgrade_response(p.resp, key, "chat, superchat", true) == ResponseError::kNone);
    CHECK(check_upgrade_response(p.resp, kRfcKey, "chat, superchat", true) ==
          ResponseError::kBadAccept);
}

TEST_CASE("make_client_key returns a fresh 24-character key of 16 random bytes each time") {
    std::string a = make_client_key();
    std::string b = make_client_key();
    CHECK(a != b);
    std::array<std::byte, 18> raw;
    CHECK(base64_decode(a, raw) == 16);
}

TEST_CASE("every way a server's answer can fail the client's check is detected") {
    const std::string good = upgrade_response(kRfcKey, "chat");
    CHECK(check_response(good, "chat") == ResponseError::kNone);
    CHECK(check_response(replaced(good, "101 Switching Protocols", "200 OK"), "chat") ==
          ResponseError::kNotSwitching);
    CHECK(check_response(replaced(good, "Upgrade: websocket\r\n", ""), "chat") ==
          ResponseError::kMissingUpgrade);
    CHECK(check_response(replaced(good, "Connection: Upgrade\r\n", "Connection: close\r\n"),
                         "chat") == ResponseError::kMissingConnection);
    CHECK(check_response(replaced(good, "s3pPLMBi", "s3pPLMBj"), "chat") ==
          ResponseError::kBadAccept);
    CHECK(check_response(replaced(good, "Sec-WebSocket-Accept", "X-Accept"), "chat") ==
          ResponseError::kBadAccept);
    CHECK(check_response(good) == ResponseError::kUnexpectedSubprotocol);
    CHECK(check_response(good, "superchat") == ResponseError::kUnexpectedSubprotocol);
    CHECK(check_response(good, "Chat") == ResponseError::kUnexpectedSubprotocol);
    CHECK(check_response(good, "v1, chat") == ResponseError::kNone);
    const std::string deflate = upgrade_response(kRfcKey, {}, "permessage-deflate");
    CHECK(check_response(deflate, {}, false) == ResponseError::kUnexpectedExtension);
    CHECK(check_response(deflate, {}, true) == ResponseError::kNone);
    // RFC 9112 §4: a client accepts a status line whose empty reason lacks its SP.
    CHECK(check_response(replaced(good, "101 Switching Protocols", "101"), "chat") ==
          ResponseError::kNone);
}

TEST_CASE("malformed or oversized response heads are refused") {
    const std::string good = upgrade_response(kRfcKey);
    struct Row {
        std::string text;
        ResponseError error;
    };
    const Row rows[] = {
        {replaced(good, "HTTP/1.1", "HTTP/2"), ResponseError::kBadStatusLine},
        {replaced(good, "101", "1O1"), ResponseError::kBadStatusLine},
        {replaced(good, "101 ", "101x"), ResponseError::kBadStatusLine},
        {replaced(good, "HTTP/1.1 ", "HTTP/1.1  "), ResponseError::kBadStatusLine},
        {replaced(good, "Protocols\r\n", "Protocols\n"), ResponseError::kBadStatusLine},
        {replaced(good, "Upgrade:", "Upgrade :"), ResponseError::kBadHeaderLine},
        {replaced(good, "Connection: Upgrade\r\n", "Connection: Upgrade\r\n folded\r\n"),
         ResponseError::kBadHeaderLine},
        {replaced(good, "websocket\r\n", "websocket\n"), ResponseError::kBadHeaderLine},
    };
    for (const Row& row : rows) {
        CAPTURE(row.text);
        ParsedResponse p = parse_response_three_ways(row.text);
        CHECK(p.result.status == ParseStatus::kError);
        CHECK(p.result.error == row.error);
    }
    HttpLimits limits;
    limits.max_header_bytes = good.size();
    CHECK(parse_response_three_ways(good, limits).result.status == ParseStatus::kDone);
    limits.max_header_bytes = good.size() - 1;
    CHECK(parse_response_three_ways(good, limits).result.error == ResponseError::kTooLarge);
    limits = {};
    limits.max_headers = 2;  // the answer has three
    CHECK(parse_response_three_ways(good, limits).result.error == ResponseError::kTooLarge);
}

TEST_CASE("every HTTP refusal renders as a complete response with its status, reason and headers") {
    for (int i = 1; i <= static_cast<int>(HttpError::kDuplicateWsVersion); ++i) {
        const auto e = static_cast<HttpError>(i);
        CAPTURE(i);
        std::string out;
        append_http_error(out, e);
        ParsedResponse p = parse_response_three_ways(out);
        REQUIRE(p.result.status == ParseStatus::kDone);
        CHECK(p.resp.status == http_status(e));
        CHECK(p.resp.reason == status_text(http_status(e)));
        CHECK(p.resp.reason != "Unknown");
        std::string body = std::string(http_reason(e)) + "\n";
        CHECK(std::string_view(p.text).substr(p.result.consumed) == body);
        REQUIRE(p.resp.find("content-length") != nullptr);
        CHECK(*p.resp.find("content-length") == std::to_string(body.size()));
        REQUIRE(p.resp.find("connection") != nullptr);
        CHECK(header_has_token(*p.resp.find("connection"), "close"));
    }
}

TEST_CASE("refusals carry the headers their status requires") {
    auto parsed_error = [](HttpError e) {
        std::string out;
        append_http_error(out, e);
        return out;
    };
    std::string v = parsed_error(HttpError::kBadWsVersion);
    CHECK(v.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0) == 0);
    CHECK(v.find("\r\nSec-WebSocket-Version: 13\r\n") != std::string::npos);
    CHECK(v.find("\r\nUpgrade: websocket\r\n") != std::string::npos);
    CHECK(v.find("\r\nConnection: Upgrade, close\r\n") != std::string::npos);
    std::string u = parsed_error(HttpError::kMissingUpgrade);
    CHECK(u.rfind("HTTP/1.1 426 ", 0) == 0);
    CHECK(u.find("\r\nUpgrade: websocket\r\n") != std::string::npos);
    CHECK(u.find("Sec-WebSocket-Version") == std::string::npos);
    CHECK(parsed_error(HttpError::kMethodNotAllowed).find("\r\nAllow: GET\r\n") !=
          std::string::npos);
    CHECK(parsed_error(HttpError::kServiceUnavailable).find("\r\nRetry-After: 1\r\n") !=
          std::string::npos);
    CHECK(parsed_error(HttpError::kNotFound).find("Retry-After") == std::string::npos);
}

TEST_CASE("append_http_response writes status, length, extra headers and connection mode") {
    std::string out;
    append_http_response(out, 200, "text/plain", "ok\n", true);
    CHECK(out == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
                 "Connection: keep-alive\r\n\r\nok\n");
    out.clear();
    // RFC 9110 §8.6: no Content-Length in a 204; §15.4.5: a 304 has no content either.
    append_http_response(out, 204, {}, {}, false, "Cache-Control: no-store\r\n");
    CHECK(out == "HTTP/1.1 204 No Content\r\nCache-Control: no-store\r\n"
                 "Connection: close\r\n\r\n");
    out.clear();
    append_http_response(out, 304, {}, {}, true, "ETag: \"1-2\"\r\n");
    CHECK(out == "HTTP/1.1 304 Not Modified\r\nETag: \"1-2\"\r\nConnection: keep-alive\r\n\r\n");
    CHECK(status_text(431) == "Request Header Fields Too Large");
    CHECK(status_text(599) == "Unknown");
}

TEST_CASE("only 1xx, 204 and 304 responses go without content and Content-Length") {
    for (int status = 100; status <= 599; ++status) {
        CAPTURE(status);
        bool none = status < 200 || status == 204 || status == 304;
        CHECK(status_has_content(status) == !none);
        std::string out;
        append_http_response(out, status, {}, {}, true);
        CHECK((out.find("Content-Length:") == std::string::npos) == none);
    }
}

}  // TEST_SUITE
