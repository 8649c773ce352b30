// chat/program/trace_selector.cc: the --trace-* rules. Layer: chat/program/.
#include "chat/program/trace_selector.h"

#include <ctime>

#include "chat/identity.h"

namespace epws::chat {

bool TraceSelector::at_accept(uint64_t id) const {
    return config_.trace_connection != 0 && id == config_.trace_connection;
}

bool TraceSelector::at_request(const ws::HttpRequest& req) const {
    if (config_.trace_user.empty()) return false;
    Identity id = check_identity(config_.chat.jwt_secret, req.query, std::time(nullptr));
    if (id.ok()) return id.user == config_.trace_user;
    std::optional<std::string> claimed = decoded_param(req.query, "username");
    return claimed && *claimed == config_.trace_user;
}

}  // namespace epws::chat
