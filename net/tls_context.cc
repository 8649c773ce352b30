// net/tls_context.cc: loading and checking certificates, the SSL_CTX settings, SNI, ALPN and
// rotating session-ticket keys; the client's verifying context. Layer: net/.
#include "net/tls_context.h"

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>

#include "net/tls_transport.h"

namespace epws::net {
namespace {

// TLS 1.2 suites with forward secrecy and an AEAD cipher only (TLS 1.3's are all of that kind
// and keep OpenSSL's default list): Mozilla's "intermediate" profile without DHE.
constexpr const char* kCipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr size_t kReadBufferBytes = 64 * 1024;
constexpr const char* kGroups = "X25519:P-256:P-384";
// RFC 7301 §3.1: the protocol list, each name prefixed by its length.
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// Session-ticket keys shared by every certificate set of the process (so a reload does not
// invalidate tickets): a new key every kRotateSeconds, the previous one still accepted, so a
// ticket lives at most twice that. Thread-safe (a mutex: one lock per full handshake or
// resumption, not per record).
class TicketKeys {
public:
    struct Key {
        unsigned char name[16];
        unsigned char aes[32];
        unsigned char hmac[32];
    };
    static constexpr int64_t kRotateSeconds = 12 * 3600;

    // The key to seal a new ticket with (rotating first if due); false if OpenSSL's RNG fails.
    bool current(Key& out) {
        std::lock_guard lock(mu_);
        int64_t now = now_s();
        if (count_ == 0 || now - made_at_ >= kRotateSeconds) {
            Key fresh;
            if (RAND_bytes(reinterpret_cast<unsigned char*>(&fresh), sizeof fresh) != 1) return false;
            keys_[1] = keys_[0];
            keys_[0] = fresh;
            count_ = count_ == 0 ? 1 : 2;
            made_at_ = now;
        }
        out = keys_[0];
        return true;
    }
    // The key named `name`: 1 if it is the current one, 2 if the previous (renew the ticket),
    // 0 if unknown or expired (a full handshake follows).
    int find(const unsigned char* name, Key& out) {
        std::lock_guard lock(mu_);
        bool stale = now_s() - made_at_ >= kRotateSeconds;
        for (int i = 0; i < count_; ++i) {
            if (std::memcmp(keys_[i].name, name, 16) != 0) continue;
            if (i == 1 && stale) return 0;  // two rotations old
            out = keys_[i];
            return i == 0 && !stale ? 1 : 2;
        }
        return 0;
    }

private:
    static int64_t now_s() {
        using namespace std::chrono;
        return duration_cast<seconds>(steady_clock::now().time_since_epoch()).count();
    }
    std::mutex mu_;
    Key keys_[2]{};
    int count_ = 0;
    int64_t made_at_ = 0;
};

TicketKeys& ticket_keys() {
    static TicketKeys keys;
    return keys;
}

bool set_mac_key(EVP_MAC_CTX* hctx, unsigned char* key) {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key, 32),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_CTX_set_params(hctx, params) == 1;
}

// SSL_CTX_set_tlsext_ticket_key_evp_cb(3): seal (enc = 1) or open a ticket with our keys.
int on_ticket_key(SSL*, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cctx,
                  EVP_MAC_CTX* hctx, int enc) {
    TicketKeys::Key key;
    if (enc == 1) {
        if (!ticket_keys().current(key)) return -1;
        std::memcpy(key_name, key.name, 16);
        if (RAND_bytes(iv, 16) != 1) return -1;
        if (EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, key.aes, iv) != 1) return -1;
        return set_mac_key(hctx, key.hmac) ? 1 : -1;
    }
    int found = ticket_keys().find(key_name, key);
    if (found == 0) return 0;
    if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, key.aes, iv) != 1) return -1;
    return set_mac_key(hctx, key.hmac) ? found : -1;
}

// RFC 7301 §3.2: we speak http/1.1 only (WebSocket upgrades ride on it, RFC 6455 §4.1). A
// client that offers ALPN without it gets no_application_protocol; one that offers none is
// served.
int on_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
            unsigned int inlen, void*) {
    unsigned char* chosen = nullptr;
    int r = SSL_select_next_proto(&chosen, outlen, kAlpnHttp11, sizeof kAlpnHttp11, in, inlen);
    if (r != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

// "cannot read: No such file or directory", or "" if the file opens.
std::string check_readable(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return std::string("cannot read: ") + std::strerror(errno);
    std::fclose(f);
    return "";
}

std::string asn1_time(const ASN1_TIME* t) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio == nullptr) return "?";
    std::string out = "?";
    if (ASN1_TIME_print(bio, t) == 1) {
        char* data = nullptr;
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0) out.assign(data, static_cast<size_t>(n));
    }
    BIO_free(bio);
    return out;
}

