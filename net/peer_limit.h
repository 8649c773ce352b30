// net/peer_limit.h: open connections counted per peer address, shared by every loop, so one
// address cannot take all of a server's connections. Layer: net/.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace epws::net {

// Peers are counted by IPv4 address, or by IPv6 /64 prefix (one host usually owns a whole
// /64, so counting whole IPv6 addresses would cap nobody). IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d, what a dual-stack socket reports) count as the IPv4 address.
// Thread-safe: one mutex, taken once when a connection is accepted and once when it closes
// (never per message).
class PeerLimit {
public:
    using Key = std::array<uint8_t, 16>;

private:
    struct KeyHash {
        size_t operator()(const Key& k) const;
    };
    using Map = std::unordered_map<Key, uint32_t, KeyHash>;

public:
    // What a counted connection holds until it closes: its peer's entry in the map (an
    // unordered_map node keeps its address until erased, rehashing included, so release()
    // needs no lookup). Valid until released.
    using Slot = Map::value_type;

    // cap: connections per peer; 0 counts nothing and admits everyone.
    explicit PeerLimit(uint32_t cap) : cap_(cap) {}
    PeerLimit(const PeerLimit&) = delete;
    PeerLimit& operator=(const PeerLimit&) = delete;

    // false: the peer already holds cap connections (nothing taken). true: admitted; slot is
    // the count taken (nullptr when no cap is set, or the address is neither IPv4 nor IPv6),
    // to be given back with release().
    bool acquire(const sockaddr_storage& peer, Slot*& slot);
    // Gives back one connection's count; nullptr is ignored.
    void release(Slot* slot);

    uint32_t cap() const { return cap_; }
    // Addresses with at least one open connection (for tests and /stats).
    size_t peers() const;

    // The counting key of an address (the IPv4 address in ::ffff:0:0/96, else the /64).
    // false for families other than AF_INET and AF_INET6.
    static bool key_of(const sockaddr_storage& peer, Key& key);

private:
    const uint32_t cap_;
    mutable std::mutex mu_;
    Map counts_;  // only peers with open connections: at most one entry per open connection
};

}  // namespace epws::net
