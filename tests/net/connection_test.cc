// tests/net/connection_test.cc: a Connection on a real socket pair driven by a real Loop.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <set>
#include <string>

#include "net/connection.h"
#include "net/loop.h"

using namespace epws::net;

namespace {

// Counts writev calls, to see that replies are coalesced; with `handshake_steps`, it plays a
// transport whose handshake needs that many events before bytes flow (as TLS does), and with
// `fail_handshake` one that fails. Owned by the test (destroy() keeps it).
class CountingTransport final : public Transport {
public:
    HandshakeStatus handshake(int) override {
        if (fail_handshake) return HandshakeStatus::kFailed;
        if (handshake_steps == 0) return HandshakeStatus::kDone;
        --handshake_steps;
        return HandshakeStatus::kWantRead;
    }
    IoResult read(int fd, void* buf, size_t len) override { return plain().read(fd, buf, len); }
    IoResult writev(int fd, const iovec* iov, int n) override {
        ++writes;
        return plain().writev(fd, iov, n);
    }
    void shutdown(int) override { ++shutdowns; }
    void destroy() override {}
    static Transport& plain() {
        static PlainTransport p;
        return p;
    }
    int writes = 0;
    int shutdowns = 0;
    int handshake_steps = 0;
    bool fail_handshake = false;
};

class Probe final : public Connection {
public:
    Probe(Loop& l, int fd, Transport& t) : Connection(l, fd, TransportPtr(&t)) {}
    std::function<size_t(Probe&, std::span<std::byte>)> handler;
    std::string seen;  // everything on_data was offered, call by call, separated by '|'
    int drains = 0, timeouts = 0, eofs = 0;
    bool* closed_flag = nullptr;  // outlives the probe, which the loop deletes after closing

protected:
    size_t on_data(std::span<std::byte> d) override {
        seen.append(reinterpret_cast<const char*>(d.data()), d.size());
        seen += '|';
        return handler ? handler(*this, d) : d.size();
    }
    void on_drain() override { ++drains; }
    void on_timeout() override { ++timeouts; }
    void on_eof() override {
        ++eofs;
        close();
    }
    void on_close(CloseCause c) override {
        *closed_flag = true;
        if (cause_out) *cause_out = c;
    }

public:
    CloseCause* cause_out = nullptr;  // outlives the probe, like closed_flag
};

struct Fixture {
    // Before the loop: the loop deletes the probe, whose TransportPtr still calls destroy() on it.
    CountingTransport transport;
    std::unique_ptr<Loop> loop;
    int peer = -1;
    Probe* probe = nullptr;  // valid until closed is true
    bool closed = false;
    CloseCause cause = CloseCause::kLocal;