// The settings every server SSL_CTX shares. False if OpenSSL refused one.
bool configure_server(SSL_CTX* ctx) {
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) return false;
    // No renegotiation (a CPU sink for the client to pull, and the root of RFC 5746's bug),
    // no TLS compression (CRIME), our order of ciphers over the client's.
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_set_cipher_list(ctx, kCipherList) != 1) return false;
    if (SSL_CTX_set1_groups_list(ctx, kGroups) != 1) return false;
    // RELEASE_BUFFERS: an idle connection holds no 16 KiB read or write buffer. PARTIAL_WRITE
    // and MOVING_WRITE_BUFFER: net::Connection retries a blocked write from its output buffer.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // Read whole socket-fulls, not a 5-byte header then a record: half the read(2) calls.
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_default_read_buffer_len(ctx, kReadBufferBytes);
    // Resumption by tickets only: a server-side cache would hold every session for hours.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket_key) != 1) return false;
    // One TLS 1.3 ticket per handshake, not OpenSSL's two (RFC 8446 §4.6.1 allows any number):
    // a WebSocket client opens one connection at a time, and each ticket costs a seal.
    if (SSL_CTX_set_num_tickets(ctx, 1) != 1) return false;
    SSL_CTX_set_alpn_select_cb(ctx, on_alpn, nullptr);
    return true;
}

// Makes the SSL_CTX of one pair. "" or what is wrong, naming the file.
std::string load_pair(const TlsCertFiles& f, SSL_CTX*& out) {
    std::string e = check_readable(f.cert);
    if (!e.empty()) return "--tls-cert " + f.cert + ": " + e;
    e = check_readable(f.key);
    if (!e.empty()) return "--tls-key " + f.key + ": " + e;
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == nullptr) return "SSL_CTX_new: " + tls_errors();
    auto fail = [&](std::string why) {
        SSL_CTX_free(ctx);
        return why;
    };
    if (!configure_server(ctx)) return fail("TLS settings refused: " + tls_errors());
    if (SSL_CTX_use_certificate_chain_file(ctx, f.cert.c_str()) != 1)
        return fail("--tls-cert " + f.cert + ": not a PEM certificate chain (" + tls_errors() + ")");
    if (SSL_CTX_use_PrivateKey_file(ctx, f.key.c_str(), SSL_FILETYPE_PEM) != 1) {
        // OpenSSL checks the pair as it loads the key.
        int reason = ERR_GET_REASON(ERR_peek_last_error());
        if (reason == X509_R_KEY_VALUES_MISMATCH || reason == X509_R_KEY_TYPE_MISMATCH)
            return fail("--tls-key " + f.key + ": does not match the certificate " + f.cert);
        return fail("--tls-key " + f.key + ": not a PEM private key (" + tls_errors() + ")");
    }
    if (SSL_CTX_check_private_key(ctx) != 1)
        return fail("--tls-key " + f.key + ": does not match the certificate " + f.cert);
    X509* cert = SSL_CTX_get0_certificate(ctx);
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
        return fail("--tls-cert " + f.cert + ": expired on " + asn1_time(X509_get0_notAfter(cert)));
    if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0)
        return fail("--tls-cert " + f.cert + ": not valid before " +
                    asn1_time(X509_get0_notBefore(cert)));
    out = ctx;
    return "";
}

bool is_ip_literal(const std::string& name) {
    unsigned char buf[16];
    return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

}  // namespace

