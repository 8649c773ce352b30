// bench/idle_scenario.cc: opens C connections (at most kOpening handshakes at a time, spread over
// --sources addresses), holds them, and reports the server's resident bytes per connection.
// Layer: bench/. Run it against a fresh server: RSS never shrinks after earlier, busier runs.
#include <vector>

#include "bench/harness.h"
#include "bench/scenarios.h"

namespace epws::bench {
namespace {

// Handshakes in progress at once: enough to open 20k connections in about a second, few
// enough not to overflow the server's accept backlog.
constexpr uint32_t kOpening = 256;

class IdleRun final : public ws::ClientHandler {
public:
    explicit IdleRun(const Options& o) : o_(o), h_(o) {}
    Report run();

    void on_open(ws::ClientConnection&) override { ++open_; }
    void on_message(ws::ClientConnection& c, ws::Opcode, std::span<std::byte>) override {
        h_.fail("idle connection " + std::to_string(c.tag()) + " got a message");
    }
    void on_closed(ws::ClientConnection& c, uint16_t code, ws::ClientFailure f) override {
        ++closed_;
        if (!h_.stopping())
            h_.fail("idle connection " + std::to_string(c.tag()) + " closed (code " + std::to_string(code) +
                    ", " + std::string(ws::failure_name(f)) + ") after " + std::to_string(open_) + " opened");
    }

private:
    // Keeps kOpening handshakes going until every connection has been started.
    void open_more() {
        std::string err;
        while (started_ < o_.connections && started_ - open_ - closed_ < kOpening && !h_.failed()) {
            if (h_.connect(*this, started_, err) == nullptr) return h_.fail("connect: " + err);
            ++started_;
        }
    }

    const Options& o_;
    Report report_;
    uint32_t started_ = 0;
    uint32_t open_ = 0;
    uint32_t closed_ = 0;
    Harness h_;  // last: destroyed first
};

Report IdleRun::run() {
    report_.options = o_;
    std::string err;
    if (!h_.init(err)) h_.fail(err);
    h_.set_progress([this] { return std::to_string(open_) + " of " + std::to_string(o_.connections) + " open"; });
    if (!h_.failed()) {
        h_.begin_window(report_);  // the "before" sample: no connection of ours yet
        open_more();
        if (!h_.run_until([this] { return open_ == o_.connections; }, now_ns() + seconds_ns(kConnectSeconds * 4),
                          [this] { open_more(); }))
            h_.fail("only " + std::to_string(open_) + " of " + std::to_string(o_.connections) +
                    " connections opened (descriptor limit? try --sources)");
        h_.run_until([] { return false; }, now_ns() + seconds_ns(o_.hold_s));
        h_.end_window(report_);
        report_.operations = open_;
    }
    h_.close_all();
    report_.ok = !h_.failed();
    report_.error = h_.failure();
    return report_;
}

}  // namespace

Report run_idle(const Options& options) {
    auto run = std::make_unique<IdleRun>(options);
    return run->run();
}

}  // namespace epws::bench
