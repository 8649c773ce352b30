// tests/net/tls_transport_test.cc: the TLS transport and contexts over real socket pairs, with
// certificates this test makes (OpenSSL's API, into a temporary folder; no key is committed).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "net/connection.h"
#include "net/loop.h"
#include "net/tls_context.h"
#include "net/tls_transport.h"

using namespace epws::net;

namespace {

// A temporary folder, removed with what is in it.
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/epws-tls-test-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::string cmd = "rm -rf '" + path + "'";
        CHECK(std::system(cmd.c_str()) == 0);
    }
};

// A self-signed P-256 certificate naming `dns` (SAN), valid from now+from_s to now+to_s, and
// its key, written as PEM files in dir. Returns their paths.
TlsCertFiles make_cert(const std::string& dir, const std::string& stem, const std::string& dns,
                       long from_s = -60, long to_s = 3600) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    REQUIRE(key != nullptr);
    X509* x = X509_new();
    REQUIRE(x != nullptr);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), from_s);
    X509_gmtime_adj(X509_getm_notAfter(x), to_s);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(dns.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
    std::string san = "DNS:" + dns + ",IP:127.0.0.1";
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san.c_str());
    REQUIRE(ext != nullptr);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    REQUIRE(X509_sign(x, key, EVP_sha256()) > 0);
    TlsCertFiles files{dir + "/" + stem + ".pem", dir + "/" + stem + ".key"};
    std::FILE* f = std::fopen(files.cert.c_str(), "w");
    REQUIRE(f != nullptr);
    PEM_write_X509(f, x);
    std::fclose(f);
    f = std::fopen(files.key.c_str(), "w");
    REQUIRE(f != nullptr);
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
    return files;
}

struct Pair {
    int server_fd = -1;
    int client_fd = -1;
    TransportPtr server;
    TransportPtr client;
    Pair() {
        int sv[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
        server_fd = sv[0];
        client_fd = sv[1];
    }
    ~Pair() {
        server.reset();
        client.reset();
        ::close(server_fd);
        ::close(client_fd);
    }
    // Steps both handshakes in turn, as two loops would on their events. The statuses at the
    // end (kDone twice on success).
    std::pair<HandshakeStatus, HandshakeStatus> handshake() {
        HandshakeStatus s = HandshakeStatus::kWantRead, c = HandshakeStatus::kWantRead;
        for (int i = 0; i < 20; ++i) {
            if (c != HandshakeStatus::kDone && c != HandshakeStatus::kFailed) c = client->handshake(client_fd);
            if (s != HandshakeStatus::kDone && s != HandshakeStatus::kFailed) s = server->handshake(server_fd);
            bool s_end = s == HandshakeStatus::kDone || s == HandshakeStatus::kFailed;
            bool c_end = c == HandshakeStatus::kDone || c == HandshakeStatus::kFailed;
            if (s_end && c_end) break;
        }
        return {s, c};
    }
};

struct Setup {
    TempDir dir;
    TlsCertFiles files = make_cert(dir.path, "localhost", "localhost");
    std::shared_ptr<const TlsServerContext> server;
    std::unique_ptr<TlsClientContext> client;
    Setup() {
        std::string err;
        server = TlsServerContext::load({files}, err);
        REQUIRE_MESSAGE(server, err);
        client = TlsClientContext::create({files.cert, false}, err);
        REQUIRE_MESSAGE(client, err);
    }
    // A pair whose handshake is done, the client asking for `name`.
    void connect(Pair& p, const std::string& name = "localhost") {
        p.server = TlsServerContext::make_transport(server);
        p.client = client->make_transport(name);
        REQUIRE(p.server);
        REQUIRE(p.client);
        auto [s, c] = p.handshake();
        REQUIRE(s == HandshakeStatus::kDone);
        REQUIRE(c == HandshakeStatus::kDone);
    }
};

IoResult write_str(Transport& t, int fd, const std::string& s) {
    iovec iov{const_cast<char*>(s.data()), s.size()};
    return t.writev(fd, &iov, 1);
}

// Reads until kWouldBlock (or the end), appending to out. The last status.
IoStatus read_all(Transport& t, int fd, std::string& out) {
    char buf[65536];
    for (;;) {
        IoResult r = t.read(fd, buf, sizeof buf);
        if (r.status != IoStatus::kOk) return r.status;
        out.append(buf, r.bytes);
    }
}

// A connection that records what it is given.
class Recorder final : public Connection {
public:
    Recorder(Loop& l, int fd, TransportPtr t) : Connection(l, fd, std::move(t)) {}
    std::string seen;
    int handshakes_done = 0;

protected:
    size_t on_data(std::span<std::byte> d) override {
        seen.append(reinterpret_cast<const char*>(d.data()), d.size());
        return d.size();
    }
    void on_handshake_done() override { ++handshakes_done; }
};

}  // namespace

