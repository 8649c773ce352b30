// ws/cat/cat_options.cc: epws-cat's flags, stdin commands and exit statuses. Layer: the epws-cat
// program (ws/cat/).
#include "ws/cat/cat_options.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

namespace epws::cat {
namespace {

constexpr size_t kMaxFileBytes = 64u << 20;

// A header line must not smuggle a second one in (CR/LF) or lack a name (RFC 7230 §3.2).
bool valid_header(std::string_view h) {
    size_t colon = h.find(':');
    if (colon == 0 || colon == std::string_view::npos) return false;
    for (char c : h)
        if (c == '\r' || c == '\n' || c == '\0') return false;
    for (char c : h.substr(0, colon))
        if (c == ' ' || c == '\t') return false;
    return true;
}

bool read_file(const std::string& path, std::string& out, std::string& err) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return err = "cannot open --file " + path, false;
    out.assign(std::istreambuf_iterator<char>(f), {});
    if (f.bad()) return err = "cannot read --file " + path, false;
    if (out.size() > kMaxFileBytes) return err = "--file is over 64 MiB", false;
    return true;
}

bool parse_seconds(std::string_view v, uint32_t& ms) {
    char* end = nullptr;
    std::string s(v);
    double d = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !(d > 0) || d > 3600) return false;
    ms = static_cast<uint32_t>(d * 1000);
    return true;
}

}  // namespace

std::string cat_usage() {
    return "usage: epws-cat [options] ws[s]://HOST[:PORT][/PATH][?QUERY]\n"
           "  Sends each line of stdin as a text message and prints every message that arrives\n"
           "  (text as it is, binary as hex). At the end of input it closes with 1000.\n"
           "  Lines starting with / are commands:\n"
           "    /ping [text]            send a ping; the pong is reported on stderr\n"
           "    /close [code [reason]]  start the closing handshake (default 1000)\n"
           "    //text                  send the line \"/text\"\n"
           "options:\n"
           "  --binary               send lines (and --file) as binary messages\n"
           "  --file PATH            send the file as one message (then stdin only with --stdin)\n"
           "  --stdin                with --file: read stdin afterwards too\n"
           "  --header 'Name: value' add a request header (repeatable)\n"
           "  --subprotocol NAME     offer a subprotocol (repeatable, in preference order)\n"
           "  --origin ORIGIN        send an Origin header\n"
           "  --deflate              offer permessage-deflate (RFC 7692)\n"
           "  --no-deflate           do not offer it (the default)\n"
           "  --timeout SECONDS      handshake and close timeout (default 10)\n"
           "  --trace                explain every byte both ways on stderr (RFC 6455 sections;\n"
           "                         over wss:// the WebSocket bytes inside TLS, and TLS's\n"
           "                         version and cipher once)\n"
           "  --ca-file PATH         wss://: trust the CAs in this PEM file (default: the\n"
           "                         system's CA store); the certificate must name HOST\n"
           "  --insecure             wss://: check neither the certificate nor its name\n"
           "  --help\n"
           "exit status: 0 closed with 1000; 1..15 closed with 1001..1015 (5: no code);\n"
           "  30 another code; 64 bad usage; 65 bad URL; 66 cannot connect; 67 upgrade refused\n"
           "  (non-101); 68 invalid 101; 69 timeout; 70 connection dropped without a close;\n"
           "  71 the server broke the protocol; 72 TLS failed (the certificate did not verify:\n"
           "  expired, unknown CA, name mismatch; or the TLS handshake itself)\n";
}

