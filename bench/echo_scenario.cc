// bench/echo_scenario.cc: C connections, D messages in flight each, every echo checked byte for
// byte and timed. Layer: bench/. The hot path (on_message) allocates nothing: the payload
// buffers and send-time rings are sized once before the first message.
#include <cstring>
#include <vector>

#include "bench/harness.h"
#include "bench/payload.h"
#include "bench/scenarios.h"

namespace epws::bench {
namespace {

class EchoRun final : public ws::ClientHandler {
public:
    explicit EchoRun(const Options& o)
        : o_(o), conns_(o.connections), sent_ns_(size_t(o.connections) * o.depth),
          out_(o.size), expect_(o.size), h_(o) {
        op_ = o.binary ? ws::Opcode::kBinary : ws::Opcode::kText;
    }
    Report run();

    void on_open(ws::ClientConnection& c) override {
        ++open_;
        if (o_.deflate && !c.deflate_params().enabled)
            return h_.fail("--deflate: the server declined permessage-deflate");
        for (uint32_t i = 0; i < o_.depth; ++i) send_next(c, conns_[c.tag()], now_ns());
    }
    void on_message(ws::ClientConnection& c, ws::Opcode op, std::span<std::byte> p) override;
    void on_closed(ws::ClientConnection& c, uint16_t code, ws::ClientFailure f) override {
        conns_[c.tag()].conn = nullptr;
        h_.closed(c, code, f);
    }

private:
    struct Conn {
        ws::ClientConnection* conn = nullptr;
        uint64_t sent = 0;      // next sequence number to send
        uint64_t received = 0;  // next sequence number expected back
    };
    void send_next(ws::ClientConnection& c, Conn& s, uint64_t now);
    double wire_ratio() const;
    Report finish();

    const Options& o_;
    std::vector<Conn> conns_;
    std::vector<uint64_t> sent_ns_;  // ring of depth send times per connection
    std::vector<std::byte> out_;     // the payload being sent
    std::vector<std::byte> expect_;  // the payload an echo must equal
    Report report_;
    ws::Opcode op_;
    uint64_t in_flight_ = 0;
    uint64_t measured_ = 0;
    uint32_t open_ = 0;
    bool sending_ = true;
    Harness h_;  // last: destroyed first, so closes at teardown find the tables above intact
};

void EchoRun::send_next(ws::ClientConnection& c, Conn& s, uint64_t now) {
    if (!sending_) return;
    fill_echo_payload(out_.data(), out_.size(), c.tag(), s.sent, o_.payload, o_.binary);
    sent_ns_[size_t(c.tag()) * o_.depth + s.sent % o_.depth] = now;
    ++s.sent;
    ++in_flight_;
    c.send_message(op_, out_);
}

void EchoRun::on_message(ws::ClientConnection& c, ws::Opcode op, std::span<std::byte> p) {
    Conn& s = conns_[c.tag()];
    uint64_t now = now_ns();
    fill_echo_payload(expect_.data(), expect_.size(), c.tag(), s.received, o_.payload, o_.binary);
    if (op != op_ || p.size() != expect_.size() || s.received >= s.sent ||
        std::memcmp(p.data(), expect_.data(), p.size()) != 0) {
        h_.fail("echo " + std::to_string(s.received) + " on connection " + std::to_string(c.tag()) +
                " differs from what was sent (" + std::to_string(p.size()) + " bytes, expected " +
                std::to_string(expect_.size()) + "): lost, reordered or corrupted");
        return;
    }
    uint64_t sent_at = sent_ns_[size_t(c.tag()) * o_.depth + s.received % o_.depth];
    ++s.received;
    --in_flight_;
    if (h_.count_op()) {
        ++measured_;
        report_.latency.record(now - sent_at);
    }
    send_next(c, s, now);
}

Report EchoRun::run() {
    report_.options = o_;
    report_.has_latency = true;
    std::string err;
    if (!h_.init(err)) return h_.fail(err), finish();
    for (uint32_t i = 0; i < o_.connections && !h_.failed(); ++i) {
        conns_[i].conn = h_.connect(*this, i, err);
        if (!conns_[i].conn) h_.fail("connect: " + err);
    }
    if (h_.failed()) return finish();
    h_.set_progress([this] {
        return std::to_string(open_) + " open, " + std::to_string(measured_) + " echoes measured";
    });
    uint64_t t = now_ns();
    if (!h_.run_until([&] { return open_ == o_.connections; }, t + seconds_ns(kConnectSeconds)))
        h_.fail("only " + std::to_string(open_) + " of " + std::to_string(o_.connections) + " connections opened");
    t = now_ns();
    h_.run_until([] { return false; }, t + seconds_ns(o_.warmup_s));
    h_.begin_window(report_);
    t = now_ns();
    uint64_t cap = o_.messages;
    h_.run_until([&] { return cap != 0 && measured_ >= cap; }, t + seconds_ns(o_.duration_s));
    h_.end_window(report_);
    h_.extra_window(report_);
    report_.operations = measured_;
    report_.wire_ratio = wire_ratio();
    sending_ = false;
    if (!h_.run_until([&] { return in_flight_ == 0; }, now_ns() + seconds_ns(kDrainSeconds)))
        h_.fail(std::to_string(in_flight_) + " echoes never came back (lost)");
    return finish();
}

// Compressed payload bytes sent over the bytes they stood for, over every connection so far.
double EchoRun::wire_ratio() const {
    uint64_t wire = 0, plain = 0;
    for (const Conn& s : conns_) {
        if (s.conn == nullptr) continue;
        wire += s.conn->payload_bytes_sent();
        plain += s.sent * o_.size;
    }
    return plain ? double(wire) / double(plain) : 0;
}

Report EchoRun::finish() { return h_.finish(report_); }

}  // namespace

Report run_echo(const Options& options) {
    auto run = std::make_unique<EchoRun>(options);
    return run->run();
}

}  // namespace epws::bench
