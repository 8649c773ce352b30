// ws/endpoint.h: what a WebSocket path does, the seam between the protocol and applications.
// Layer: ws/. An application implements one Endpoint per path and registers it in ws::Routes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "ws/error.h"
#include "ws/frame.h"
#include "ws/http/request.h"

namespace epws::ws {

class ServerConnection;

// The events of one WebSocket endpoint's connections, in order: accept, then (if accepted)
// on_open, any number of on_message and on_drain, and on_close last. Every call comes on the
// loop thread that owns the connection; views passed in are valid only during the call.
// Per-connection state lives in the endpoint's own tables, found through the connection's
// tag() (one word it sets at accept or open).
class Endpoint {
public:
    virtual ~Endpoint() = default;
    // A valid upgrade request for this endpoint's path, before the 101 goes out: kNone accepts it
    // (and may store what was learnt, such as the caller's identity, under conn.set_tag()); any
    // other value is the refusal the client gets (kUnauthorized, kTooManyConnections, ...).
    // Once it accepts, on_open and on_close follow whatever happens next.
    virtual HttpError accept(ServerConnection&, const HttpRequest&) { return HttpError::kNone; }
    // The 101 has been sent; conn may send from here on.
    virtual void on_open(ServerConnection&) {}
    // A complete message (text is valid UTF-8, permessage-deflate undone).
    virtual void on_message(ServerConnection& conn, Opcode op, std::span<const std::byte> payload) = 0;
    // Output that send had to queue has all been written.
    virtual void on_drain(ServerConnection&) {}
    // The connection is gone: the last call, no sending from here. code is what the peer sent
    // (1005: a close frame without a code; 1006: no close frame at all).
    virtual void on_close(ServerConnection&, uint16_t /*code*/) {}
};

}  // namespace epws::ws
