// chat/jwt.h: HS256 JSON Web Tokens (RFC 7519 over RFC 7515's JWS compact form) for chat
// identity: verify a client's token, mint one for `epws token`. Layer: chat/. HMAC from OpenSSL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace epws::chat {

// Why a token was refused; one value per cause. jwt_error_string names each for logs.
enum class JwtError : uint8_t {
    kNone,
    kMalformed,    // not three base64url segments, too long, or a segment not a JSON object
    kBadHeader,    // alg other than exactly "HS256", typ other than "JWT", or a crit header
    kBadSignature, // the HMAC does not match
    kBadClaim,     // sub not a string, or exp / nbf not a number
    kMissingExp,   // no exp: tokens that never expire are refused
    kExpired,      // now >= exp (RFC 7519 §4.1.4)
    kNotYetValid,  // now < nbf (RFC 7519 §4.1.5)
    kMissingSub,   // no sub
    kBadSubject,   // sub fails the user name rules (chat/names.h)
    kInternal,     // OpenSSL failed
};

std::string_view jwt_error_string(JwtError e);

struct JwtResult {
    JwtError error = JwtError::kNone;
    std::string user; // sub, when error is kNone
    int64_t exp = 0;  // seconds since the Unix epoch, when error is kNone
    bool ok() const { return error == JwtError::kNone; }
};

// The shortest HS256 secret the server accepts (--jwt-secret, --jwt-secret-file,
// EPWS_JWT_SECRET) and `epws token` signs with: a short secret is guessed offline from one token.
inline constexpr size_t kMinSecretBytes = 16;

// Empty when secret is one the server would accept; otherwise the reason, one line without the
// secret. The server's flags and `epws token` both ask this, so a token is never minted with a
// secret the server refuses at start-up.
std::string secret_problem(std::string_view secret);

// Tokens longer than this are refused as kMalformed before any work is done.
inline constexpr size_t kMaxTokenBytes = 4096;

// Verifies an HS256 token against secret at time now (seconds since the Unix epoch). The
// signature is checked (in constant time) before any claim is trusted; then exp, nbf and sub.
// exp and nbf may be fractional (RFC 7519 NumericDate). Thread-safe; allocates.
JwtResult verify_jwt(std::string_view token, std::string_view secret, int64_t now);

// Mints {"alg":"HS256","typ":"JWT"}.{"sub":user,"iat":now,"exp":now+ttl}. Returns nullopt if user
// fails is_valid_user_name, ttl is not positive, now + ttl overflows, or OpenSSL fails.
std::optional<std::string> mint_jwt(std::string_view secret, std::string_view user,
                                    int64_t ttl_seconds, int64_t now);

// base64url without padding (RFC 4648 §5, RFC 7515 §2), exposed for tests.
std::string base64url_encode(std::string_view bytes);
// Strict: only the URL-safe alphabet, no padding, no whitespace, a length that is not 1 mod 4
// and zero bits left over in the last character (so each value has exactly one encoding).
std::optional<std::string> base64url_decode(std::string_view text);

} // namespace epws::chat