CatParse parse_cat_options(int argc, char** argv, CatOptions& out, std::string& err) {
    std::string subprotocols;
    bool want_stdin = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view f = argv[i];
        const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
        auto need = [&](const char* what) {
            if (value == nullptr) err = std::string(f) + " needs " + what;
            else ++i;
            return value != nullptr;
        };
        if (f == "--help" || f == "-h") return CatParse::kHelp;
        if (f == "--binary") out.binary = true;
        else if (f == "--trace") out.trace = true;
        else if (f == "--deflate") out.client.deflate.offer = true;
        else if (f == "--no-deflate") out.client.deflate.offer = false;
        else if (f == "--stdin") want_stdin = true;
        else if (f == "--insecure") out.insecure = true;
        else if (f == "--ca-file") {
            if (!need("a path")) return CatParse::kError;
            out.ca_file = value;
        }
        else if (f == "--file") {
            if (!need("a path") || !read_file(value, out.file_data, err)) return CatParse::kError;
            out.file_given = true;
        } else if (f == "--header") {
            if (!need("'Name: value'")) return CatParse::kError;
            if (!valid_header(value)) return err = "bad --header (want 'Name: value')", CatParse::kError;
            out.client.extra_headers += std::string(value) + "\r\n";
        } else if (f == "--origin") {
            if (!need("an origin")) return CatParse::kError;
            if (!valid_header(std::string("Origin: ") + value)) return err = "bad --origin", CatParse::kError;
            out.client.extra_headers += std::string("Origin: ") + value + "\r\n";
        } else if (f == "--subprotocol") {
            if (!need("a name")) return CatParse::kError;
            // RFC 6455 §4.1 item 10: each a token; commas would split it.
            for (const char* p = value; *p; ++p)
                if (*p <= ' ' || *p == ',' || *p == 0x7f)
                    return err = "bad --subprotocol (a token, no spaces or commas)", CatParse::kError;
            if (!subprotocols.empty()) subprotocols += ", ";
            subprotocols += value;
        } else if (f == "--timeout") {
            uint32_t ms = 0;
            if (!need("seconds")) return CatParse::kError;
            if (!parse_seconds(value, ms)) return err = "bad --timeout (0 < seconds <= 3600)", CatParse::kError;
            out.client.handshake_timeout_ms = out.client.close_timeout_ms = ms;
        } else if (!f.empty() && f[0] == '-') {
            return err = "unknown flag " + std::string(f) + " (--help lists them)", CatParse::kError;
        } else if (out.url_text.empty()) {
            out.url_text = f;
        } else {
            return err = "one URL only", CatParse::kError;
        }
    }
    if (out.url_text.empty()) return err = "no URL (--help)", CatParse::kError;
    ws::UrlError e = ws::parse_ws_url(out.url_text, out.url);
    if (e != ws::UrlError::kNone)
        return err = "bad URL " + out.url_text + ": " + std::string(ws::url_error_text(e)), CatParse::kError;
    if (!out.url.secure && (out.insecure || !out.ca_file.empty()))
        return err = "--ca-file and --insecure are for wss:// URLs", CatParse::kError;
    if (out.insecure && !out.ca_file.empty())
        return err = "--insecure checks no certificate: --ca-file would do nothing",
               CatParse::kError;
    out.client.host = out.url.host_header;
    out.client.path = out.url.target;
    out.client.subprotocols = subprotocols;
    // A client reading whatever a server sends: room for big messages, bounded.
    out.client.reader.max_message_bytes = 64u << 20;
    out.client.max_inflated_bytes = 64u << 20;
    out.read_stdin = !out.file_given || want_stdin;
    return CatParse::kRun;
}

