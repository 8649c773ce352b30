// chat/program/metrics.h: GET /metrics, the Prometheus text exposition format (version 0.0.4)
// rendered from every loop's counters, the bus, the rooms and /proc/self. Layer: chat/program/.
#pragma once

#include <string>

#include "chat/program/process.h"
#include "ws/routes.h"

namespace epws::chat {

// One scrape. Reads every loop's counters without a lock (net::Counter: relaxed loads of
// single-writer values, so a scrape costs no loop anything on its hot path); the rooms are
// counted under their own mutexes (taken on join and leave, never per message). routes names
// the endpoints (every loop has the same table). Any loop's thread.
std::string render_metrics(Process& process, const ws::Routes& routes);

}  // namespace epws::chat