    // handshake_steps / fail_handshake: see CountingTransport.
    explicit Fixture(int handshake_steps = 0, bool fail_handshake = false) {
        transport.handshake_steps = handshake_steps;
        transport.fail_handshake = fail_handshake;
        std::string err;
        loop = Loop::create(err);
        REQUIRE(loop);
        int sv[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
        peer = sv[1];
        auto c = std::make_unique<Probe>(*loop, sv[0], transport);
        probe = c.get();
        probe->closed_flag = &closed;
        probe->cause_out = &cause;
        REQUIRE(loop->adopt(std::move(c)));
    }
    ~Fixture() { ::close(peer); }
    bool probe_seen_nothing() const { return closed; }  // the probe is gone: it never read

    void write_peer(const std::string& s) { REQUIRE(::write(peer, s.data(), s.size()) == ssize_t(s.size())); }
    std::string read_peer() {
        std::string out;
        char buf[65536];
        ssize_t n;
        while ((n = ::read(peer, buf, sizeof(buf))) > 0) out.append(buf, size_t(n));
        return out;
    }
    // Runs the loop until pred() holds or 3 seconds pass; returns pred().
    bool run_until(const std::function<bool()>& pred) {
        auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        while (!pred() && std::chrono::steady_clock::now() < end) loop->run_once(10);
        return pred();
    }
};

std::span<const std::byte> bytes(const std::string& s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace

TEST_SUITE("net/connection") {
    TEST_CASE("unconsumed bytes are offered again in front of the next bytes") {
        Fixture f;
        // Consume only whole 4-byte records.
        f.probe->handler = [](Probe&, std::span<std::byte> d) { return d.size() / 4 * 4; };
        f.write_peer("abcdef");
        REQUIRE(f.run_until([&] { return !f.probe->seen.empty(); }));
        f.write_peer("gh");
        REQUIRE(f.run_until([&] { return f.probe->seen == "abcdef|efgh|"; }));
    }

    TEST_CASE("replies sent while handling one readable event leave in one write") {
        Fixture f;
        f.probe->handler = [](Probe& p, std::span<std::byte> d) {
            for (int i = 0; i < 10; ++i) CHECK(p.send(bytes("r")) == SendStatus::kSent);
            return d.size();
        };
        f.write_peer("go");
        REQUIRE(f.run_until([&] { return !f.probe->seen.empty(); }));
        CHECK(f.transport.writes == 1);
        CHECK(f.read_peer() == "rrrrrrrrrr");
    }

    TEST_CASE("what the kernel refuses is queued, and sent in order once the peer reads") {
        Fixture f;
        std::string chunk(64 * 1024, 'x');
        std::string sent;
        SendStatus s = SendStatus::kSent;
        for (int i = 0; i < 1000 && s == SendStatus::kSent; ++i) {
            chunk[0] = char('a' + i % 26);
            s = f.probe->send(bytes(chunk));
            sent += chunk;
        }
        REQUIRE(s == SendStatus::kQueued);
        CHECK(f.probe->queued_bytes() > 0);
        std::string got;
        REQUIRE(f.run_until([&] {
            got += f.read_peer();
            return got.size() == sent.size();
        }));
        CHECK(got == sent);
        CHECK(f.probe->queued_bytes() == 0);
        CHECK(f.probe->drains >= 1);
    }

    TEST_CASE("sendv writes several pieces in order, and queues exactly what the kernel refused") {
        Fixture f;
        std::string a(1000, 'a'), b(70000, 'b'), c(333, 'c');
        std::string sent;
        SendStatus s = SendStatus::kSent;
        for (int i = 0; i < 100 && s == SendStatus::kSent; ++i) {
            b[0] = char('A' + i % 26);
            iovec iov[3] = {{a.data(), a.size()}, {b.data(), b.size()}, {c.data(), c.size()}};
            s = f.probe->sendv(iov, 3);
            sent += a + b + c;
        }
        REQUIRE(s == SendStatus::kQueued);
        std::string got;
        REQUIRE(f.run_until([&] {
            got += f.read_peer();
            return got.size() == sent.size();
        }));
        CHECK(got == sent);
    }

    TEST_CASE("a send over the output cap is refused, not buffered") {
        Fixture f;
        f.probe->set_output_limits(256 * 1024, 128 * 1024);
        std::string chunk(64 * 1024, 'x');
        SendStatus s = SendStatus::kSent;
        int n = 0;
        while (s != SendStatus::kDropped && n++ < 1000) s = f.probe->send(bytes(chunk));
        CHECK(s == SendStatus::kDropped);
        CHECK(f.probe->queued_bytes() <= 256 * 1024);
        // A close frame may still be forced out after the cap.
        CHECK(f.probe->send(bytes("close"), {}, true) == SendStatus::kQueued);
    }

    TEST_CASE("reading pauses while the output is over its mark and resumes after it drains") {
        Fixture f;
        f.probe->set_output_limits(64u << 20, 64 * 1024);
        std::string chunk(64 * 1024, 'x');
        while (f.probe->send(bytes(chunk)) == SendStatus::kSent) {
        }
        f.probe->send(bytes(chunk));  // now well over the pause mark
        f.write_peer("hello");
        for (int i = 0; i < 5; ++i) f.loop->run_once(10);
        CHECK(f.probe->seen.empty());  // paused: the bytes wait in the kernel
        REQUIRE(f.run_until([&] {
            f.read_peer();
            return f.probe->seen == "hello|";
        }));
    }

    TEST_CASE("close_after_flush delivers the queued bytes, then end of stream") {
        Fixture f;
        f.probe->send(bytes("last words"));
        f.probe->close_after_flush();
        std::string got;
        bool eof = false;
        REQUIRE(f.run_until([&] {
            char buf[64];
            ssize_t n = ::read(f.peer, buf, sizeof(buf));
            if (n > 0) got.append(buf, size_t(n));
            if (n == 0) eof = true;
            return eof;
        }));
        CHECK(got == "last words");
        ::shutdown(f.peer, SHUT_WR);  // our half too: the connection finishes cleanly
        REQUIRE(f.run_until([&] { return f.closed; }));
        CHECK(f.loop->connection_count() == 0);
    }

    TEST_CASE("the peer's end of stream is delivered after its last bytes, then closes") {
        Fixture f;
        std::string seen;
        f.probe->handler = [&](Probe&, std::span<std::byte> d) {
            seen.append(reinterpret_cast<const char*>(d.data()), d.size());
            return d.size();
        };
        f.write_peer("bye");
        ::shutdown(f.peer, SHUT_WR);
        REQUIRE(f.run_until([&] { return f.closed; }));
        CHECK(seen == "bye");
        CHECK(f.loop->connection_count() == 0);
    }

    TEST_CASE("a timeout fires once, and re-arming pushes it out") {
        Fixture f;
        f.probe->set_timeout(100);
        REQUIRE(f.run_until([&] { return f.probe->timeouts == 1; }));
        f.probe->set_timeout(60000);
        for (int i = 0; i < 30; ++i) f.loop->run_once(20);
        CHECK(f.probe->timeouts == 1);
        f.probe->set_timeout(0);
    }

    TEST_CASE("a close inside a callback reaches on_close only after the callback returns") {
        Fixture f;
        bool closed_during = true, sent_after_close = true;
        f.probe->handler = [&](Probe& p, std::span<std::byte> d) {
            p.close(CloseCause::kPeerReset);  // as a send that meets a reset peer does
            closed_during = f.closed;         // the owner's state is still whole here
            sent_after_close = p.send(bytes("late")) != SendStatus::kDropped;
            return d.size();
        };
        f.write_peer("x");
        REQUIRE(f.run_until([&] { return f.closed; }));
        CHECK_FALSE(closed_during);
        CHECK_FALSE(sent_after_close);  // closed for I/O at once
        CHECK(f.read_peer().empty());
    }

    TEST_CASE("bytes wait for the transport's handshake, then flow in order both ways") {
        Fixture f(2);
        // Sent before the handshake is done: kept, in order.
        CHECK(f.probe->send(bytes("early")) == SendStatus::kQueued);
        CHECK(f.transport.writes == 0);
        f.write_peer("a");  // the first event advances the handshake by one step only
        f.loop->run_once(50);
        CHECK(f.probe->seen.empty());
        f.write_peer("b");
        REQUIRE(f.run_until([&] { return f.probe->seen == "ab|"; }));
        CHECK(f.read_peer() == "early");
    }

    TEST_CASE("a failed transport handshake closes with its own cause") {
        Fixture f(0, true);
        f.write_peer("hello");
        REQUIRE(f.run_until([&] { return f.closed; }));
        CHECK(f.cause == CloseCause::kHandshakeFailed);
        CHECK(f.probe_seen_nothing());
    }

    TEST_CASE("a protocol that leaves too much unconsumed is closed as a bug, not a peer fault") {
        Fixture f;
        f.probe->handler = [](Probe&, std::span<std::byte>) { return size_t{0}; };
        std::string big(Loop::kScratchBytes / 2 + 1, 'x');
        f.write_peer(big);
        REQUIRE(f.run_until([&] { return f.closed; }));
        CHECK(f.cause == CloseCause::kLeftoverOverflow);
    }

    TEST_CASE("a graceful close asks the transport to say goodbye before the FIN") {
        Fixture f;
        f.probe->close_after_flush();
        CHECK(f.transport.shutdowns == 1);
        char c;
        CHECK(::read(f.peer, &c, 1) == 0);  // our FIN
    }

    TEST_CASE("every close cause has its own name") {
        std::set<std::string> names;
        for (size_t i = 0; i < kCloseCauseCount; ++i)
            names.insert(close_cause_name(static_cast<CloseCause>(i)));
        CHECK(names.size() == kCloseCauseCount);
        CHECK(names.count("unknown") == 0);
    }
}
