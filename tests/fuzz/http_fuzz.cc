// tests/fuzz/http_fuzz.cc: libFuzzer target for the HTTP/1.1 head parsers (ws/http/request
// parse_request, ws/handshake parse_response) and the upgrade checks run on what they accept.
// Layer: tests/.
//
// Input: [seed lo][seed hi][limits] then the bytes of a connection. The bytes are parsed whole,
// in random chunks and byte by byte the way ws/server_connection.cc on_http_data() does: the
// whole unconsumed head is offered again with new bytes appended and `scanned` carried over;
// after a complete head the next one (pipelining) is parsed from the bytes that follow.
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/fuzz_common.h"
#include "ws/deflate_params.h"
#include "ws/error.h"
#include "ws/client_handshake.h"
#include "ws/handshake.h"
#include "ws/http/response.h"
#include "ws/http/request.h"

using namespace epws::ws;

namespace {

bool is_tchar(char c) {
    static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kExtra.find(c) != std::string_view::npos;
}

bool inside(std::string_view part, std::string_view whole) {
    return part.empty() ||
           (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

// A parsed head, copied out of the buffer so that runs can be compared.
struct Head {
    std::string start;  // method/target/version, or status/reason
    std::vector<std::pair<std::string, std::string>> headers;
    size_t consumed;
    bool operator==(const Head&) const = default;
};

struct Outcome {
    std::vector<Head> heads;
    int error = 0;        // HttpError or ResponseError, 0 for none
    size_t leftover = 0;  // unconsumed bytes at the end
    bool operator==(const Outcome&) const = default;
};

// A head over the byte limit is 431, or 414 when "its request line already shows a target over
// the target limit" (ws/http/request.cc oversized_error): how much of the request line has arrived
// when the limit is crossed depends on the reads, so a split stream may say 431 where the whole
// says 414. Both refuse the same request; every other error must match exactly.
bool same_request_outcome(Outcome a, Outcome b) {
    for (Outcome* o : {&a, &b})
        if (o->error == static_cast<int>(HttpError::kUriTooLong))
            o->error = static_cast<int>(HttpError::kHeadersTooLarge);
    return a == b;
}

void check_headers(const std::vector<Header>& headers, std::string_view head,
                   const HttpLimits& limits) {
    FUZZ_CHECK(headers.size() <= limits.max_headers);
    for (const Header& h : headers) {
        FUZZ_CHECK(!h.name.empty() && inside(h.name, head) && inside(h.value, head));
        for (char c : h.name) FUZZ_CHECK(is_tchar(c));
        FUZZ_CHECK(is_field_value(h.value));
        // RFC 7230 §3.2.4: OWS around the value is not part of it.
        if (!h.value.empty()) FUZZ_CHECK(h.value.front() != ' ' && h.value.front() != '\t' &&
                                         h.value.back() != ' ' && h.value.back() != '\t');
    }
}

// What the server does with an accepted head: the upgrade checks, then (if they pass) the
// permessage-deflate negotiation and the 101 response, which our own client code must accept.
void check_upgrade_path(const HttpRequest& req) {
    HandshakeConfig config;
    config.subprotocols = {"chat", "superchat"};
    std::string decoded;
    if (percent_decode(req.query, decoded)) FUZZ_CHECK(decoded.size() <= req.query.size());
    if (auto v = query_param(req.query, "username")) FUZZ_CHECK(inside(*v, req.query));
    if (!is_upgrade_request(req)) return;
    UpgradeRequest up = check_upgrade(req, config);
    if (up.error != HttpError::kNone) {
        const int status = http_status(up.error);
        FUZZ_CHECK(status >= 400 && status <= 599);
        std::string out;
        append_http_error(out, up.error);
        FUZZ_CHECK(out.starts_with("HTTP/1.1 " + std::to_string(status) + " "));
        return;
    }
    FUZZ_CHECK(up.key.size() == 24);
    FUZZ_CHECK(up.subprotocol.empty() || up.subprotocol == "chat" || up.subprotocol == "superchat");
    std::string offered_protocols;  // every Sec-WebSocket-Protocol line, as one list
    for (const Header& h : req.headers) {
        if (!ascii_iequals(h.name, "Sec-WebSocket-Protocol")) continue;
        if (!offered_protocols.empty()) offered_protocols += ", ";
        offered_protocols += h.value;
    }
    std::string answer;
    DeflateConfig deflate;
    DeflateParams p = negotiate_deflate(up.extensions, deflate, answer);
    FUZZ_CHECK(p.enabled == !answer.empty());
    std::string response;
    FUZZ_CHECK(append_upgrade_response(response, up.key, up.subprotocol, answer));
    // The answer to any request we accept passes a client's RFC 6455 §4.1 checks.
    HttpResponse resp;
    size_t scanned = 0;
    ResponseParseResult r = parse_response(response, scanned, HttpLimits{}, resp);
    FUZZ_CHECK(r.status == ParseStatus::kDone && r.consumed == response.size());
    FUZZ_CHECK(check_upgrade_response(resp, up.key, offered_protocols, !up.extensions.empty()) ==
               ResponseError::kNone);
}

Outcome run_requests(std::string_view stream, const std::vector<size_t>& chunks,
                     const HttpLimits& limits, bool deep) {
    HttpRequest req;
    std::string buf;  // the connection's in_: the unconsumed head so far
    size_t scanned = 0, off = 0;
    Outcome o;
    for (size_t chunk : chunks) {
        buf.append(stream.substr(off, chunk));
        off += chunk;
        for (;;) {
            const std::string exact(buf);  // a fresh copy: ASan sees a read past its end
            ParseResult r = parse_request(exact, scanned, limits, req);
            if (r.status == ParseStatus::kNeedMore) {
                FUZZ_CHECK(r.error == HttpError::kNone && r.consumed == 0);
                FUZZ_CHECK(scanned <= exact.size());
                // Until the limit is passed the head is buffered; past it, it is an error.
                FUZZ_CHECK(exact.size() <= limits.max_header_bytes);
                break;
            }
            FUZZ_CHECK(scanned == 0);
            if (r.status == ParseStatus::kError) {
                FUZZ_CHECK(r.error != HttpError::kNone && r.consumed == 0);
                const int status = http_status(r.error);
                FUZZ_CHECK(status == 400 || status == 414 || status == 431 || status == 505);
                o.error = static_cast<int>(r.error);
                return o;
            }
            FUZZ_CHECK(r.error == HttpError::kNone);
            FUZZ_CHECK(r.consumed >= 4 && r.consumed <= exact.size());
            FUZZ_CHECK(r.consumed <= limits.max_header_bytes);
            const std::string_view head(exact.data(), r.consumed);
            FUZZ_CHECK(head.ends_with("\r\n\r\n"));
            FUZZ_CHECK(!req.method.empty() && inside(req.method, head) && inside(req.target, head));
            FUZZ_CHECK(req.target.size() <= limits.max_target_bytes);
            FUZZ_CHECK(req.minor_version == 0 || req.minor_version == 1);
            check_headers(req.headers, head, limits);
            if (deep) check_upgrade_path(req);
            Head h{std::string(req.method) + " " + std::string(req.target) + " " +
                       std::to_string(req.minor_version),
                   {}, r.consumed};
            for (const Header& x : req.headers) h.headers.emplace_back(x.name, x.value);
            o.heads.push_back(std::move(h));
            buf.erase(0, r.consumed);
            if (buf.empty()) break;
        }
    }
    o.leftover = buf.size();
    return o;
}

Outcome run_responses(std::string_view stream, const std::vector<size_t>& chunks,
                      const HttpLimits& limits) {
    HttpResponse resp;
    std::string buf;
    size_t scanned = 0, off = 0;
    Outcome o;
    for (size_t chunk : chunks) {
        buf.append(stream.substr(off, chunk));
        off += chunk;
        const std::string exact(buf);
        ResponseParseResult r = parse_response(exact, scanned, limits, resp);
        if (r.status == ParseStatus::kNeedMore) {
            FUZZ_CHECK(r.consumed == 0 && exact.size() <= limits.max_header_bytes);
            continue;
        }
        if (r.status == ParseStatus::kError) {
            FUZZ_CHECK(r.error != ResponseError::kNone);
            o.error = static_cast<int>(r.error);
            return o;
        }
        FUZZ_CHECK(r.consumed >= 4 && r.consumed <= exact.size());
        const std::string_view head(exact.data(), r.consumed);
        FUZZ_CHECK(head.ends_with("\r\n\r\n"));
        // 3DIGIT (RFC 7230 §3.1.2): "050" parses as 50; anything but 101 fails the upgrade later.
        FUZZ_CHECK(resp.status >= 0 && resp.status <= 999 && inside(resp.reason, head));
        check_headers(resp.headers, head, limits);
        // The client stops at the 101: what follows are frames.
        Head h{std::to_string(resp.status) + " " + std::string(resp.reason), {}, r.consumed};
        for (const Header& x : resp.headers) h.headers.emplace_back(x.name, x.value);
        o.heads.push_back(std::move(h));
        o.leftover = stream.size() - r.consumed;
        return o;
    }
    o.leftover = buf.size();
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    epws::fuzz::Input in(data, size);
    const uint16_t seed = in.u16();
    const uint8_t l = in.byte();
    static constexpr size_t kHeadBytes[4] = {8192, 64, 256, 1024};
    static constexpr size_t kHeaders[4] = {100, 1, 4, 16};
    static constexpr size_t kTarget[4] = {4096, 8, 64, 512};
    HttpLimits limits;
    limits.max_header_bytes = kHeadBytes[l & 3];
    limits.max_headers = kHeaders[(l >> 2) & 3];
    limits.max_target_bytes = kTarget[(l >> 4) & 3];
    const auto rest = in.rest();
    const std::string_view stream(reinterpret_cast<const char*>(rest.data()), rest.size());

    const auto chunks = epws::fuzz::random_chunks(stream.size(), seed);
    const Outcome whole = run_requests(stream, epws::fuzz::whole(stream.size()), limits, true);
    FUZZ_CHECK(same_request_outcome(run_requests(stream, chunks, limits, false), whole));
    FUZZ_CHECK(same_request_outcome(
        run_requests(stream, epws::fuzz::byte_by_byte(stream.size()), limits, false), whole));

    const Outcome whole_resp = run_responses(stream, epws::fuzz::whole(stream.size()), limits);
    FUZZ_CHECK(run_responses(stream, chunks, limits) == whole_resp);
    FUZZ_CHECK(run_responses(stream, epws::fuzz::byte_by_byte(stream.size()), limits) == whole_resp);
    return 0;
}
