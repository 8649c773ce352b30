// chat/program/stats.h: the /stats document: every loop's counters summed, plus the ring's.
// Layer: chat/program/.
#pragma once

#include <string>
#include <vector>

#include "chat/bus.h"
#include "chat/rooms.h"
#include "net/output_budget.h"
#include "ws/server_config.h"

namespace epws::chat {

// One JSON object; each counter is the sum over the loops given.
std::string stats_json(const std::vector<const ws::ServerStats*>& loops, const Bus& bus,
                       const net::OutputBudget& budget, RoomRegistry& rooms);

}  // namespace epws::chat