std::string tls_errors() {
    std::string out;
    char buf[256];
    while (unsigned long e = ERR_get_error()) {
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out.empty() ? "no OpenSSL error recorded" : out;
}

std::shared_ptr<const TlsServerContext> TlsServerContext::load(
    const std::vector<TlsCertFiles>& files, std::string& err) {
    if (files.empty()) {
        err = "no certificate given";
        return nullptr;
    }
    std::shared_ptr<TlsServerContext> set(new TlsServerContext());
    for (const TlsCertFiles& f : files) {
        SSL_CTX* ctx = nullptr;
        err = load_pair(f, ctx);
        ERR_clear_error();
        if (!err.empty()) return nullptr;  // the set's destructor frees the pairs before it
        set->entries_.push_back({ctx, SSL_CTX_get0_certificate(ctx)});
    }
    // SNI is answered on the default context (every SSL starts there), which then hands the
    // connection to the context of the certificate named.
    SSL_CTX_set_tlsext_servername_callback(set->entries_[0].ctx, on_servername);
    SSL_CTX_set_tlsext_servername_arg(set->entries_[0].ctx, set.get());
    return set;
}

TlsServerContext::~TlsServerContext() {
    for (Entry& e : entries_) SSL_CTX_free(e.ctx);  // SSLs still open hold their own reference
}

size_t TlsServerContext::pick(const char* host) const {
    if (host == nullptr) return 0;
    size_t len = std::strlen(host);
    for (size_t i = 0; i < entries_.size(); ++i)
        if (X509_check_host(entries_[i].cert, host, len, 0, nullptr) == 1) return i;
    return 0;
}

int TlsServerContext::on_servername(SSL* ssl, int*, void* arg) {
    const auto* set = static_cast<const TlsServerContext*>(arg);
    size_t i = set->pick(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
    if (i != 0 && SSL_set_SSL_CTX(ssl, set->entries_[i].ctx) == nullptr)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    // An unknown name gets the default certificate (the client then judges it).
    return SSL_TLSEXT_ERR_OK;
}

TransportPtr TlsServerContext::make_transport(const std::shared_ptr<const TlsServerContext>& self) {
    SSL* ssl = SSL_new(self->entries_[0].ctx);
    if (ssl == nullptr) {
        ERR_clear_error();
        return nullptr;
    }
    SSL_set_accept_state(ssl);
    return TransportPtr(new TlsTransport(ssl, self));
}

bool TlsServerContextHolder::reload(std::string& err) {
    auto next = TlsServerContext::load(files_, err);
    if (!next) return false;
    std::shared_ptr<const TlsServerContext> old;
    {
        std::lock_guard lock(mu_);
        old = std::exchange(current_, std::move(next));
    }
    return true;  // the old set goes here, or with the last connection that holds it
}

std::shared_ptr<const TlsServerContext> TlsServerContextHolder::current() const {
    std::lock_guard lock(mu_);
    return current_;
}

TransportPtr TlsServerContextHolder::make_transport() const {
    auto set = current();
    if (!set) return nullptr;
    return TlsServerContext::make_transport(set);
}

std::unique_ptr<TlsClientContext> TlsClientContext::create(const TlsClientOptions& options,
                                                           std::string& err) {
    std::unique_ptr<TlsClientContext> self(new TlsClientContext());
    self->insecure_ = options.insecure;
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr) {
        err = "SSL_CTX_new: " + tls_errors();
        return nullptr;
    }
    self->ctx_ = ctx;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_alpn_protos(ctx, kAlpnHttp11, sizeof kAlpnHttp11) != 0) {
        err = "TLS client settings refused: " + tls_errors();
        return nullptr;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    if (options.insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
        return self;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    int ok = options.ca_file.empty()
                 ? SSL_CTX_set_default_verify_paths(ctx)
                 : SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr);
    if (ok != 1) {
        std::string why = options.ca_file.empty() ? "the system's CA store" : options.ca_file;
        err = "cannot load " + why + ": " + tls_errors();
        return nullptr;
    }
    return self;
}

TlsClientContext::~TlsClientContext() { SSL_CTX_free(ctx_); }

TransportPtr TlsClientContext::make_transport(const std::string& server_name) const {
    SSL* ssl = SSL_new(ctx_);
    if (ssl == nullptr) {
        ERR_clear_error();
        return nullptr;
    }
    bool ip = is_ip_literal(server_name);
    bool ok = true;
    // RFC 6066 §3: SNI carries host names only, never an address literal.
    if (!ip && !server_name.empty()) ok = SSL_set_tlsext_host_name(ssl, server_name.c_str()) == 1;
    if (ok && !insecure_) {
        // RFC 6125: the certificate must name the host we meant (or its address).
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str()) == 1
                : SSL_set1_host(ssl, server_name.c_str()) == 1;
    }
    if (!ok) {
        ERR_clear_error();
        SSL_free(ssl);
        return nullptr;
    }
    SSL_set_connect_state(ssl);
    return TransportPtr(new TlsTransport(ssl, nullptr));
}

}  // namespace epws::net
