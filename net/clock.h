// net/clock.h: the clocks every layer reads, in one place. Layer: net/.
#pragma once

#include <time.h>

#include <cstdint>

namespace epws::net {

// CLOCK_MONOTONIC in milliseconds: deadlines and rates (never jumps with the wall clock).
inline uint64_t monotonic_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

// CLOCK_MONOTONIC in microseconds: round trips on a LAN, where milliseconds are too coarse.
inline uint64_t monotonic_us() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

// CLOCK_REALTIME in milliseconds since the epoch: timestamps shown to people.
inline uint64_t wall_ms() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

}  // namespace epws::net
