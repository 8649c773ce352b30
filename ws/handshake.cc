// ws/handshake.cc: RFC 6455 §4.2, the server's checks of an upgrade request and its 101 answer.
// Layer: ws/. No I/O; OpenSSL for SHA-1, every return value checked.
#include "ws/handshake.h"

#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <memory>
#include <span>

#include "ws/base64.h"

namespace epws::ws {
namespace {

constexpr size_t kKeyBytes = 16;  // RFC 6455 §4.1 item 7: the key is base64 of 16 random bytes
constexpr size_t kSha1Bytes = 20;

// Request-level requirements of RFC 6455 §4.2.1 items 1-4.
HttpError check_request_basics(const HttpRequest& req) {
    if (req.method != "GET") return HttpError::kMethodNotAllowed;      // item 1: the method is GET
    if (req.minor_version < 1) return HttpError::kUpgradeNeedsHttp11;  // item 1: HTTP/1.1 or higher
    // Item 2 and RFC 9112 §3.2: exactly one Host header (parse_request already insists).
    size_t hosts = count_headers(req.headers, "host");
    if (hosts == 0) return HttpError::kMissingHost;
    if (hosts > 1) return HttpError::kDuplicateHost;
    // Item 3: Upgrade contains "websocket" (RFC 6455 §11.2: case-insensitive).
    if (!any_header_has_token(req.headers, "upgrade", "websocket"))
        return HttpError::kMissingUpgrade;
    // Item 4: Connection contains the "Upgrade" token (RFC 7230 §6.1: case-insensitive).
    if (!any_header_has_token(req.headers, "connection", "upgrade")) {
        return HttpError::kMissingConnection;
    }
    return HttpError::kNone;
}

// RFC 6455 §4.2.1 item 5: one Sec-WebSocket-Key whose base64 decodes to exactly 16 bytes (§11.3.1:
// it must not appear more than once).
HttpError check_key(const HttpRequest& req, std::string_view& key) {
    size_t keys = count_headers(req.headers, "sec-websocket-key");
    if (keys == 0) return HttpError::kMissingKey;
    if (keys > 1) return HttpError::kBadKey;
    key = *req.find("sec-websocket-key");
    std::array<std::byte, base64_encoded_size(kKeyBytes) / 4 * 3> raw;  // room for padding bytes
    std::optional<size_t> n = base64_decode(key, raw);
    return n && *n == kKeyBytes ? HttpError::kNone : HttpError::kBadKey;
}

// RFC 6455 §4.2.1 item 8 and §10.2: Origin lets the server refuse pages from other sites (browsers
// always send it; other clients can forge it, so the list only guards browser users).
bool origin_allowed(const HttpRequest& req, const HandshakeConfig& config) {
    if (config.allowed_origins.empty()) return true;
    const std::string_view* origin = req.find("origin");
    if (origin == nullptr) return false;
    for (const std::string& allowed : config.allowed_origins) {
        if (ascii_iequals(*origin, allowed)) return true;  // RFC 6454 §4: scheme and host fold case
    }
    return false;
}

// RFC 6455 §4.2.2 item 5.4 (/subprotocol/): the first server-preferred protocol the client offered.
// Names compare byte for byte: browsers fail the connection unless the answer equals one of their
// offers exactly (RFC 6455 §4.1 client check 6; the WHATWG WebSocket standard compares strings).
std::string_view choose_subprotocol(const HttpRequest& req, const HandshakeConfig& config) {
    for (const std::string& ours : config.subprotocols) {
        for (const Header& h : req.headers) {
            if (!ascii_iequals(h.name, "sec-websocket-protocol")) continue;
            std::string_view rest = h.value;
            while (auto offered = next_list_element(rest)) {
                if (*offered == ours) return ours;
            }
        }
    }
    return {};
}

}  // namespace

bool is_upgrade_request(const HttpRequest& req) {
    return any_header_has_token(req.headers, "upgrade", "websocket");
}

UpgradeRequest check_upgrade(const HttpRequest& req, const HandshakeConfig& config) {
    UpgradeRequest r;
    r.error = check_request_basics(req);
    if (r.error != HttpError::kNone) return r;
    // RFC 6455 §4.2.1 item 6 / §4.4: only version 13 is spoken; anything else gets 426 + our
    // version. The version is checked before the key so that an old client learns which version to
    // retry with.
    // RFC 6455 §11.3.5: the field is sent once; two lines are refused like two keys, rather than
    // judged by the first.
    if (count_headers(req.headers, "sec-websocket-version") > 1) {
        r.error = HttpError::kDuplicateWsVersion;
        return r;
    }
    const std::string_view* version = req.find("sec-websocket-version");
    if (version == nullptr || *version != "13") {
        r.error = HttpError::kBadWsVersion;
        return r;
    }
    r.error = check_key(req, r.key);
    if (r.error != HttpError::kNone) return r;
    if (!origin_allowed(req, config)) {
        r.error = HttpError::kOriginNotAllowed;
        return r;
    }
    r.subprotocol = choose_subprotocol(req, config);
    // RFC 6455 §4.2.1 item 9: extensions are negotiated later from this raw offer; RFC 9110 §5.3:
    // several lines of the field are one comma-separated list, in order.
    for (const Header& h : req.headers) {
        if (!ascii_iequals(h.name, "sec-websocket-extensions")) continue;
        if (r.extensions.count == ExtensionField::kMaxLines) {
            r.extensions.too_many = true;
            break;
        }
        r.extensions.lines[r.extensions.count++] = h.value;
    }
    return r;
}

bool accept_key(std::string_view key, char out[kAcceptKeySize]) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::array<std::byte, kSha1Bytes> digest;
    unsigned int len = 0;
    // RFC 6455 §4.2.2 item 5.4: SHA-1 over the key as sent (not decoded) followed by the GUID.
    bool ok =
        ctx != nullptr && EVP_DigestInit_ex(ctx.get(), EVP_sha1(), nullptr) == 1 &&
        EVP_DigestUpdate(ctx.get(), key.data(), key.size()) == 1 &&
        EVP_DigestUpdate(ctx.get(), kWebSocketGuid.data(), kWebSocketGuid.size()) == 1 &&
        EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(digest.data()), &len) == 1 &&
        len == kSha1Bytes;
    if (!ok) return false;
    std::array<char, kAcceptKeySize + 1> text;  // + OpenSSL's NUL
    if (base64_encode(digest, text) != kAcceptKeySize) return false;
    std::memcpy(out, text.data(), kAcceptKeySize);
    return true;
}

bool append_upgrade_response(std::string& out, std::string_view key, std::string_view subprotocol,
                             std::string_view extensions_answer) {
    char accept[kAcceptKeySize];
    if (!accept_key(key, accept)) return false;
    // RFC 6455 §4.2.2 item 5: 101, Upgrade, Connection and Sec-WebSocket-Accept are required.
    out += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    out += "Sec-WebSocket-Accept: ";
    out.append(accept, kAcceptKeySize);
    out += "\r\n";
    if (!subprotocol.empty()) {
        out += "Sec-WebSocket-Protocol: ";
        out += subprotocol;
        out += "\r\n";
    }
    if (!extensions_answer.empty()) {
        out += "Sec-WebSocket-Extensions: ";
        out += extensions_answer;
        out += "\r\n";
    }
    out += "\r\n";
    return true;
}

}  // namespace epws::ws
