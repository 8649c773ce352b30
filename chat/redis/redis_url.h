// chat/redis/redis_url.h: the --redis URL, redis://[user:password@]host[:port][/db], parsed and
// checked before anything connects. Layer: chat/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace epws::chat {

struct RedisUrl {
    std::string user;      // empty: no AUTH, or AUTH with a password only (the "default" user)
    std::string password;  // empty: no AUTH
    std::string host;      // a name, an IPv4 address, or an IPv6 address (without brackets)
    uint16_t port = 6379;
    uint32_t db = 0;       // SELECT after connecting when not 0
};

// Fills url from text; on failure returns false with err naming what is wrong ("the port must
// be between 1 and 65535"). user and password are percent-decoded (RFC 3986 §2.1), so either
// may hold ':' or '@' written as %3A and %40.
bool parse_redis_url(std::string_view text, RedisUrl& url, std::string& err);

}  // namespace epws::chat
