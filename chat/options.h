// chat/options.h: the server's command line: every flag, its default and its help text.
// Layer: chat/ (the application), filling the ws/ server config.
#pragma once

#include <string>

#include "chat/shared.h"
#include "ws/server.h"

namespace epws::chat {

enum class ParseOutcome { kRun, kHelp, kError };

// Everything the command line sets: the WebSocket server's limits and the chat's.
struct Options : ws::ServerConfig {
    ChatConfig chat;
};

// Parses argv into config (which holds the defaults on entry). On kError, err holds one line
// naming the flag and what is wrong with it.
ParseOutcome parse_options(int argc, const char* const* argv, Options& config,
                           std::string& err);
// The --help text, with the defaults taken from a default-constructed config.
std::string usage(const char* program);

}  // namespace epws::chat
