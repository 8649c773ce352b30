// bench/options.cc: parsing and validating epws-bench's flags. Layer: bench/.
#include "bench/options.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <functional>
#include <map>

namespace epws::bench {
namespace {

// Upper bounds that keep every run finite and inside one machine.
constexpr double kMaxSeconds = 600;
constexpr uint32_t kMaxConnections = 1000000;
constexpr uint32_t kMaxSize = 16u << 20;

bool parse_number(const std::string& s, double lo, double hi, double& out) {
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return !s.empty() && end && *end == '\0' && out >= lo && out <= hi;
}

// "ws://127.0.0.1:8080/echo" -> host, port, path. Only loopback IPv4 (the rule: load only
// goes to 127.0.0.0/8); "localhost" means 127.0.0.1.
bool parse_url(const std::string& url, Options& o, std::string& err) {
    o.tls = url.rfind("wss://", 0) == 0;
    if (!o.tls && url.rfind("ws://", 0) != 0)
        return err = "--url must start with ws:// or wss://", false;
    std::string rest = url.substr(o.tls ? 6 : 5);
    size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    if (slash != std::string::npos) o.path = rest.substr(slash);
    size_t colon = authority.rfind(':');
    o.host = authority.substr(0, colon);
    if (o.host == "localhost") o.host = "127.0.0.1";
    in_addr a{};
    if (inet_pton(AF_INET, o.host.c_str(), &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)
        return err = "--url: host '" + o.host + "' is not a loopback IPv4 address (127.0.0.0/8)", false;
    double port = o.tls ? 443 : 80;
    if (colon != std::string::npos && !parse_number(authority.substr(colon + 1), 1, 65535, port))
        return err = "--url: bad port in '" + authority + "'", false;
    o.port = static_cast<uint16_t>(port);
    return true;
}

using Setter = std::function<bool(Options&, const std::string&, std::string&)>;

template <class T>
Setter number(T Options::*field, double lo, double hi, const char* name) {
    return [=](Options& o, const std::string& v, std::string& err) {
        double d = 0;
        if (!parse_number(v, lo, hi, d))
            return err = std::string(name) + ": '" + v + "' is not a number in [" +
                         std::to_string(lo) + ", " + std::to_string(hi) + "]",
                   false;
        o.*field = static_cast<T>(d);
        return true;
    };
}

bool parse_cpu(Options& o, const std::string& v, std::string& err) {
    size_t comma = v.find(',');
    double c = 0, s = -1;
    if (!parse_number(v.substr(0, comma), 0, 1023, c) ||
        (comma != std::string::npos && !parse_number(v.substr(comma + 1), 0, 1023, s)))
        return err = "--cpu: expected CLIENT[,SERVER] core numbers, got '" + v + "'", false;
    o.client_cpu = static_cast<int>(c);
    o.server_cpu = static_cast<int>(s);
    return true;
}

bool parse_payload(Options& o, const std::string& v, std::string& err) {
    if (v == "compressible") o.payload = PayloadKind::kCompressible;
    else if (v == "random") o.payload = PayloadKind::kRandom;
    else return err = "--payload: expected compressible or random, got '" + v + "'", false;
    return true;
}

bool parse_dialect(Options& o, const std::string& v, std::string& err) {
    if (v == "epws") o.dialect = ChatDialect::kEpws;
    else if (v == "socketio") o.dialect = ChatDialect::kSocketIo;
    else return err = "--dialect: expected epws or socketio, got '" + v + "'", false;
    return true;
}

bool parse_syscalls(Options& o, const std::string& v, std::string& err) {
    if (v == "auto") o.syscalls = SyscallChoice::kAuto;
    else if (v == "perf") o.syscalls = SyscallChoice::kPerf;
    else if (v == "strace") o.syscalls = SyscallChoice::kStrace;
    else if (v == "off") o.syscalls = SyscallChoice::kOff;
    else return err = "--syscalls: expected auto, perf, strace or off, got '" + v + "'", false;
    return true;
}

const std::map<std::string, Setter>& setters() {
    static const std::map<std::string, Setter> table = {
        {"--url", [](Options& o, const std::string& v, std::string& e) { return parse_url(v, o, e); }},
        {"--server-pid", number(&Options::server_pid, 1, 4194304, "--server-pid")},
        {"--label", [](Options& o, const std::string& v, std::string&) { return o.label = v, true; }},
        {"-c", number(&Options::connections, 1, kMaxConnections, "-c")},
        {"-s", number(&Options::size, 0, kMaxSize, "-s")},
        {"-d", number(&Options::depth, 1, 4096, "-d")},
        {"-t", number(&Options::duration_s, 0.1, kMaxSeconds, "-t")},
        {"-w", number(&Options::warmup_s, 0, 60, "-w")},
        {"-n", number(&Options::messages, 1, 1e12, "-n")},
        {"-p", number(&Options::publishers, 1, 1000, "-p")},
        {"--rate", number(&Options::rate, 0, 1e8, "--rate")},
        {"--sources", number(&Options::sources, 0, 254, "--sources")},
        {"--hold", number(&Options::hold_s, 0, 600, "--hold")},
        {"--rooms", number(&Options::rooms, 1, 1000, "--rooms")},
        {"--speakers", number(&Options::speakers, 0, kMaxConnections, "--speakers")},
        {"--ports", [](Options& o, const std::string& v, std::string& e) {
             // Other nodes on the --url host: a comma-separated list of ports.
             o.ports.clear();
             size_t at = 0;
             while (at <= v.size()) {
                 size_t comma = v.find(',', at);
                 std::string one = v.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
                 char* end = nullptr;
                 unsigned long p = std::strtoul(one.c_str(), &end, 10);
                 if (one.empty() || *end != '\0' || p == 0 || p > 65535)
                     return e = "--ports: expected ports like 9001,9002, got '" + v + "'", false;
                 o.ports.push_back(static_cast<uint16_t>(p));
                 if (comma == std::string::npos) break;
                 at = comma + 1;
             }
             return true;
         }},
        {"--payload", parse_payload},
        {"--syscalls", parse_syscalls},
        {"--dialect", parse_dialect},
        {"--cpu", parse_cpu},
        {"--ca", [](Options& o, const std::string& v, std::string&) { return o.ca_file = v, true; }},
        {"--tls-name", [](Options& o, const std::string& v, std::string&) { return o.tls_name = v, true; }},
        {"--json", [](Options& o, const std::string& v, std::string&) { return o.json_path = v, true; }},
    };
    return table;
}

bool parse_scenario(const std::string& s, Options& o, std::string& err) {
    if (s == "echo") o.scenario = Scenario::kEcho;
    else if (s == "broadcast") o.scenario = Scenario::kBroadcast;
    else if (s == "connect") o.scenario = Scenario::kConnect;
    else if (s == "idle") o.scenario = Scenario::kIdle;
    else if (s == "chat") o.scenario = Scenario::kChat;
    else return err = "unknown scenario '" + s + "' (echo, broadcast, connect, idle, chat)", false;
    return true;
}

}  // namespace

const char* scenario_name(Scenario s) {
    switch (s) {
    case Scenario::kEcho: return "echo";
    case Scenario::kBroadcast: return "broadcast";
    case Scenario::kConnect: return "connect";
    case Scenario::kIdle: return "idle";
    case Scenario::kChat: return "chat";
    }
    return "?";
}

bool parse_options(const std::vector<std::string>& args, Options& o, std::string& err) {
    if (args.empty()) return err = "no scenario given; see --help", false;
    if (!parse_scenario(args[0], o, err)) return false;
    bool size_given = false;
    for (size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--binary") o.binary = true;
        else if (a == "--quiet") o.quiet = true;
        else if (a == "--insecure") o.insecure = true;
        else if (a == "--deflate") o.deflate = true;
        else if (a == "--deflate-no-context") o.deflate = o.deflate_no_context = true;
        else if (auto it = setters().find(a); it != setters().end()) {
            if (i + 1 >= args.size()) return err = a + " needs a value", false;
            if (a == "-s") size_given = true;
            if (!it->second(o, args[++i], err)) return false;
        } else return err = "unknown flag '" + a + "'; see --help", false;
    }
    if (o.path.empty())
        o.path = o.scenario == Scenario::kBroadcast ? "/broadcast"
                 : o.scenario == Scenario::kChat    ? "/chat"
                                                    : "/echo";
    if (o.scenario == Scenario::kBroadcast && o.size < 40)
        return err = "broadcast: -s must be at least 40 (the timestamp and sequence header)", false;
    if (o.scenario == Scenario::kChat) {
        if (!size_given) o.size = 64;
        if (o.size < 40 || o.size > 4096)
            return err = "chat: -s must be 40..4096 (a stamp, and the protocol's text limit)", false;
        if (o.rate == 0) o.rate = 1;
        if (o.binary) return err = "chat: --binary makes no sense, the protocol is text", false;
        if (o.path.find('?') != std::string::npos)
            return err = "chat: give the path without a query; ?username= is added per user", false;
    }
    if (!o.tls && (o.insecure || !o.ca_file.empty() || !o.tls_name.empty()))
        return err = "--insecure, --ca and --tls-name need a wss:// --url", false;
    if (o.deflate && o.scenario != Scenario::kEcho)
        return err = "--deflate is measured by the echo scenario only", false;
    return true;
}

std::string usage() {
    return R"(usage: epws-bench SCENARIO [flags]
Scenarios:
  echo       C connections send S-byte messages, D in flight each, for T seconds (or N echoes);
             every echo is compared with what was sent.
  broadcast  C subscribers and P publishers on one broadcast path; deliveries/s and end-to-end
             latency percentiles; every delivery is counted per publisher, in order.
  connect    C concurrent clients connect, upgrade, close, again: handshakes/s.
  idle       open C connections, hold them, report the server's resident bytes per connection.
  chat       C users on /chat spread over R rooms (each joins its room, leaves lobby), each saying
             an S-byte text R per second; end-to-end latency, deliveries/s, and every member must
             get every seq of its room exactly once, in order.
Flags:
  --url ws://127.0.0.1:PORT/PATH   target (loopback only; default ws://127.0.0.1:8080/echo);
                     wss:// speaks TLS, verifying the server's certificate and name
  --ca FILE          wss://: trusted CA certificates (PEM; default: the system's store)
  --tls-name NAME    wss://: SNI and the name the certificate must carry (default: the host)
  --insecure         wss://: accept any certificate (benchmarks only)
  --server-pid PID   the server process: its CPU time and RSS are reported (strongly advised)
  --label NAME       the server's name in reports (default epws)
  -c C  connections (100)      -s S  payload bytes (20)       -d D  in flight per connection (16)
  -t T  measured seconds (5)   -w W  warm-up seconds (1)      -n N  end after N echoes
  -p P  publishers (1)         --rate R  broadcast messages/s (0: as fast as possible);
                               chat: messages/s per user (default 1)
  --rooms R          chat: rooms (10)
  --dialect D        chat: epws (default) or socketio (Engine.IO 4 over a WebSocket at
                     /socket.io/?EIO=4&transport=websocket; join, say, message and presence
                     events as bench/peers/socketio/server.js serves them, with a seq per room)
  --speakers N       chat: only users 0..N-1 say (at --rate each); the others listen (0: all)
  --ports P,P,...    chat: the nodes of a cluster on the --url host (epws --redis): with
                     --speakers, the speakers on the first and the listeners over the others;
                     else every user round-robin
  --binary           binary frames (default text)
  --sources K        spread connections over source addresses 127.0.0.1..K
  --hold H           idle: seconds to hold before measuring (2)
  --cpu C[,S]        pin this process to core C and the server's threads to core S
  --json FILE        append one JSON line per run to FILE ("-": stdout)
  --quiet            no progress line
  --deflate          echo: offer permessage-deflate (client_max_window_bits); the run fails if
                     the server declines
  --deflate-no-context  --deflate, also offering server_ and client_no_context_takeover
  --payload KIND     echo payload: compressible (chat-like words, default) or random
  --syscalls HOW     the server's system calls per operation: auto (default: perf if
                     `perf stat -e raw_syscalls:sys_enter` works, else strace), perf (counted
                     in the measured window), strace (a separate 1.5 s window after it: strace
                     slows the server many times, so only its calls per operation are kept), off
Exit status: 0 ok, 1 bad usage or set-up, 2 the run failed a correctness check (lost, corrupted
or unexpected messages, dropped connections): then no figures are printed.
)";
}

}  // namespace epws::bench