Command parse_command(std::string_view line) {
    Command c;
    if (line.empty() || line[0] != '/') {
        c.text = line;
        return c;
    }
    if (line.size() > 1 && line[1] == '/') {
        c.text = line.substr(1);
        return c;
    }
    size_t sp = line.find(' ');
    std::string_view word = line.substr(0, sp);
    std::string_view rest = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    if (word == "/ping") {
        c.kind = CommandKind::kPing;
        c.text = rest.substr(0, std::min<size_t>(rest.size(), 125));  // §5.5: 125 bytes at most
        return c;
    }
    if (word == "/close") {
        c.kind = CommandKind::kClose;
        if (rest.empty()) return c;
        size_t sp2 = rest.find(' ');
        std::string code(rest.substr(0, sp2));
        char* end = nullptr;
        unsigned long n = std::strtoul(code.c_str(), &end, 10);
        // RFC 6455 §7.4: only codes a peer may receive; 1005/1006/1015 never go on the wire.
        if (code.empty() || *end != '\0' || !ws::is_valid_wire_close_code(static_cast<uint32_t>(n))) {
            c.kind = CommandKind::kError;
            c.text = "/close wants a code allowed on the wire: 1000-1003, 1007-1014, 3000-4999";
            return c;
        }
        c.code = static_cast<uint16_t>(n);
        if (sp2 != std::string_view::npos) c.text = rest.substr(sp2 + 1);
        return c;
    }
    c.kind = CommandKind::kError;
    c.text = "unknown command " + std::string(word) + " (/ping, /close; //text sends /text)";
    return c;
}

int describe_end(const ws::ClientConnection& c, uint16_t code, ws::ClientFailure failure,
                 const CatOptions& options, std::FILE* out) {
    switch (failure) {
    case ws::ClientFailure::kNone: {
        const std::string& reason = c.peer_close_reason();
        std::fprintf(out, "epws-cat: closed with %u%s%s%s\n", code, reason.empty() ? "" : " \"",
                     reason.c_str(), reason.empty() ? "" : "\"");
        if (code == 1000) return 0;
        if (code > 1000 && code <= 1015) return code - 1000;
        return kExitOtherCode;
    }
    case ws::ClientFailure::kHandshake:
        if (c.response_status() != 0 && c.response_status() != 101) {
            std::fprintf(out, "epws-cat: %s refused the upgrade: %d %s\n", options.url_text.c_str(),
                         c.response_status(), c.response_reason().c_str());
            return kExitRefused;
        }
        std::fprintf(out, "epws-cat: the server's answer to the upgrade is not valid (RFC 6455 "
                          "§4.1): %s\n", c.response_status() == 0 ? "malformed response"
                                                                 : "a 101 that fails the checks");
        return kExitHandshake;
    case ws::ClientFailure::kProtocol:
        std::fprintf(out, "epws-cat: the server broke the protocol: %s\n",
                     std::string(ws::close_reason(c.protocol_error())).c_str());
        return kExitProtocol;
    case ws::ClientFailure::kTimeout:
        std::fprintf(out, "epws-cat: timed out (%s)\n",
                     c.response_status() == 0 ? "no answer to the upgrade" : "closing");
        return kExitTimeout;
    case ws::ClientFailure::kReset:
        std::fprintf(out, "epws-cat: the connection %s without a close handshake (1006)\n",
                     c.response_status() == 0 ? "was refused or dropped" : "dropped");
        return c.response_status() == 0 ? kExitConnect : kExitDropped;
    case ws::ClientFailure::kOverflow:
        std::fprintf(out, "epws-cat: our output buffer refused a message\n");
        return kExitDropped;
    case ws::ClientFailure::kTls: {
        std::string why = c.transport().handshake_error();
        if (why.empty()) why = "no TLS session could be made";
        // The socket's connect failing shows as the TLS handshake's first failure: say it as
        // a plain ws:// connection would.
        if (why.ends_with(std::strerror(ECONNREFUSED))) {
            std::fprintf(out, "epws-cat: cannot connect to %s: %s\n", options.url_text.c_str(),
                         std::strerror(ECONNREFUSED));
            return kExitConnect;
        }
        std::fprintf(out, "epws-cat: %s: %s\n", options.url_text.c_str(), why.c_str());
        if (why.find("certificate verification failed") != std::string::npos)
            std::fprintf(out, "epws-cat: (the name checked was %s; --ca-file PATH trusts another "
                              "CA, --insecure checks nothing)\n", options.url.host.c_str());
        return kExitTls;
    }
    }
    return kExitDropped;
}

}  // namespace epws::cat
