// net/tls_context.h: the TLS settings a process shares: the server's certificates (one SSL_CTX
// each, picked by SNI), its session-ticket keys, and the client's trust. Layer: net/ (OpenSSL).
// OpenSSL's types stay out of this header so that ws/ can hold these without seeing them.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/transport.h"

struct ssl_ctx_st;
struct ssl_st;
struct x509_st;

namespace epws::net {

// One certificate chain and its private key, both PEM files (Let's Encrypt's fullchain.pem and
// privkey.pem are such a pair).
struct TlsCertFiles {
    std::string cert;
    std::string key;
};

// An immutable set of server certificates; the first is the default (a client without SNI, or
// naming none of them, gets it). Every SSL_CTX allows TLS 1.2 and 1.3 only, no renegotiation,
// AEAD ciphers with forward secrecy, ALPN http/1.1, resumption by session tickets (the
// process's TicketKeys, which rotate), no server-side session cache, and releases its buffers
// while a connection is idle. Thread-safe (immutable; OpenSSL locks what it shares).
class TlsServerContext {
public:
    // Loads and checks every pair: readable, parsable, key matching its certificate, valid now.
    // nullptr with err set to one line naming the file and the fault.
    static std::shared_ptr<const TlsServerContext> load(const std::vector<TlsCertFiles>& files,
                                                        std::string& err);
    ~TlsServerContext();
    TlsServerContext(const TlsServerContext&) = delete;
    TlsServerContext& operator=(const TlsServerContext&) = delete;

    // A server-side transport for one accepted socket, or nullptr if OpenSSL is out of memory.
    // It keeps this set alive (through self) while the connection lives, so a reload never
    // pulls a certificate from under a handshake in flight.
    static TransportPtr make_transport(const std::shared_ptr<const TlsServerContext>& self);

    size_t size() const { return entries_.size(); }
    // The index of the certificate a client naming `host` gets (its SAN/CN matches, wildcards
    // included, RFC 6125 §6.4.3), else 0.
    size_t pick(const char* host) const;

private:
    struct Entry {
        ssl_ctx_st* ctx = nullptr;
        x509_st* cert = nullptr;  // owned by ctx
    };
    TlsServerContext() = default;
    static int on_servername(::ssl_st* ssl, int* alert, void* arg);

    std::vector<Entry> entries_;
};

// The current certificate set, swapped whole by reload(): connections already open keep the
// set they started with; new handshakes take the new one. Thread-safe.
class TlsServerContextHolder {
public:
    explicit TlsServerContextHolder(std::vector<TlsCertFiles> files) : files_(std::move(files)) {}
    // Loads the files again; on failure err says why and the previous set stays in use.
    bool reload(std::string& err);
    std::shared_ptr<const TlsServerContext> current() const;
    // A transport from the current set (nullptr before the first successful reload()).
    TransportPtr make_transport() const;

private:
    const std::vector<TlsCertFiles> files_;
    // A mutex, not std::atomic<std::shared_ptr>: taken once per accepted TLS connection (beside
    // a handshake of hundreds of microseconds) and once per reload, and plain to reason about.
    mutable std::mutex mu_;
    std::shared_ptr<const TlsServerContext> current_;
};

// The client side: whom to trust. Thread-safe once created.
struct TlsClientOptions {
    std::string ca_file;    // PEM bundle of trusted CAs; empty: the system's default store
    bool insecure = false;  // accept any certificate and name (benchmarks only)
};

class TlsClientContext {
public:
    static std::unique_ptr<TlsClientContext> create(const TlsClientOptions& options,
                                                    std::string& err);
    ~TlsClientContext();
    TlsClientContext(const TlsClientContext&) = delete;
    TlsClientContext& operator=(const TlsClientContext&) = delete;

    // A client transport that sends server_name as SNI (unless it is an IP address, RFC 6066
    // §3) and, unless insecure, checks the server's certificate against it. nullptr when
    // OpenSSL refuses (out of memory, a name it cannot use).
    TransportPtr make_transport(const std::string& server_name) const;

private:
    TlsClientContext() = default;
    ssl_ctx_st* ctx_ = nullptr;
    bool insecure_ = false;
};

// Everything on this thread's OpenSSL error queue, as one line (for logs), and clears it.
std::string tls_errors();

}  // namespace epws::net
