// tests/tools/deflate_bench.cc: echo throughput of a compressible 4 KiB text message with
// permessage-deflate off / on, measured against a running epws (build/release/tools/deflate_bench).
// Layer: tests/. The client compresses the message once (it offers client_no_context_takeover,
// so the same bytes are valid every time) and only parses reply headers, so the server's
// inflate + deflate dominates. Loopback only; bounded by --seconds.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ws/deflate.h"
#include "ws/frame.h"

using namespace epws::ws;

namespace {

struct Conn {
    int fd = -1;
    std::vector<std::byte> in;
    size_t replies = 0;
};

int connect_upgrade(uint16_t port, bool deflate) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::string req = "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n";
    if (deflate) req += "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n";
    req += "\r\n";
    if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) return -1;
    std::string resp;
    char buf[1024];
    while (resp.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) return -1;
        resp.append(buf, static_cast<size_t>(n));
    }
    if (resp.compare(0, 12, "HTTP/1.1 101") != 0) return -1;
    if (deflate != (resp.find("permessage-deflate") != std::string::npos)) return -1;
    return fd;
}

// Counts complete server frames at the front of c.in and drops them.
size_t take_frames(Conn& c) {
    size_t pos = 0, frames = 0;
    while (c.in.size() - pos >= 2) {
        if (c.in.size() - pos < header_size_from(c.in[pos + 1])) break;
        FrameHeader h;
        if (decode_frame_header(c.in.data() + pos, &h) != ProtocolError::kNone) std::exit(3);
        if (c.in.size() - pos - h.size < h.payload_len) break;
        pos += h.size + h.payload_len;
        ++frames;
    }
    c.in.erase(c.in.begin(), c.in.begin() + static_cast<long>(pos));
    return frames;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s PORT off|deflate SECONDS [CONNS] [DEPTH]\n", argv[0]);
        return 2;
    }
    const auto port = static_cast<uint16_t>(std::atoi(argv[1]));
    const bool deflate = std::strcmp(argv[2], "off") != 0;
    const double seconds = std::atof(argv[3]);
    const size_t conns = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 16;
    const size_t depth = argc > 5 ? std::strtoul(argv[5], nullptr, 10) : 8;
    std::string text;
    while (text.size() < 4096) text += "{\"user\":\"alice\",\"room\":\"general\",\"text\":\"hello there\"} ";
    text.resize(4096);
    std::vector<std::byte> payload(reinterpret_cast<const std::byte*>(text.data()),
                                   reinterpret_cast<const std::byte*>(text.data()) + text.size());
    if (deflate) {
        Deflater d;
        std::vector<std::byte> packed;
        if (!d.init(6, 15, 8, nullptr) || !d.compress(payload, packed, true)) return 1;
        payload.swap(packed);
    }
    const std::byte mask[4] = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
    std::vector<std::byte> frame(kMaxFrameHeader);
    frame.resize(encode_frame_header(frame.data(), Opcode::kText, payload.size(), true, deflate, mask));
    std::vector<std::byte> body = payload;
    apply_mask(body.data(), body.size(), mask);
    frame.insert(frame.end(), body.begin(), body.end());
    std::vector<std::byte> burst;
    for (size_t i = 0; i < depth; ++i) burst.insert(burst.end(), frame.begin(), frame.end());

    std::vector<Conn> cs(conns);
    std::vector<pollfd> pfds(conns);
    for (size_t i = 0; i < conns; ++i) {
        cs[i].fd = connect_upgrade(port, deflate);
        if (cs[i].fd < 0) return std::fprintf(stderr, "connect/upgrade failed\n"), 1;
        pfds[i] = {cs[i].fd, POLLIN, 0};
        if (::write(cs[i].fd, burst.data(), burst.size()) < 0) return 1;
    }
    const auto start = std::chrono::steady_clock::now();
    const auto end = start + std::chrono::duration<double>(seconds);
    size_t total = 0;
    std::vector<std::byte> buf(1 << 16);
    while (std::chrono::steady_clock::now() < end) {
        if (::poll(pfds.data(), pfds.size(), 100) < 0) return 1;
        for (size_t i = 0; i < conns; ++i) {
            if (!(pfds[i].revents & POLLIN)) continue;
            ssize_t n = ::read(cs[i].fd, buf.data(), buf.size());
            if (n <= 0) return std::fprintf(stderr, "server closed\n"), 1;
            cs[i].in.insert(cs[i].in.end(), buf.begin(), buf.begin() + n);
            size_t got = take_frames(cs[i]);
            total += got;
            for (size_t k = 0; k < got; ++k)  // keep `depth` messages in flight
                if (::write(cs[i].fd, frame.data(), frame.size()) < 0) return 1;
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s: %zu connections, depth %zu, %zu-byte frame payload: %.0f messages/s\n",
                deflate ? "deflate" : "off", conns, depth, payload.size(),
                static_cast<double>(total) / secs);
    for (Conn& c : cs) ::close(c.fd);
    return 0;
}
