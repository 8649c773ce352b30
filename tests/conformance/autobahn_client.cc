// tests/conformance/autobahn_client.cc: the client under test for the Autobahn fuzzing server
// (`wstest -m fuzzingserver`), built on ws/client_connection. Layer: tests/.
// It plays the suite's protocol: /getCaseCount (one text message, the count), then
// /runCase?case=N&agent=A for N = 1..count (every message echoed back as it came, text as text,
// binary as binary, until the server closes), then /updateReports?agent=A. The suite judges
// each case; this program only says whether it could play them all (exit status 0) or not.
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "net/loop.h"
#include "net/socket.h"
#include "ws/client_connection.h"

using namespace epws;

namespace {

struct Args {
    std::string host = "127.0.0.1";
    uint16_t port = 9001;
    std::string agent = "epws";
    bool deflate = false;
    uint32_t case_timeout_ms = 120000;  // section 9 moves 16 MiB messages; 12/13 move thousands
};

const char kUsage[] =
    "usage: autobahn_client --port N [--host ADDR] [--agent NAME] [--deflate] [--case-timeout-ms N]\n"
    "  Runs every case of the Autobahn fuzzing server at ws://ADDR:N as agent NAME, then asks\n"
    "  it to write its reports. --deflate offers permessage-deflate.\n";

bool parse_number(const char* s, unsigned long max, unsigned long& out) {
    char* end = nullptr;
    errno = 0;
    out = std::strtoul(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' && out <= max;
}

bool parse_args(int argc, char** argv, Args& a) {
    for (int i = 1; i < argc; ++i) {
        std::string_view f = argv[i];
        bool has_value = i + 1 < argc;
        unsigned long n = 0;
        if (f == "--deflate") {
            a.deflate = true;
        } else if (f == "--host" && has_value) {
            a.host = argv[++i];
        } else if (f == "--agent" && has_value) {
            a.agent = argv[++i];
        } else if (f == "--port" && has_value && parse_number(argv[++i], 65535, n) && n > 0) {
            a.port = static_cast<uint16_t>(n);
        } else if (f == "--case-timeout-ms" && has_value && parse_number(argv[++i], 3600000, n)) {
            a.case_timeout_ms = static_cast<uint32_t>(n);
        } else {
            return false;
        }
    }
    // The agent travels in a query string unescaped: keep it to characters that need none.
    for (char c : a.agent)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
            return false;
    return !a.agent.empty();
}

// One step of the suite's protocol per connection; on_closed moves to the next.
class Driver final : public ws::ClientHandler {
public:
    Driver(net::Loop& loop, const Args& args) : loop_(loop), args_(args) {
        config_.host = args.host + ":" + std::to_string(args.port);
        // Section 9 sends messages of 16 MiB; leave room above it, as an echo server would.
        config_.reader.max_message_bytes = 64u << 20;
        config_.max_inflated_bytes = 64u << 20;
        config_.deflate.offer = args.deflate;
        config_.close_timeout_ms = 10000;
    }

    bool start() { return connect("/getCaseCount"); }
    bool done() const { return done_; }
    // Ends a connection that outlived its step's deadline (a case the server never closes, a
    // server that never answers): 1001 for a case, as a client giving up would send.
    void check_deadline() {
        if (current_ == nullptr || std::chrono::steady_clock::now() < deadline_) return;
        std::fprintf(stderr, "autobahn_client: %s took over %u ms; giving up on it\n",
                     config_.path.c_str(), args_.case_timeout_ms);
        current_->close_websocket(1001);
        deadline_ = std::chrono::steady_clock::time_point::max();
    }
    bool ok() const { return ok_; }

    void on_message(ws::ClientConnection& c, ws::Opcode op, std::span<std::byte> payload) override {
        if (step_ == Step::kCount) {
            std::string text(reinterpret_cast<const char*>(payload.data()), payload.size());
            unsigned long n = 0;
            if (!parse_number(text.c_str(), 100000, n)) {
                std::fprintf(stderr, "autobahn_client: /getCaseCount sent '%.40s', not a count\n",
                             text.c_str());
                finish(false);
                return;
            }
            count_ = static_cast<uint32_t>(n);
            std::printf("autobahn_client: %u cases for agent %s\n", count_, args_.agent.c_str());
            return;
        }
        // The echo: the same opcode, the same payload (compressed again if agreed).
        if (step_ == Step::kCase) c.send_message(op, payload);
    }

    void on_closed(ws::ClientConnection&, uint16_t code, ws::ClientFailure failure) override {
        current_ = nullptr;
        switch (step_) {
        case Step::kCount:
            if (count_ == 0) {
                std::fprintf(stderr, "autobahn_client: /getCaseCount gave no count (close %u, %s)\n",
                             code, std::string(ws::failure_name(failure)).c_str());
                finish(false);
                return;
            }
            step_ = Step::kCase;
            next_case();
            return;
        case Step::kCase:
            // Failures here are the cases' business: the suite records what it saw.
            next_case();
            return;
        case Step::kUpdate:
            finish(true);
            return;
        case Step::kDone:
            return;
        }
    }

private:
    enum class Step : uint8_t { kCount, kCase, kUpdate, kDone };

    void next_case() {
        if (case_ == count_) {
            step_ = Step::kUpdate;
            if (!connect("/updateReports?agent=" + args_.agent)) finish(false);
            return;
        }
        ++case_;
        std::string path = "/runCase?case=" + std::to_string(case_) + "&agent=" + args_.agent;
        if (!connect(path)) finish(false);
    }

    bool connect(const std::string& path) {
        // The previous connection is gone (this runs from its on_closed, its last event), so
        // no live connection reads config_ while it changes.
        config_.path = path;
        std::string err;
        int fd = net::connect_tcp(args_.host, args_.port, "", err);
        if (fd < 0) {
            std::fprintf(stderr, "autobahn_client: %s: %s\n", path.c_str(), err.c_str());
            return false;
        }
        auto conn = std::make_unique<ws::ClientConnection>(loop_, fd, config_, *this);
        ws::ClientConnection* raw = conn.get();
        if (!loop_.adopt(std::move(conn)) || !raw->start()) {
            std::fprintf(stderr, "autobahn_client: %s: could not start the connection\n",
                         path.c_str());
            return false;
        }
        current_ = raw;  // valid until its on_closed
        deadline_ = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(args_.case_timeout_ms);
        return true;
    }

    void finish(bool ok) {
        step_ = Step::kDone;
        done_ = true;
        ok_ = ok;
    }

    net::Loop& loop_;
    const Args& args_;
    ws::ClientConfig config_;
    ws::ClientConnection* current_ = nullptr;
    std::chrono::steady_clock::time_point deadline_;
    Step step_ = Step::kCount;
    uint32_t count_ = 0;
    uint32_t case_ = 0;
    bool done_ = false;
    bool ok_ = false;
};

}  // namespace

int main(int argc, char** argv) {
    Args args;
    if (!parse_args(argc, argv, args)) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    std::string err;
    auto loop = net::Loop::create(err);
    if (!loop) {
        std::fprintf(stderr, "autobahn_client: %s\n", err.c_str());
        return 1;
    }
    Driver driver(*loop, args);
    if (!driver.start()) return 1;
    // Every step is bounded: by the connection's own timeouts (handshake, close) and by the
    // step deadline checked here, so this ends.
    while (!driver.done()) {
        driver.check_deadline();
        if (!loop->run_once(1000)) {
            std::fprintf(stderr, "autobahn_client: epoll_wait failed\n");
            return 1;
        }
    }
    if (driver.ok()) std::printf("autobahn_client: agent %s done, reports updated\n", args.agent.c_str());
    return driver.ok() ? 0 : 1;
}
