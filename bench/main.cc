// bench/main.cc: epws-bench, the load generator: parses flags, runs one scenario, prints the
// table and (with --json) one JSON line. Layer: bench/.
#include <cstdio>
#include <string>
#include <vector>

#include "bench/options.h"
#include "bench/scenarios.h"

using namespace epws::bench;

namespace {

bool write_json(const Options& o, const Report& r) {
    if (o.json_path.empty()) return true;
    std::string line = format_json(r) + "\n";
    if (o.json_path == "-") return std::fputs(line.c_str(), stdout) >= 0;
    FILE* f = std::fopen(o.json_path.c_str(), "a");
    if (f == nullptr) return false;
    bool ok = std::fputs(line.c_str(), f) >= 0;
    return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::fputs(usage().c_str(), stdout);
        return 0;
    }
    Options o;
    std::string err;
    if (!parse_options(args, o, err)) {
        std::fprintf(stderr, "epws-bench: %s\n", err.c_str());
        return 1;
    }
    if (o.server_pid == 0)
        std::fprintf(stderr, "epws-bench: no --server-pid: the server's CPU and memory go unmeasured\n");
    Report r;
    switch (o.scenario) {
    case Scenario::kEcho: r = run_echo(o); break;
    case Scenario::kBroadcast: r = run_broadcast(o); break;
    case Scenario::kConnect: r = run_connect(o); break;
    case Scenario::kIdle: r = run_idle(o); break;
    case Scenario::kChat: r = run_chat(o); break;
    }
    std::fputs(format_table(r).c_str(), r.ok ? stdout : stderr);
    if (!write_json(o, r)) std::fprintf(stderr, "epws-bench: cannot append to %s\n", o.json_path.c_str());
    return r.ok ? 0 : 2;
}