TEST_SUITE("net/tls_transport") {

TEST_CASE("a client that trusts the certificate completes the handshake and bytes flow both ways") {
    Setup s;
    Pair p;
    s.connect(p);
    CHECK(p.server->secure());
    CHECK(std::string(SSL_get_version(static_cast<TlsTransport&>(*p.server).ssl())) == "TLSv1.3");
    const unsigned char* alpn = nullptr;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(static_cast<TlsTransport&>(*p.server).ssl(), &alpn, &alpn_len);
    CHECK(std::string(reinterpret_cast<const char*>(alpn), alpn_len) == "http/1.1");
    CHECK(write_str(*p.client, p.client_fd, "hello").bytes == 5);
    std::string got;
    CHECK(read_all(*p.server, p.server_fd, got) == IoStatus::kWouldBlock);
    CHECK(got == "hello");
    CHECK(write_str(*p.server, p.server_fd, "world").bytes == 5);
    got.clear();
    CHECK(read_all(*p.client, p.client_fd, got) == IoStatus::kWouldBlock);
    CHECK(got == "world");
}

TEST_CASE("a read gathers every record the socket holds and stops at WANT_READ") {
    Setup s;
    Pair p;
    s.connect(p);
    for (int i = 0; i < 3; ++i) CHECK(write_str(*p.client, p.client_fd, std::string(100, char('a' + i))).bytes == 100);
    char buf[1000];
    IoResult r = p.server->read(p.server_fd, buf, sizeof buf);
    CHECK(r.status == IoStatus::kOk);
    CHECK(r.bytes == 300);  // three records in one read: a short count means the socket is dry
    CHECK_FALSE(p.server->has_buffered_input());
    CHECK(p.server->read(p.server_fd, buf, sizeof buf).status == IoStatus::kWouldBlock);
}

TEST_CASE("decrypted bytes left inside OpenSSL are reported as buffered input") {
    Setup s;
    Pair p;
    s.connect(p);
    CHECK(write_str(*p.client, p.client_fd, std::string(1000, 'x')).bytes == 1000);
    char buf[100];
    IoResult r = p.server->read(p.server_fd, buf, sizeof buf);
    CHECK(r.bytes == 100);
    // epoll will not report the other 900 bytes: they are in OpenSSL, not in the socket.
    CHECK(p.server->has_buffered_input());
    std::string rest;
    CHECK(read_all(*p.server, p.server_fd, rest) == IoStatus::kWouldBlock);
    CHECK(rest.size() == 900);
    CHECK_FALSE(p.server->has_buffered_input());
}

TEST_CASE("a write the socket cannot take is resumed from a moved buffer, in order") {
    Setup s;
    Pair p;
    s.connect(p);
    int small = 4096;
    setsockopt(p.server_fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    std::string data(1 << 20, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 251);
    size_t sent = 0;
    std::string received;
    int partial = 0;
    while (sent < data.size()) {
        // The rest goes from a fresh copy each time, as net::Connection's output buffer does.
        std::string rest = data.substr(sent);
        IoResult r = write_str(*p.server, p.server_fd, rest);
        REQUIRE(r.status == IoStatus::kOk);
        if (r.bytes < rest.size()) ++partial;
        sent += r.bytes;
        REQUIRE(read_all(*p.client, p.client_fd, received) == IoStatus::kWouldBlock);
    }
    while (received.size() < data.size())
        REQUIRE(read_all(*p.client, p.client_fd, received) == IoStatus::kWouldBlock);
    CHECK(partial > 0);
    CHECK(received == data);
}

TEST_CASE("gathered pieces arrive whole and in order, small ones sharing a record") {
    Setup s;
    Pair p;
    s.connect(p);
    std::string a = "ab", b(5000, 'b'), c = "c", d(20000, 'd'), e = "e";
    iovec iov[] = {{a.data(), a.size()}, {b.data(), b.size()}, {c.data(), c.size()},
                   {d.data(), d.size()}, {e.data(), e.size()}};
    IoResult r = p.server->writev(p.server_fd, iov, 5);
    CHECK(r.status == IoStatus::kOk);
    CHECK(r.bytes == a.size() + b.size() + c.size() + d.size() + e.size());
    std::string got;
    CHECK(read_all(*p.client, p.client_fd, got) == IoStatus::kWouldBlock);
    CHECK(got == a + b + c + d + e);
}

TEST_CASE("close_notify reads as an orderly end; a bare FIN as a reset") {
    Setup s;
    SUBCASE("close_notify") {
        Pair p;
        s.connect(p);
        CHECK(write_str(*p.server, p.server_fd, "bye").bytes == 3);
        p.server->shutdown(p.server_fd);
        std::string got;
        CHECK(read_all(*p.client, p.client_fd, got) == IoStatus::kEof);
        CHECK(got == "bye");  // the bytes before the alert come first
    }
    SUBCASE("truncation") {
        Pair p;
        s.connect(p);
        ::shutdown(p.server_fd, SHUT_WR);
        std::string got;
        CHECK(read_all(*p.client, p.client_fd, got) == IoStatus::kReset);
    }
}

TEST_CASE("a handshake that ends inside OpenSSL with the first request read along is seen through") {
    // The fast client: its Finished and its first bytes were already in the socket when the
    // server's connection was made, so OpenSSL reads both and epoll never reports them.
    Setup s;
    Pair p;
    p.server = TlsServerContext::make_transport(s.server);
    p.client = s.client->make_transport("localhost");
    CHECK(p.client->handshake(p.client_fd) == HandshakeStatus::kWantRead);  // ClientHello
    CHECK(p.server->handshake(p.server_fd) == HandshakeStatus::kWantRead);  // its flight
    REQUIRE(p.client->handshake(p.client_fd) == HandshakeStatus::kDone);    // Finished
    CHECK(write_str(*p.client, p.client_fd, "GET / HTTP/1.1").bytes == 14);
    std::string err;
    auto loop = Loop::create(err);
    REQUIRE(loop);
    int fd = ::dup(p.server_fd);
    auto conn = std::make_unique<Recorder>(*loop, fd, std::move(p.server));
    Recorder* r = conn.get();
    CHECK(r->handshaking());  // done inside OpenSSL, but the owner hears of it at the first event
    REQUIRE(loop->adopt(std::move(conn)));
    for (int i = 0; i < 20 && r->seen.empty(); ++i) loop->run_once(50);
    CHECK(r->seen == "GET / HTTP/1.1");
    CHECK(r->handshakes_done == 1);
}

TEST_CASE("a handshake fails on plain HTTP, on garbage and on a peer that leaves") {
    Setup s;
    for (std::string junk : {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), std::string(300, '\x16'),
                             std::string()}) {
        Pair p;
        p.server = TlsServerContext::make_transport(s.server);
        if (junk.empty()) ::shutdown(p.client_fd, SHUT_WR);
        else CHECK(::write(p.client_fd, junk.data(), junk.size()) == static_cast<ssize_t>(junk.size()));
        CHECK(p.server->handshake(p.server_fd) == HandshakeStatus::kFailed);
    }
}

TEST_CASE("the client refuses a certificate for another name or from an unknown issuer") {
    Setup s;
    SUBCASE("wrong name") {
        Pair p;
        p.server = TlsServerContext::make_transport(s.server);
        p.client = s.client->make_transport("other.example");
        CHECK(p.handshake().second == HandshakeStatus::kFailed);
    }
    SUBCASE("unknown issuer") {
        TlsCertFiles other = make_cert(s.dir.path, "other", "localhost");
        std::string err;
        auto client = TlsClientContext::create({other.cert, false}, err);
        REQUIRE(client);
        Pair p;
        p.server = TlsServerContext::make_transport(s.server);
        p.client = client->make_transport("localhost");
        CHECK(p.handshake().second == HandshakeStatus::kFailed);
        SUBCASE("unless insecure") {
            auto lax = TlsClientContext::create({"", true}, err);
            REQUIRE(lax);
            Pair q;
            q.server = TlsServerContext::make_transport(s.server);
            q.client = lax->make_transport("localhost");
            auto [sv, cl] = q.handshake();
            CHECK(sv == HandshakeStatus::kDone);
            CHECK(cl == HandshakeStatus::kDone);
        }
    }
}

TEST_CASE("a failed verification says why, and a finished handshake names version and cipher") {
    Setup s;
    auto fail_with = [&](TlsClientContext& client, const std::string& name, time_t at) {
        Pair p;
        p.server = TlsServerContext::make_transport(s.server);
        p.client = client.make_transport(name);
        REQUIRE(p.client);
        // Verification at another moment: how a certificate that has expired looks.
        SSL* ssl = static_cast<TlsTransport&>(*p.client).ssl();
        if (at != 0) X509_VERIFY_PARAM_set_time(SSL_get0_param(ssl), at);
        CHECK(p.handshake().second == HandshakeStatus::kFailed);
        CHECK(p.client->session_summary().empty());
        return p.client->handshake_error();
    };
    CHECK(fail_with(*s.client, "other.example", 0).rfind("certificate verification failed: name "
                                                        "mismatch", 0) == 0);
    CHECK(fail_with(*s.client, "localhost", std::time(nullptr) + 400 * 86400)
              .rfind("certificate verification failed: expired", 0) == 0);
    TlsCertFiles other = make_cert(s.dir.path, "other", "localhost");
    std::string err;
    auto stranger = TlsClientContext::create({other.cert, false}, err);
    REQUIRE(stranger);
    CHECK(fail_with(*stranger, "localhost", 0).rfind("certificate verification failed: unknown CA",
                                                     0) == 0);
    CHECK(PlainTransport::make()->handshake_error().empty());
    Pair p;
    s.connect(p);
    CHECK(p.client->session_summary().rfind("TLSv1.3 TLS_", 0) == 0);
}

TEST_CASE("the certificate is chosen by SNI, the first one for an unknown name") {
    TempDir dir;
    TlsCertFiles a = make_cert(dir.path, "a", "a.test"), b = make_cert(dir.path, "b", "*.b.test");
    std::string err;
    auto set = TlsServerContext::load({a, b}, err);
    REQUIRE_MESSAGE(set, err);
    CHECK(set->pick("a.test") == 0);
    CHECK(set->pick("www.b.test") == 1);
    CHECK(set->pick("b.test") == 0);  // RFC 6125 §6.4.3: the wildcard covers one label
    CHECK(set->pick(nullptr) == 0);
    auto client = TlsClientContext::create({b.cert, false}, err);
    REQUIRE(client);
    Pair p;
    p.server = TlsServerContext::make_transport(set);
    p.client = client->make_transport("www.b.test");
    auto [sv, cl] = p.handshake();
    CHECK(sv == HandshakeStatus::kDone);
    CHECK(cl == HandshakeStatus::kDone);  // verified against b's certificate only
}

TEST_CASE("a bad certificate or key is one line naming the file and the fault") {
    TempDir dir;
    TlsCertFiles good = make_cert(dir.path, "good", "localhost");
    TlsCertFiles other = make_cert(dir.path, "other", "localhost");
    std::string err;
    CHECK_FALSE(TlsServerContext::load({{dir.path + "/none.pem", good.key}}, err));
    CHECK(err.find("none.pem: cannot read: No such file") != std::string::npos);
    CHECK_FALSE(TlsServerContext::load({{good.cert, other.key}}, err));
    CHECK(err.find("does not match the certificate") != std::string::npos);
    CHECK_FALSE(TlsServerContext::load({{good.key, good.key}}, err));
    CHECK(err.find("not a PEM certificate chain") != std::string::npos);
    TlsCertFiles old = make_cert(dir.path, "old", "localhost", -7200, -3600);
    CHECK_FALSE(TlsServerContext::load({old}, err));
    CHECK(err.find("expired on") != std::string::npos);
    TlsCertFiles early = make_cert(dir.path, "early", "localhost", 3600, 7200);
    CHECK_FALSE(TlsServerContext::load({early}, err));
    CHECK(err.find("not valid before") != std::string::npos);
    CHECK(err.find('\n') == std::string::npos);
}

TEST_CASE("a reload swaps the set for new handshakes and keeps the old one on a bad file") {
    TempDir dir;
    TlsCertFiles files = make_cert(dir.path, "live", "localhost");
    TlsServerContextHolder holder({files});
    std::string err;
    REQUIRE(holder.reload(err));
    auto first = holder.current();
    TransportPtr open_before = holder.make_transport();  // holds the first set
    make_cert(dir.path, "live", "localhost");            // renewed in place
    REQUIRE(holder.reload(err));
    CHECK(holder.current() != first);
    CHECK(first.use_count() >= 2);  // still alive for the connection made before
    std::FILE* f = std::fopen(files.key.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("not a key\n", f);
    std::fclose(f);
    auto second = holder.current();
    CHECK_FALSE(holder.reload(err));
    CHECK(err.find("live.key") != std::string::npos);
    CHECK(holder.current() == second);
}

TEST_CASE("a second handshake resumes the session from its ticket") {
    Setup s;
    Pair first;
    s.connect(first);
    // TLS 1.3 sends its tickets after the handshake (RFC 8446 §4.6.1): the client reads them.
    std::string none;
    read_all(*first.client, first.client_fd, none);
    SSL* c = static_cast<TlsTransport&>(*first.client).ssl();
    SSL_SESSION* session = SSL_get1_session(c);
    REQUIRE(session != nullptr);
    CHECK(SSL_SESSION_is_resumable(session) == 1);
    Pair second;
    second.server = TlsServerContext::make_transport(s.server);
    second.client = s.client->make_transport("localhost");
    REQUIRE(SSL_set_session(static_cast<TlsTransport&>(*second.client).ssl(), session) == 1);
    SSL_SESSION_free(session);
    auto [sv, cl] = second.handshake();
    CHECK(sv == HandshakeStatus::kDone);
    CHECK(cl == HandshakeStatus::kDone);
    CHECK(SSL_session_reused(static_cast<TlsTransport&>(*second.server).ssl()) == 1);
}

}  // TEST_SUITE
