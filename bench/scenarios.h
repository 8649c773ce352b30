// bench/scenarios.h: the five scenarios of epws-bench, each a complete, bounded run. Layer: bench/.
// Each returns a Report; report.ok is false (with the reason) when a correctness check failed.
#pragma once

#include "bench/options.h"
#include "bench/report.h"

namespace epws::bench {

Report run_echo(const Options& options);
Report run_broadcast(const Options& options);
Report run_connect(const Options& options);
Report run_idle(const Options& options);
Report run_chat(const Options& options);

// Seconds allowed for connecting, and for draining what is in flight, before a run fails.
constexpr double kConnectSeconds = 30;
constexpr double kDrainSeconds = 10;

inline uint64_t seconds_ns(double s) { return static_cast<uint64_t>(s * 1e9); }

}  // namespace epws::bench
