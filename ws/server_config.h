// ws/server_config.h: every limit of the WebSocket server a client controls, and the server's
// counters. Layer: ws/. Plain data, so the program can fill and print it without the server.
#pragma once

#include <cstdint>
#include <string>

#include "net/connection.h"
#include "net/counter.h"
#include "ws/deflate_engine.h"
#include "ws/error.h"
#include "ws/deflate_params.h"
#include "ws/handshake.h"
#include "ws/http/request.h"
#include "ws/message_reader.h"

namespace epws::ws {

// Every limit a client controls, with its default: one struct, so none is forgotten.
struct ServerConfig {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    unsigned threads = 1;
    HttpLimits http;                         // 8 KiB of head, 100 headers, 4 KiB target
    ReaderLimits reader;                     // 16 MiB message, 1 Mi fragments
    HandshakeConfig handshake;               // subprotocols, Origin allow-list
    DeflateConfig deflate;                   // permessage-deflate: shared mode, level 6, 15-bit
                                             // window, memLevel 8, messages of 64 bytes and up
    uint32_t max_output_bytes = 32u << 20;   // queued for one peer before close 1008
    uint64_t max_total_output_bytes = 0;     // unsent copies of every peer together; over it
                                             // the largest holders are reset; 0: a quarter
                                             // of the machine's memory
    uint32_t handshake_timeout_ms = 10000;   // request head must arrive within this
    uint32_t idle_timeout_ms = 120000;       // no bytes from the peer for this long: close 1001
    uint32_t close_timeout_ms = 5000;        // wait this long for the peer's close / FIN
    uint32_t send_timeout_ms = 60000;        // queued output the peer takes nothing of for this
                                             // long: reset (any progress re-arms it)
    uint32_t max_connections = 100000;       // open sockets in all; over it: 503
    uint32_t max_connections_per_ip = 1024;  // open sockets per IPv4 address or IPv6 /64;
                                             // over it: 503; 0: no cap
};

// Close codes as counted: 1000..1015 one slot each, then 3000-3999, 4000-4999 and any other.
constexpr size_t kCloseCodeSlots = 19;
constexpr size_t close_code_slot(uint16_t code) {
    if (code >= 1000 && code <= 1015) return code - 1000u;
    if (code >= 3000 && code <= 3999) return 16;
    if (code >= 4000 && code <= 4999) return 17;
    return 18;
}
// Open WebSockets are counted per endpoint index (ws::Routes) for the first few endpoints.
constexpr size_t kEndpointSlots = 8;

// Counters of one server (one loop). Written on the loop thread only; any thread may read.
struct ServerStats {
    net::Counter accepted;
    net::Counter handshakes;             // successful upgrades
    net::Counter rejected_handshakes;    // upgrade requests answered with an error status
    net::Counter http_requests;          // plain HTTP requests answered
    net::Counter bad_requests;           // heads refused unparsed: malformed (400) or over a
                                         // limit (414, 431)
    net::Counter rejected_over_capacity; // answered 503 at accept: max_connections reached
    net::Counter rejected_per_ip;        // answered 503 at accept: the peer's address is at
                                         // max_connections_per_ip
    net::Counter rejected_fd_limit;      // closed at accept: the process is out of descriptors
    net::Counter handshake_timeouts;
    net::Counter tls_handshakes;         // TLS handshakes completed
    net::Counter tls_handshake_failures; // garbage, plain HTTP, a refused protocol or cipher,
                                         // or the peer leaving mid-handshake
    net::Counter tls_handshake_timeouts; // still in the TLS handshake at handshake_timeout_ms
    net::Counter idle_timeouts;
    net::Counter close_timeouts;
    net::Counter send_timeouts;          // reset: queued output not read for a send timeout
    net::Counter protocol_errors;        // connections failed with 1002/1007/1009
    net::Counter closed_output_overflow; // peers that stopped reading, closed with 1008
    net::Counter closed_over_budget;     // reset: the process output budget was spent and
                                         // they held the most of it
    net::Counter messages_in;
    net::Counter messages_out;
    net::Counter websockets;             // open WebSocket connections now
    net::Counter closes[net::kCloseCauseCount];  // connections ended, by net::CloseCause
    DeflateStats deflate;                // permessage-deflate (RFC 7692)
    net::Counter refused[kHttpErrorCount];        // requests answered with an error, by cause
    net::Counter close_sent[kCloseCodeSlots];     // close frames we sent, by close_code_slot
    net::Counter close_received[kCloseCodeSlots]; // close frames the peers sent
    net::Counter open_by_endpoint[kEndpointSlots];// open WebSockets by endpoint index
    net::Counter wire_bytes_in;          // WebSocket frame bytes read (headers and payloads)
    net::Counter wire_bytes_out;         // frame bytes accepted by the socket (sent or queued)
    net::Counter payload_bytes_in;       // message payloads as they travelled (compressed)
    net::Counter payload_bytes_out;      // message payloads before compression
};

}  // namespace epws::ws
