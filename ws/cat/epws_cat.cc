// ws/cat/epws_cat.cc: epws-cat, a WebSocket client for the terminal, for people learning the
// protocol: lines typed go out as messages, what arrives is printed; --trace explains every byte.
// Layer: a program over ws/ (ws/client_connection, ws/trace, ws/url) and net/ (the loop).
#include <fcntl.h>
#include <netdb.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/loop.h"
#include "net/socket.h"
#include "net/tls_context.h"
#include "ws/cat/cat_options.h"
#include "ws/client_connection.h"
#include "ws/trace.h"

using namespace epws;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kMaxLine = 16u << 20;  // a longer line goes out in pieces of this size
constexpr auto kEofPongWait = std::chrono::seconds(2);

std::span<const std::byte> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// --trace: the annotator's account of every byte, written to stderr as it comes. Over wss://
// the bytes are the WebSocket ones inside TLS (the connection taps above its transport).
class Tracer final : public ws::WireTap {
public:
    explicit Tracer(const cat::CatOptions& o) : options_(o) {}
    const net::Connection* conn = nullptr;  // for TLS's version and cipher; valid until closed

    void on_wire(ws::TraceDirection dir, std::span<const std::byte> data) override {
        text_.clear();
        // The server's first bytes come after the TLS handshake: say once what it agreed.
        if (dir == ws::TraceDirection::kServerToClient && !tls_said_ && conn != nullptr &&
            conn->transport().secure()) {
            tls_said_ = true;
            text_ += "TLS: " + conn->transport().session_summary() + ", " +
                     (options_.insecure ? "certificate NOT checked (--insecure)"
                                        : "certificate verified for " + options_.url.host) +
                     ". The request above waited for the TLS handshake; every byte shown here "
                     "travels encrypted inside TLS records (RFC 6455 §3: wss://)\n";
        }
        annotator_.feed(dir, data, text_);
        if (!text_.empty()) {
            std::fwrite(text_.data(), 1, text_.size(), stderr);
            std::fflush(stderr);
        }
    }

    // The connection is gone: show what was left unexplained.
    void finish() {
        text_.clear();
        annotator_.finish(text_);
        std::fwrite(text_.data(), 1, text_.size(), stderr);
    }

private:
    const cat::CatOptions& options_;
    ws::TraceAnnotator annotator_;
    std::string text_;
    bool tls_said_ = false;
};

// The connection's events, and what stdin asks for.
class Cat final : public ws::ClientHandler, public net::Watcher {
public:
    explicit Cat(const cat::CatOptions& o) : options_(o) {}

    ws::ClientConnection* conn = nullptr;  // valid until on_closed
    Tracer* tracer = nullptr;              // --trace: finished on close
    bool done = false;
    int exit_status = cat::kExitDropped;

    void on_open(ws::ClientConnection& c) override {
        std::string tls = c.transport().session_summary();
        std::fprintf(stderr, "epws-cat: connected to %s%s%s%s%s%s\n", options_.url_text.c_str(),
                     tls.empty() ? "" : " over ", tls.c_str(),
                     c.deflate_params().enabled ? " (permessage-deflate)" : "",
                     c.subprotocol().empty() ? "" : ", subprotocol ", c.subprotocol().c_str());
        if (!options_.file_data.empty() || options_.file_given)
            send_data(options_.file_data);
        flush_pending();
    }

    void on_message(ws::ClientConnection&, ws::Opcode op, std::span<std::byte> payload) override {
        if (op == ws::Opcode::kText) {
            std::fwrite(payload.data(), 1, payload.size(), stdout);
            std::fputc('\n', stdout);
        } else {
            std::printf("[binary, %zu bytes] %s\n", payload.size(),
                        ws::hex_bytes(payload, 256).c_str());
        }
        std::fflush(stdout);
    }

