// chat/jwt.cc: HS256 JWT verify and mint: base64url, HMAC-SHA256 over OpenSSL, claims read with
// simdjson. Layer: chat/. No I/O.
#include "chat/jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <array>
#include <climits>
#include <cmath>

#include "chat/names.h"
#include "chat/protocol.h"

namespace epws::chat {

namespace {

constexpr size_t kMacBytes = 32; // SHA-256
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int8_t sextet(char c) {
    if (c >= 'A' && c <= 'Z') return static_cast<int8_t>(c - 'A');
    if (c >= 'a' && c <= 'z') return static_cast<int8_t>(c - 'a' + 26);
    if (c >= '0' && c <= '9') return static_cast<int8_t>(c - '0' + 52);
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

// HMAC-SHA256(secret, data). False if OpenSSL fails or the secret is too long for its int length.
bool hmac_sha256(std::string_view secret, std::string_view data,
                 std::array<unsigned char, kMacBytes>& mac) {
    if (secret.size() > static_cast<size_t>(INT_MAX)) return false;
    unsigned int len = 0;
    const unsigned char* r =
        HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &len);
    return r != nullptr && len == kMacBytes;
}

struct Segments {
    std::string_view header, payload, signature, signing_input;
};

bool split(std::string_view token, Segments& s) {
    const size_t a = token.find('.');
    if (a == std::string_view::npos) return false;
    const size_t b = token.find('.', a + 1);
    if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) {
        return false; // RFC 7515 §7.1: exactly three segments in the compact form
    }
    s = {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1),
         token.substr(0, b)};
    return !s.header.empty() && !s.payload.empty() && !s.signature.empty();
}

// Parses decoded JSON as an object whose known keys appear at most once (RFC 7515 §4: a JWS
// with duplicate header names may be rejected; we treat claims the same way).
bool parse_object(simdjson::dom::parser& parser, const std::string& json,
                  std::initializer_list<std::string_view> known, simdjson::dom::object& out) {
    simdjson::dom::element root;
    if (parser.parse(json).get(root)) return false; // copies json into padded storage
    if (root.get_object().get(out)) return false;
    for (std::string_view k : known) {
        size_t seen = 0;
        for (const simdjson::dom::key_value_pair& kv : out)
            seen += kv.key == k;
        if (seen > 1) return false;
    }
    return true;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

JwtError check_header(simdjson::dom::object header) {
    std::string_view alg;
    // Exactly HS256: "none" or another algorithm chosen by the token's author must never pass.
    if (header["alg"].get_string().get(alg) || alg != "HS256") return JwtError::kBadHeader;
    simdjson::dom::element typ;
    if (header["typ"].get(typ) == simdjson::SUCCESS) {
        std::string_view t;
        // RFC 7515 §4.1.9: media type names compare case-insensitively.
        if (typ.get_string().get(t) || !equal_ignoring_case(t, "JWT")) return JwtError::kBadHeader;
    }
    simdjson::dom::element crit;
    // RFC 7515 §4.1.11: extensions we do not understand must make the token invalid.
    if (header["crit"].get(crit) == simdjson::SUCCESS) return JwtError::kBadHeader;
    return JwtError::kNone;
}

// A NumericDate (RFC 7519 §2): seconds, possibly fractional; clamped into int64.
bool numeric_date(simdjson::dom::element v, int64_t& out) {
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    if (v.get_int64().get(i) == simdjson::SUCCESS) {
        out = i;
    } else if (v.get_uint64().get(u) == simdjson::SUCCESS) {
        out = INT64_MAX; // beyond int64: the far future
    } else if (v.get_double().get(d) == simdjson::SUCCESS && std::isfinite(d)) {
        out = d >= 9.2e18    ? INT64_MAX
              : d <= -9.2e18 ? INT64_MIN
                             : static_cast<int64_t>(std::floor(d));
    } else {
        return false;
    }
    return true;
}

JwtError check_claims(simdjson::dom::object claims, int64_t now, JwtResult& r) {
    simdjson::dom::element v;
    if (claims["exp"].get(v) != simdjson::SUCCESS) return JwtError::kMissingExp;
    if (!numeric_date(v, r.exp)) return JwtError::kBadClaim;
    if (now >= r.exp) return JwtError::kExpired;
    if (claims["nbf"].get(v) == simdjson::SUCCESS) {
        int64_t nbf = 0;
        if (!numeric_date(v, nbf)) return JwtError::kBadClaim;
        if (now < nbf) return JwtError::kNotYetValid;
    }
    if (claims["sub"].get(v) != simdjson::SUCCESS) return JwtError::kMissingSub;
    std::string_view sub;
    if (v.get_string().get(sub)) return JwtError::kBadClaim;
    if (!is_valid_user_name(sub)) return JwtError::kBadSubject;
    r.user = sub;
    return JwtError::kNone;
}

JwtError check_signature(const Segments& s, std::string_view secret) {
    std::optional<std::string> given = base64url_decode(s.signature);
    if (!given) return JwtError::kMalformed;
    if (secret.empty() || given->size() != kMacBytes) return JwtError::kBadSignature;
    std::array<unsigned char, kMacBytes> mac{};
    if (!hmac_sha256(secret, s.signing_input, mac)) return JwtError::kInternal;
    // Constant time: a byte-by-byte compare that stops early tells an attacker how much of a
    // forged signature is right.
    return CRYPTO_memcmp(mac.data(), given->data(), kMacBytes) == 0 ? JwtError::kNone
                                                                    : JwtError::kBadSignature;
}

JwtResult verify(std::string_view token, std::string_view secret, int64_t now) {
    const JwtResult kMalformed{JwtError::kMalformed, {}, 0};
    Segments s;
    if (token.size() > kMaxTokenBytes || !split(token, s)) return kMalformed;
    // Both segments are decoded up front so that bad base64url is kMalformed wherever it is; the
    // claims are only parsed once the signature is known good.
    const std::optional<std::string> header_json = base64url_decode(s.header);
    const std::optional<std::string> claims_json = base64url_decode(s.payload);
    if (!header_json || !claims_json) return kMalformed;
    simdjson::dom::parser parser;
    simdjson::dom::object header;
    if (!parse_object(parser, *header_json, {"alg", "typ", "crit"}, header)) return kMalformed;
    JwtResult r;
    if ((r.error = check_header(header)) != JwtError::kNone) return r;
    if ((r.error = check_signature(s, secret)) != JwtError::kNone) return r;
    simdjson::dom::object claims; // reuses the parser: the header is not needed any more
    if (!parse_object(parser, *claims_json, {"sub", "exp", "nbf"}, claims)) return kMalformed;
    r.error = check_claims(claims, now, r);
    if (!r.ok()) r = {r.error, {}, 0};
    return r;
}

} // namespace

