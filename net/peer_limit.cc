// net/peer_limit.cc: open connections counted per peer address. Layer: net/.
#include "net/peer_limit.h"

#include <netinet/in.h>

#include <cstring>

namespace epws::net {

bool PeerLimit::key_of(const sockaddr_storage& peer, Key& key) {
    key.fill(0);
    if (peer.ss_family == AF_INET) {
        const auto& sin = reinterpret_cast<const sockaddr_in&>(peer);
        key[10] = key[11] = 0xff;
        std::memcpy(key.data() + 12, &sin.sin_addr, 4);
        return true;
    }
    if (peer.ss_family != AF_INET6) return false;
    const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(peer);
    const uint8_t* a = sin6.sin6_addr.s6_addr;
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    // RFC 4291 §2.5.5.2: ::ffff:a.b.c.d is the IPv4 host a.b.c.d.
    size_t keep = std::memcmp(a, kMapped, sizeof kMapped) == 0 ? 16 : 8;
    std::memcpy(key.data(), a, keep);
    return true;
}

size_t PeerLimit::KeyHash::operator()(const Key& k) const {
    // FNV-1a: the keys are addresses the kernel reports, one per open connection, so there
    // is no attacker-chosen flood of colliding keys to defend against beyond the cap itself.
    uint64_t h = 1469598103934665603ull;
    for (uint8_t b : k) h = (h ^ b) * 1099511628211ull;
    return static_cast<size_t>(h);
}

bool PeerLimit::acquire(const sockaddr_storage& peer, Slot*& slot) {
    slot = nullptr;
    Key key;
    if (cap_ == 0 || !key_of(peer, key)) return true;
    std::lock_guard lock(mu_);
    auto [it, fresh] = counts_.try_emplace(key, 0);
    if (it->second >= cap_) return false;  // never fresh: cap_ >= 1
    ++it->second;
    slot = &*it;
    return true;
}

void PeerLimit::release(Slot* slot) {
    if (!slot) return;
    std::lock_guard lock(mu_);
    if (--slot->second == 0) counts_.erase(slot->first);  // slot is invalid from here
}

size_t PeerLimit::peers() const {
    std::lock_guard lock(mu_);
    return counts_.size();
}

}  // namespace epws::net
