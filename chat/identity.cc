// chat/identity.cc: the identity check shared by the /chat handshake and GET /api/whoami.
// Layer: chat/.
#include "chat/identity.h"

#include "chat/names.h"
#include "ws/http/request.h"

namespace epws::chat {

std::optional<std::string> decoded_param(std::string_view query, std::string_view name) {
    auto raw = ws::query_param(query, name);
    std::string out;
    if (!raw || !ws::percent_decode(*raw, out)) return std::nullopt;
    return out;
}

Identity check_identity(std::string_view jwt_secret, std::string_view query, int64_t now) {
    Identity id;
    std::optional<std::string> username = decoded_param(query, "username");
    if (jwt_secret.empty()) {
        // Open development mode: the name in the URL is trusted (said at start-up).
        if (!username || !is_valid_user_name(*username)) {
            id.error = IdentityError::kBadUserName;
            return id;
        }
        id.user = std::move(*username);
        return id;
    }
    std::optional<std::string> token = decoded_param(query, "token");
    if (!token || token->empty()) {
        id.error = IdentityError::kMissingToken;
        return id;
    }
    JwtResult r = verify_jwt(*token, jwt_secret, now);
    if (!r.ok()) {
        id.error = IdentityError::kBadToken;
        id.jwt = r.error;
        return id;
    }
    // The browser client leaves username out when it has none; an empty one means the same.
    if (username && !username->empty() && *username != r.user) {
        id.error = IdentityError::kUsernameMismatch;
        return id;
    }
    id.user = std::move(r.user);
    id.exp = r.exp;
    return id;
}

std::string_view identity_error_code(IdentityError e) {
    switch (e) {
    case IdentityError::kNone: return "none";
    case IdentityError::kMissingToken:
    case IdentityError::kBadToken: return "unauthorized";
    case IdentityError::kUsernameMismatch: return "username_mismatch";
    case IdentityError::kBadUserName: return "bad_user";
    }
    return "unauthorized";
}

std::string_view identity_error_reason(const Identity& id) {
    switch (id.error) {
    case IdentityError::kNone: return "";
    case IdentityError::kMissingToken: return "a token is required";
    case IdentityError::kBadToken: return jwt_error_string(id.jwt);
    case IdentityError::kUsernameMismatch: return "username differs from the token's sub";
    case IdentityError::kBadUserName: return "username is missing or breaks the name rules";
    }
    return "";
}

}  // namespace epws::chat
