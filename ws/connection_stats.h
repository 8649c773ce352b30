// ws/connection_stats.h: the traffic counters of one WebSocket connection, written by its loop
// and readable from any thread (the /inspect page's server view). Layer: ws/.
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/counter.h"

namespace epws::ws {

// Kept only for connections the application asks for (ServerConnection::set_stats): an idle
// /echo connection pays one null pointer. Every field is a net::Counter: the owning loop is the
// only writer (a relaxed load and store, no locked instruction per message), and any thread may
// read a value while it runs. Counting starts when the block is attached (the application does
// it in on_open, so the 101 response is not counted) and stops when it is detached.
struct ConnectionStats {
    net::Counter messages_in;       // data messages (text, binary) received whole
    net::Counter messages_out;      // data messages sent (accepted by the socket or queued)
    net::Counter wire_bytes_in;     // every frame byte read: headers, masks, control frames
    net::Counter wire_bytes_out;    // every frame byte sent, likewise
    net::Counter payload_bytes_in;  // data-message payloads as the application sees them:
    net::Counter payload_bytes_out; //   after inflating (in), before deflating (out)
    // The same payloads as they travelled: after permessage-deflate, or the payload itself for a
    // message that went uncompressed. compressed / payload is the connection's real ratio.
    net::Counter compressed_bytes_in;
    net::Counter compressed_bytes_out;
    net::Counter ping_sent_us;  // CLOCK_MONOTONIC time of the unanswered server ping (its
                                // payload), in microseconds; 0 when none is outstanding
    net::Counter ping_rtt_us;   // round trip of the last answered server ping; 0: none yet
};

}  // namespace epws::ws