std::string secret_problem(std::string_view secret) {
    if (secret.size() >= kMinSecretBytes) return "";
    return "the secret must be at least " + std::to_string(kMinSecretBytes) + " bytes (it has " +
           std::to_string(secret.size()) + ")";
}

std::string_view jwt_error_string(JwtError e) {
    switch (e) {
    case JwtError::kNone:
        return "none";
    case JwtError::kMalformed:
        return "malformed token";
    case JwtError::kBadHeader:
        return "token header is not alg HS256";
    case JwtError::kBadSignature:
        return "bad token signature";
    case JwtError::kBadClaim:
        return "token claim has the wrong type";
    case JwtError::kMissingExp:
        return "token has no exp";
    case JwtError::kExpired:
        return "token expired";
    case JwtError::kNotYetValid:
        return "token not yet valid (nbf)";
    case JwtError::kMissingSub:
        return "token has no sub";
    case JwtError::kBadSubject:
        return "token sub is not a valid user name";
    case JwtError::kInternal:
        return "token check failed inside OpenSSL";
    }
    return "unknown";
}

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    uint32_t acc = 0;
    int bits = 0;
    for (char c : bytes) {
        acc = (acc << 8) | static_cast<uint8_t>(c);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += kAlphabet[(acc >> bits) & 0x3F];
        }
    }
    if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3F];
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1) return std::nullopt; // 6 bits cannot make a byte
    std::string out;
    out.reserve(text.size() * 3 / 4);
    uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        const int8_t v = sextet(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    // RFC 4648 §3.5: leftover bits must be zero, or one value would have several encodings.
    if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

JwtResult verify_jwt(std::string_view token, std::string_view secret, int64_t now) {
    try {
        return verify(token, secret, now);
    } catch (...) {
        // simdjson's error-code API does not throw; allocation might. Nothing escapes.
        return {JwtError::kInternal, {}, 0};
    }
}

std::optional<std::string> mint_jwt(std::string_view secret, std::string_view user,
                                    int64_t ttl_seconds, int64_t now) {
    if (secret.empty() || !is_valid_user_name(user) || ttl_seconds <= 0 ||
        now > INT64_MAX - ttl_seconds) {
        return std::nullopt;
    }
    std::string claims = "{\"sub\":";
    append_json_string(claims, user);
    claims += ",\"iat\":" + std::to_string(now) + ",\"exp\":" + std::to_string(now + ttl_seconds);
    claims += '}';
    std::string token = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
    token += '.';
    token += base64url_encode(claims);
    std::array<unsigned char, kMacBytes> mac{};
    if (!hmac_sha256(secret, token, mac)) return std::nullopt;
    token += '.';
    token += base64url_encode({reinterpret_cast<const char*>(mac.data()), mac.size()});
    return token;
}

} // namespace epws::chat
