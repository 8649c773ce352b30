// net/socket.h: socket helpers that know nothing of the loop (like Redis's anet.c).
// Layer: net/. Each returns -1 and fills err with one readable line on failure.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace epws::net {

// A non-blocking listening socket bound to host:port, with SO_REUSEADDR and, if reuse_port,
// SO_REUSEPORT (one listener per loop). host is a numeric IPv4 or IPv6 address.
int listen_tcp(const std::string& host, uint16_t port, bool reuse_port, std::string& err);
// Whether host:port can be bound at all: false (with err) when any socket already holds it, with
// or without SO_REUSEPORT. Checked before the loops bind theirs (with SO_REUSEPORT), so a second
// process on the same port fails at start-up instead of silently taking part of the traffic.
bool port_is_free(const std::string& host, uint16_t port, std::string& err);
// Makes the SO_REUSEPORT group of fd send each new connection to one of its first n sockets, at
// random (a classic BPF program, SO_ATTACH_REUSEPORT_CBPF): the loops' own, bound first. A
// socket another program of the same user adds to the group later is never chosen.
bool spread_over_first(int fd, unsigned n, std::string& err);
// Starts a non-blocking connect to host:port, optionally from source address `from` (empty:
// any; load generators spread over 127.0.0.x to get past the ephemeral port range). Returns
// the fd (the connection completes when it turns writable) or -1 with err filled.
int connect_tcp(const std::string& host, uint16_t port, const std::string& from, std::string& err);
// The port a bound socket ended up on (for --port 0).
uint16_t local_port(int fd);
// Disables Nagle: WebSocket frames are small and already batched per event by the loop.
void set_nodelay(int fd);
// The connected peer of fd as "ADDR:PORT" ("[ADDR]:PORT" for IPv6), or "?" (for the log).
std::string peer_address(int fd);
// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit.
uint64_t raise_nofile_limit();

}  // namespace epws::net
