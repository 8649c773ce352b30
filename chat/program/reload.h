// chat/program/reload.h: SIGHUP. A list of hooks, one per part that reloads something (the
// configuration here; TLS certificates register their own), and the table of which settings
// may change while running. Layer: chat/program/.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "chat/program/options.h"

namespace epws::chat {

// Main thread only: filled before the loops start, run on each SIGHUP in the order added.
class ReloadHooks {
public:
    void add(std::string part, std::function<void()> hook) {
        hooks_.push_back({std::move(part), std::move(hook)});
    }
    void run() const {
        for (const auto& h : hooks_) h.hook();
    }

private:
    struct Hook {
        std::string part;
        std::function<void()> hook;
    };
    std::vector<Hook> hooks_;
};

// The settings (by flag name) that differ between from and to: those a reload applies and
// those that need a restart (kept as they are).
struct ConfigDiff {
    std::vector<std::string> applied;
    std::vector<std::string> needs_restart;
};
ConfigDiff diff_config(const Options& from, const Options& to);
// Copies every setting a reload may change from `from` into `into`: what each loop does with a
// new snapshot, on its own thread, into its own copy. The reloadable settings are read at each
// use (a deadline set, a message read, a token checked), so they apply from the next one.
void apply_reloadable(const Options& from, Options& into);
// Every setting of the table as (flag name, value) for the start line of the log; a secret
// shows as (set) or (none), durations in seconds.
std::vector<std::pair<std::string, std::string>> describe_config(const Options& o);

}  // namespace epws::chat
