// tests/tools/tls_memory.cc: heap bytes one idle server-side TLS session holds (net/tls_transport),
// measured with mallinfo2 around N handshakes over socket pairs whose client ends are then freed.
// Usage: tls_memory CERT KEY [N] [--no-read-ahead] [--keep-buffers]; prints bytes per session.
#include <malloc.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "net/tls_context.h"
#include "net/tls_transport.h"

using namespace epws::net;

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s CERT KEY [N] [--no-read-ahead] [--keep-buffers]\n", argv[0]);
        return 2;
    }
    size_t n = argc > 3 && argv[3][0] != '-' ? std::stoul(argv[3]) : 1000;
    bool no_read_ahead = false, keep_buffers = false;
    for (int i = 3; i < argc; ++i) {
        no_read_ahead |= std::strcmp(argv[i], "--no-read-ahead") == 0;
        keep_buffers |= std::strcmp(argv[i], "--keep-buffers") == 0;
    }
    std::string err;
    auto set = TlsServerContext::load({{argv[1], argv[2]}}, err);
    auto client = TlsClientContext::create({"", true}, err);
    if (!set || !client) {
        std::fprintf(stderr, "tls_memory: %s\n", err.c_str());
        return 1;
    }
    struct Pair {
        int fds[2];
        TransportPtr server, client;
    };
    std::vector<Pair> pairs(n);
    // Warm up OpenSSL's lazily made tables with one handshake outside the count.
    for (size_t round = 0; round < 2; ++round) {
        size_t count = round == 0 ? 1 : n;
        size_t before = mallinfo2().uordblks;
        for (size_t i = 0; i < count; ++i) {
            Pair& p = pairs[i];
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p.fds) != 0) return 1;
            p.server = TlsServerContext::make_transport(set);
            p.client = client->make_transport("localhost");
            SSL* s = static_cast<TlsTransport&>(*p.server).ssl();
            if (no_read_ahead) SSL_set_read_ahead(s, 0);
            if (keep_buffers) SSL_clear_mode(s, SSL_MODE_RELEASE_BUFFERS);
            HandshakeStatus a = HandshakeStatus::kWantRead, b = HandshakeStatus::kWantRead;
            for (int k = 0; k < 10 && (a != HandshakeStatus::kDone || b != HandshakeStatus::kDone); ++k) {
                if (b != HandshakeStatus::kDone) b = p.client->handshake(p.fds[1]);
                if (a != HandshakeStatus::kDone) a = p.server->handshake(p.fds[0]);
            }
            if (a != HandshakeStatus::kDone || b != HandshakeStatus::kDone) return 1;
            // One small exchange each way, as an idle WebSocket has had (the upgrade).
            char buf[4096];
            iovec iov{const_cast<char*>("ping"), 4};
            p.client->writev(p.fds[1], &iov, 1);
            p.server->read(p.fds[0], buf, sizeof buf);
            p.server->writev(p.fds[0], &iov, 1);
            p.client->read(p.fds[1], buf, sizeof buf);  // and the ticket
            p.client.reset();
            ::close(p.fds[1]);
        }
        size_t after = mallinfo2().uordblks;
        if (round == 1)
            std::printf("%zu idle server TLS sessions: %zu heap bytes each%s%s\n", n,
                        (after - before) / n, no_read_ahead ? " (read-ahead off)" : "",
                        keep_buffers ? " (buffers kept)" : "");
        for (size_t i = 0; i < count; ++i) {
            pairs[i].server.reset();
            ::close(pairs[i].fds[0]);
        }
    }
    return 0;
}
