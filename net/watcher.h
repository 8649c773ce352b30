// net/watcher.h: what the loop calls when epoll reports events on an fd. Layer: net/.
#pragma once

#include <cstdint>

namespace epws::net {

// Stored in epoll_data.ptr. Connections are watchers too; a closed one stays allocated until
// the end of the event batch, so a stale event for it in the same batch finds it closed.
class Watcher {
public:
    virtual ~Watcher() = default;
    virtual void on_events(uint32_t events) = 0;
};

}  // namespace epws::net
