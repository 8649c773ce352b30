// bench/connect_scenario.cc: C concurrent clients each connect, upgrade, close (the full close
// handshake) and start again: handshakes per second. Layer: bench/. A new connection is started
// from the driver after each event batch, not from inside the loop's close callback.
#include <vector>

#include "bench/harness.h"
#include "bench/scenarios.h"

namespace epws::bench {
namespace {

class ConnectRun final : public ws::ClientHandler {
public:
    explicit ConnectRun(const Options& o) : o_(o), h_(o) { restart_.reserve(o.connections); }
    Report run();

    void on_open(ws::ClientConnection& c) override { c.close_websocket(1000); }
    void on_message(ws::ClientConnection& c, ws::Opcode, std::span<std::byte>) override {
        h_.fail("connection " + std::to_string(c.tag()) + " got a message it did not ask for");
    }
    void on_closed(ws::ClientConnection& c, uint16_t code, ws::ClientFailure f) override {
        --live_;
        if (h_.stopping()) return;
        if (f != ws::ClientFailure::kNone || code != 1000)
            return h_.fail("a handshake or close failed (code " + std::to_string(code) + ", " +
                           std::string(ws::failure_name(f)) + ")");
        ++completed_;
        if (h_.count_op()) ++measured_;
        if (starting_) restart_.push_back(c.tag());
    }

private:
    void start(uint32_t slot) {
        std::string err;
        if (h_.connect(*this, slot, err) == nullptr) return h_.fail("connect: " + err);
        ++live_;
    }
    void restart_closed() {
        for (uint32_t slot : restart_) start(slot);
        restart_.clear();
    }

    const Options& o_;
    std::vector<uint32_t> restart_;  // slots whose connection ended in the last batch
    Report report_;
    uint64_t completed_ = 0;
    uint64_t measured_ = 0;
    uint32_t live_ = 0;
    bool starting_ = true;
    Harness h_;  // last: destroyed first
};

Report ConnectRun::run() {
    report_.options = o_;
    std::string err;
    if (h_.init(err)) {
        h_.set_progress([this] {
            return std::to_string(completed_) + " handshakes, " + std::to_string(measured_) + " measured";
        });
        for (uint32_t i = 0; i < o_.connections && !h_.failed(); ++i) start(i);
        auto tick = [this] { restart_closed(); };
        auto never = [] { return false; };
        h_.run_until(never, now_ns() + seconds_ns(o_.warmup_s), tick);
        h_.begin_window(report_);
        h_.run_until(never, now_ns() + seconds_ns(o_.duration_s), tick);
        h_.end_window(report_);
        h_.extra_window(report_, tick);
        report_.operations = measured_;
        starting_ = false;
        restart_.clear();
        if (!h_.run_until([this] { return live_ == 0; }, now_ns() + seconds_ns(kDrainSeconds)))
            h_.fail(std::to_string(live_) + " connections never finished their close handshake");
    } else {
        h_.fail(err);
    }
    h_.close_all();
    report_.ok = !h_.failed();
    report_.error = h_.failure();
    return report_;
}

}  // namespace

Report run_connect(const Options& options) {
    auto run = std::make_unique<ConnectRun>(options);
    return run->run();
}

}  // namespace epws::bench
