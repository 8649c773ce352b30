// chat/stats.h: the /stats document: every loop's counters summed, plus the ring's.
// Layer: chat/.
#pragma once

#include <string>
#include <vector>

#include "chat/hub.h"
#include "ws/server.h"

namespace epws::chat {

// One JSON object; each counter is the sum over the loops given.
std::string stats_json(const std::vector<const ws::ServerStats*>& loops, const Hub& hub);

}  // namespace epws::chat