    void on_pong(ws::ClientConnection& c, std::span<const std::byte> payload) override {
        std::string_view text{reinterpret_cast<const char*>(payload.data()), payload.size()};
        if (eof_ && text == cat::kEofPing) {
            c.close_websocket(1000);  // every reply to what we sent came before this pong
            return;
        }
        std::fprintf(stderr, "epws-cat: pong \"%.*s\"\n", static_cast<int>(text.size()), text.data());
    }

    void on_closed(ws::ClientConnection& c, uint16_t code, ws::ClientFailure failure) override {
        conn = nullptr;
        done = true;
        if (tracer != nullptr) {
            tracer->finish();
            tracer->conn = nullptr;
        }
        exit_status = cat::describe_end(c, code, failure, options_, stderr);
    }

    // stdin readable (edge-triggered): read until EAGAIN or EOF.
    void on_events(uint32_t) override { read_stdin(); }

    void read_stdin() {
        char chunk[64 * 1024];
        for (;;) {
            ssize_t n = ::read(STDIN_FILENO, chunk, sizeof(chunk));
            if (n > 0) {
                input_.append(chunk, static_cast<size_t>(n));
                split_lines(false);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
            split_lines(true);  // EOF (or an error, which ends input the same way)
            on_stdin_end();
            return;
        }
    }

    // Called by main's loop: ends a wait for the end-of-input pong that took too long.
    void check_deadline() {
        if (conn != nullptr && eof_ && Clock::now() > eof_deadline_) conn->close_websocket(1000);
    }

    void on_stdin_end() {
        eof_ = true;
        eof_deadline_ = Clock::now() + kEofPongWait;
        flush_pending();
    }

private:
    void split_lines(bool eof) {
        size_t start = 0;
        for (;;) {
            size_t nl = input_.find('\n', start);
            if (nl == std::string::npos) break;
            size_t end = nl > start && input_[nl - 1] == '\r' ? nl - 1 : nl;
            pending_.emplace_back(input_, start, end - start);
            start = nl + 1;
        }
        input_.erase(0, start);
        if ((eof && !input_.empty()) || input_.size() >= kMaxLine) {
            pending_.push_back(std::move(input_));
            input_.clear();
        }
        flush_pending();
    }

    // Lines wait until the connection is open; then each is a command or a message.
    void flush_pending() {
        if (conn == nullptr || !conn->is_open()) return;
        while (!pending_.empty() && conn != nullptr && conn->is_open()) {
            std::string line = std::move(pending_.front());
            pending_.pop_front();
            handle_line(line);
        }
        if (eof_ && pending_.empty() && conn != nullptr && conn->is_open() && !eof_sent_) {
            // A ping last: its pong returns after every reply to what we sent, then we close.
            eof_sent_ = true;
            conn->send_ping(bytes_of(cat::kEofPing));
        }
    }

    void handle_line(const std::string& line) {
        cat::Command cmd = cat::parse_command(line);
        switch (cmd.kind) {
        case cat::CommandKind::kSend:
            send_data(cmd.text);
            return;
        case cat::CommandKind::kPing:
            conn->send_ping(bytes_of(cmd.text));
            return;
        case cat::CommandKind::kClose:
            conn->close_websocket(cmd.code, cmd.text);
            return;
        case cat::CommandKind::kError:
            std::fprintf(stderr, "epws-cat: %s\n", cmd.text.c_str());
            return;
        }
    }

    void send_data(std::string_view data) {
        auto op = options_.binary ? ws::Opcode::kBinary : ws::Opcode::kText;
        if (conn->send_message(op, bytes_of(data)) == net::SendStatus::kDropped)
            std::fprintf(stderr, "epws-cat: a message of %zu bytes could not be sent\n", data.size());
    }

    const cat::CatOptions& options_;
    std::string input_;
    std::deque<std::string> pending_;
    bool eof_ = false;
    bool eof_sent_ = false;
    Clock::time_point eof_deadline_;
};

// The first address of host (a name or a numeric address), as a numeric string for
// net::connect_tcp. Blocking: this program does it once, before its loop starts.
bool resolve(const std::string& host, std::string& numeric, std::string& err) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (rc != 0 || res == nullptr) {
        err = "cannot resolve " + host + ": " + gai_strerror(rc);
        return false;
    }
    char buf[NI_MAXHOST];
    rc = getnameinfo(res->ai_addr, res->ai_addrlen, buf, sizeof(buf), nullptr, 0, NI_NUMERICHOST);
    freeaddrinfo(res);
    if (rc != 0) {
        err = "cannot resolve " + host + ": " + gai_strerror(rc);
        return false;
    }
    numeric = buf;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);  // a write to a peer that left is EPIPE, not our death
    cat::CatOptions options;
    std::string err;
    switch (cat::parse_cat_options(argc, argv, options, err)) {
    case cat::CatParse::kHelp:
        std::fputs(cat::cat_usage().c_str(), stdout);
        return 0;
    case cat::CatParse::kError:
        std::fprintf(stderr, "epws-cat: %s\n", err.c_str());
        return err.rfind("bad URL", 0) == 0 ? cat::kExitBadUrl : cat::kExitUsage;
    case cat::CatParse::kRun:
        break;
    }
    // wss:// (RFC 6455 §3): the peer is verified against the system's CAs or --ca-file, and its
    // certificate must name the URL's host (SNI carries it too), unless --insecure.
    std::unique_ptr<net::TlsClientContext> tls;
    if (options.url.secure) {
        tls = net::TlsClientContext::create({options.ca_file, options.insecure}, err);
        if (!tls) {
            std::fprintf(stderr, "epws-cat: %s\n", err.c_str());
            return cat::kExitUsage;
        }
        options.client.tls = tls.get();
        options.client.tls_name = options.url.host;
    }
    std::string address;
    if (!resolve(options.url.host, address, err)) {
        std::fprintf(stderr, "epws-cat: %s\n", err.c_str());
        return cat::kExitConnect;
    }
    auto loop = net::Loop::create(err);
    int fd = loop ? net::connect_tcp(address, options.url.port, "", err) : -1;
    if (fd < 0) {
        std::fprintf(stderr, "epws-cat: cannot connect to %s: %s\n", options.url_text.c_str(),
                     err.c_str());
        return cat::kExitConnect;
    }
    Cat cat_handler(options);
    Tracer tracer(options);
    auto conn = std::make_unique<ws::ClientConnection>(*loop, fd, options.client, cat_handler);
    ws::ClientConnection* raw = conn.get();
    if (options.trace) {
        raw->set_tap(&tracer);
        tracer.conn = raw;
        cat_handler.tracer = &tracer;
    }
    cat_handler.conn = raw;
    if (!loop->adopt(std::move(conn)) || !raw->start()) {
        std::fprintf(stderr, "epws-cat: could not start the connection\n");
        return cat::kExitConnect;
    }

    // stdin: watched when epoll can (a pipe, a tty); a regular file or /dev/null is read at once.
    int flags = fcntl(STDIN_FILENO, F_GETFL);
    bool watched = false;
    if (options.read_stdin && flags >= 0 && fcntl(STDIN_FILENO, F_SETFL, flags | O_NONBLOCK) == 0) {
        watched = loop->watch(STDIN_FILENO, EPOLLIN | EPOLLRDHUP | EPOLLET, &cat_handler);
        if (!watched) fcntl(STDIN_FILENO, F_SETFL, flags);
    }
    if (!options.read_stdin) cat_handler.on_stdin_end();
    else if (!watched) cat_handler.read_stdin();  // blocking reads up to EOF
    else cat_handler.read_stdin();  // what was typed before the loop started

    while (!cat_handler.done) {
        cat_handler.check_deadline();
        if (!loop->run_once(250)) break;
    }
    if (watched) {
        loop->unwatch(STDIN_FILENO);
        fcntl(STDIN_FILENO, F_SETFL, flags);  // a shared tty keeps its blocking mode
    }
    return cat_handler.exit_status;
}
