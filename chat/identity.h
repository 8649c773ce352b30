// chat/identity.h: who a /chat client is, from the query of its request: the one check behind
// both the /chat handshake and GET /api/whoami, so the two can never disagree. Layer: chat/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chat/jwt.h"

namespace epws::chat {

// Why an identity was refused; one value per cause.
enum class IdentityError : uint8_t {
    kNone,
    kMissingToken,      // JWT mode: no token, or an empty one
    kBadToken,          // JWT mode: verify_jwt refused it (Identity::jwt says why)
    kUsernameMismatch,  // JWT mode: a non-empty username differs from the token's sub
    kBadUserName,       // open mode: username missing or breaking the name rules (chat/names.h)
};

struct Identity {
    IdentityError error = IdentityError::kNone;
    JwtError jwt = JwtError::kNone;  // with kBadToken: the token's fault
    std::string user;                // when error is kNone
    int64_t exp = 0;                 // JWT mode: the token's exp; 0 in open mode
    bool ok() const { return error == IdentityError::kNone; }
};

// The identity `query` (a request's query string, still percent-encoded) claims.
// With a jwt_secret: `token` is required and verified at `now` (seconds since the Unix epoch);
// the user is its sub; a `username`, if given and not empty, must equal it (an empty one counts
// as not given). Without a secret (open development mode): `username` is trusted once it passes
// the name rules; `token` is ignored. A parameter that does not percent-decode counts as absent.
// Thread-safe; allocates.
Identity check_identity(std::string_view jwt_secret, std::string_view query, int64_t now);

// The percent-decoded value of the first `name=` pair of `query`; nullopt when absent or when
// it does not decode (ws::percent_decode).
std::optional<std::string> decoded_param(std::string_view query, std::string_view name);

// A short snake_case code for an error ("unauthorized", "username_mismatch", "bad_user") and a
// one-line reason, for the JSON answers of the web API.
std::string_view identity_error_code(IdentityError e);
std::string_view identity_error_reason(const Identity& id);

}  // namespace epws::chat
