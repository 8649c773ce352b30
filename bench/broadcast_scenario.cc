// bench/broadcast_scenario.cc: C subscribers and P publishers on one broadcast path. Every
// delivery is checked (stamp, filler, per-publisher order) and timed from its send stamp.
// Layer: bench/. Publishers keep D messages in flight (their own copy coming back frees a slot)
// or, with --rate, send on a fixed schedule stamped with the intended time (no coordinated
// omission: a late send shows up as latency).
#include <vector>

#include "bench/harness.h"
#include "bench/payload.h"
#include "bench/scenarios.h"

namespace epws::bench {
namespace {

class BroadcastRun final : public ws::ClientHandler {
public:
    explicit BroadcastRun(const Options& o)
        : o_(o), total_(o.connections + o.publishers), conns_(total_),
          expect_(size_t(total_) * o.publishers), pubs_(o.publishers), out_(o.size), h_(o) {
        op_ = o.binary ? ws::Opcode::kBinary : ws::Opcode::kText;
    }
    Report run();

    void on_open(ws::ClientConnection&) override { ++open_; }
    void on_message(ws::ClientConnection& c, ws::Opcode op, std::span<std::byte> p) override;
    void on_closed(ws::ClientConnection& c, uint16_t code, ws::ClientFailure f) override {
        conns_[c.tag()].conn = nullptr;
        h_.closed(c, code, f);
    }

private:
    struct Conn {
        ws::ClientConnection* conn = nullptr;
        uint64_t received = 0;
    };
    struct Publisher {
        uint64_t sent = 0;
        uint64_t in_flight = 0;  // own messages not yet seen coming back
    };
    void publish(uint32_t pub, uint64_t stamp_ns);
    void publish_due();
    bool all_delivered() const;
    Report finish();

    const Options& o_;
    uint32_t total_;                 // subscribers then publishers: tags 0..C-1, C..C+P-1
    std::vector<Conn> conns_;
    std::vector<uint64_t> expect_;   // [conn * P + publisher]: next sequence number expected
    std::vector<Publisher> pubs_;
    std::vector<std::byte> out_;
    Report report_;
    ws::Opcode op_;
    uint64_t published_ = 0;
    uint64_t window_published_ = 0;
    uint64_t delivered_ = 0;         // in the window
    uint64_t schedule_start_ = 0;    // --rate: when message 0 was due
    uint32_t open_ = 0;
    bool sending_ = false;
    Harness h_;  // last: destroyed first, so closes at teardown find the tables above intact
};

void BroadcastRun::publish(uint32_t pub, uint64_t stamp_ns) {
    Publisher& p = pubs_[pub];
    write_stamp(out_.data(), out_.size(), Stamp{pub, p.sent, stamp_ns});
    ++p.sent;
    ++p.in_flight;
    ++published_;
    if (h_.in_window()) ++window_published_;
    ws::ClientConnection* c = conns_[o_.connections + pub].conn;
    if (c) c->send_message(op_, out_);
}

void BroadcastRun::on_message(ws::ClientConnection& c, ws::Opcode op, std::span<std::byte> p) {
    uint32_t tag = c.tag();
    Stamp s;
    uint64_t now = now_ns();
    if (op != op_ || p.size() != o_.size || !read_stamp(p, s) || s.publisher >= o_.publishers)
        return h_.fail("connection " + std::to_string(tag) + " got a corrupted broadcast");
    uint64_t& next = expect_[size_t(tag) * o_.publishers + s.publisher];
    if (s.seq != next)
        return h_.fail("connection " + std::to_string(tag) + " expected message " + std::to_string(next) +
                       " of publisher " + std::to_string(s.publisher) + ", got " + std::to_string(s.seq) +
                       ": lost or reordered");
    ++next;
    ++conns_[tag].received;
    if (h_.count_op()) {
        ++delivered_;
        report_.latency.record(now > s.sent_ns ? now - s.sent_ns : 0);
    }
    if (tag == o_.connections + s.publisher) {  // a publisher's own message is back
        --pubs_[s.publisher].in_flight;
        if (sending_ && o_.rate == 0) publish(s.publisher, now);
    }
}

// --rate: sends every message whose scheduled time has come, round-robin over publishers.
void BroadcastRun::publish_due() {
    if (!sending_ || o_.rate == 0) return;
    uint64_t now = now_ns();
    // Message n is due at start + n / rate: n + 1 of them are due once that time has come.
    auto due = static_cast<uint64_t>(double(now - schedule_start_) * o_.rate / 1e9) + 1;
    while (published_ < due) {
        uint64_t at = schedule_start_ + static_cast<uint64_t>(double(published_) * 1e9 / o_.rate);
        publish(static_cast<uint32_t>(published_ % o_.publishers), at);
    }
}

bool BroadcastRun::all_delivered() const {
    for (const Conn& c : conns_)
        if (c.received != published_) return false;
    return true;
}

Report BroadcastRun::run() {
    report_.options = o_;
    report_.has_latency = true;
    std::string err;
    if (!h_.init(err)) return h_.fail(err), finish();
    for (uint32_t i = 0; i < total_ && !h_.failed(); ++i) {
        conns_[i].conn = h_.connect(*this, i, err);
        if (!conns_[i].conn) h_.fail("connect: " + err);
    }
    if (h_.failed()) return finish();
    h_.set_progress([this] {
        return std::to_string(open_) + " open, " + std::to_string(published_) + " published, " +
               std::to_string(delivered_) + " deliveries measured";
    });
    if (!h_.run_until([&] { return open_ == total_; }, now_ns() + seconds_ns(kConnectSeconds)))
        h_.fail("only " + std::to_string(open_) + " of " + std::to_string(total_) + " connections opened");
    sending_ = true;
    schedule_start_ = now_ns();
    for (uint32_t p = 0; p < o_.publishers && o_.rate == 0; ++p)
        for (uint32_t i = 0; i < o_.depth; ++i) publish(p, now_ns());
    auto tick = [this] { publish_due(); };
    int wait_ms = o_.rate > 0 ? 1 : 10;
    h_.run_until([] { return false; }, now_ns() + seconds_ns(o_.warmup_s), tick, wait_ms);
    h_.begin_window(report_);
    h_.run_until([] { return false; }, now_ns() + seconds_ns(o_.duration_s), tick, wait_ms);
    h_.end_window(report_);
    h_.extra_window(report_, tick, wait_ms);
    report_.operations = delivered_;
    report_.published = window_published_;
    sending_ = false;
    if (!h_.run_until([&] { return all_delivered(); }, now_ns() + seconds_ns(kDrainSeconds)))
        h_.fail("not every subscriber got all " + std::to_string(published_) + " messages (lost)");
    return finish();
}

Report BroadcastRun::finish() { return h_.finish(report_); }

}  // namespace

Report run_broadcast(const Options& options) {
    auto run = std::make_unique<BroadcastRun>(options);
    return run->run();
}

}  // namespace epws::bench
