// chat/program/trace_selector.h: which connections `--trace-connection ID` and `--trace-user
// NAME` follow (ws/server_trace.h does the tracing). Layer: chat/program/.
#pragma once

#include <cstdint>
#include <string>

#include "chat/program/options.h"
#include "ws/server_trace.h"

namespace epws::chat {

// Reads the loop's own settings at each use (the JWT secret reloads on SIGHUP). Loop thread.
class TraceSelector final : public ws::TraceSelector {
public:
    explicit TraceSelector(const Options& config) : config_(config) {}
    // The connection whose id is --trace-connection.
    bool at_accept(uint64_t id) const override;
    // A request carrying --trace-user: the identity the chat would grant it (chat/identity.h:
    // ?username= in open mode, the token's sub with a JWT secret), or, failing that, a
    // username= parameter naming the user, so that a refused attempt of that user shows too.
    bool at_request(const ws::HttpRequest& req) const override;

private:
    const Options& config_;
};

// Whether any --trace-* flag asks for tracing.
inline bool tracing_enabled(const Options& o) {
    return o.trace_connection != 0 || !o.trace_user.empty();
}

}  // namespace epws::chat
