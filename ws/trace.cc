// ws/trace.cc: the annotated account of a connection's bytes (see ws/trace.h). Layer: ws/.
// Pure: it only reads what it is fed and writes text; OpenSSL only for the SHA-1 it shows.
#include "ws/trace.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <string_view>
#include <vector>

#include "ws/base64.h"
#include "ws/deflate.h"
#include "ws/deflate_params.h"
#include "ws/frame.h"
#include "ws/handshake.h"
#include "ws/http/request.h"
#include "ws/utf8.h"

namespace epws::ws {

struct TraceAnnotator::Side {
    enum class Phase : uint8_t { kHead, kFrames, kRaw };
    TraceDirection dir;
    Phase phase = Phase::kHead;
    std::vector<std::byte> buf;  // bytes fed but not yet explained
    uint64_t skip = 0;           // payload bytes of an oversized frame still to pass
    uint64_t index = 0;          // frames explained in this direction
    FrameHeader h;               // the frame being explained
    // The data message in progress (RFC 6455 §5.4): its opcode, whether RSV1 marked it
    // compressed (RFC 7692 §6), and its compressed bytes so far.
    Opcode message_op = Opcode::kText;
    bool in_message = false;
    bool compressed = false;
    bool lost = false;           // part of the message was skipped: it cannot be inflated
    bool raw_announced = false;  // the "not WebSocket frames" line was printed
    std::vector<std::byte> message;
    // RFC 7692 §7.1.1: this direction's sender resets its window after every message.
    bool no_context_takeover = false;
    Inflater inflater;
    std::vector<std::byte> plain;

    explicit Side(TraceDirection d) : dir(d) {}
    bool from_client() const { return dir == TraceDirection::kClientToServer; }
};

std::string hex_bytes(std::span<const std::byte> data, size_t max);

namespace {

// printf into out; a line longer than the buffer is cut (every line here is short).
[[gnu::format(printf, 2, 3)]] void appendf(std::string& out, const char* fmt, ...) {
    char line[512];
    va_list args;
    va_start(args, fmt);
    int n = std::vsnprintf(line, sizeof(line), fmt, args);
    va_end(args);
    if (n > 0) out.append(line, std::min(static_cast<size_t>(n), sizeof(line) - 1));
}

const char* arrow(TraceDirection d) {
    return d == TraceDirection::kClientToServer ? ">>> client to server" : "<<< server to client";
}

std::string_view as_view(std::span<const std::byte> d) {
    return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// Printable form of text for one line: quotes, escapes for controls and quotes, cut at max.
std::string quoted(std::string_view t, size_t max) {
    std::string q = "\"";
    for (size_t i = 0; i < t.size() && i < max; ++i) {
        auto c = static_cast<unsigned char>(t[i]);
        if (c == '"' || c == '\\') q += '\\', q += static_cast<char>(c);
        else if (c == '\n') q += "\\n";
        else if (c == '\r') q += "\\r";
        else if (c < 0x20 || c == 0x7f) appendf(q, "\\x%02x", c);
        else q += static_cast<char>(c);
    }
    q += '"';
    if (t.size() > max) appendf(q, " ... (%zu bytes)", t.size());
    return q;
}

std::string bits(uint8_t v, int from, int count) {
    std::string b;
    for (int i = from; i > from - count; --i) b += ((static_cast<unsigned>(v) >> i) & 1u) ? '1' : '0';
    return b;
}

const char* opcode_name(uint8_t op) {
    switch (op) {
    case 0x0: return "continuation: the next fragment of the message in progress (§5.4)";
    case 0x1: return "text: UTF-8 data (§5.6)";
    case 0x2: return "binary: arbitrary data (§5.6)";
    case 0x8: return "close: starts or answers the closing handshake (§5.5.1)";
    case 0x9: return "ping: the peer must answer with a pong (§5.5.2)";
    case 0xA: return "pong: the answer to a ping, same payload (§5.5.3)";
    default: return "reserved: a receiver must fail the connection (§5.2)";
    }
}

const char* close_code_name(uint16_t code) {
    switch (code) {
    case 1000: return "normal closure";
    case 1001: return "going away";
    case 1002: return "protocol error";
    case 1003: return "unsupported data";
    case 1007: return "invalid payload data";
    case 1008: return "policy violation";
    case 1009: return "message too big";
    case 1010: return "mandatory extension";
    case 1011: return "internal error";
    case 1012: return "service restart";
    case 1013: return "try again later";
    default: break;
    }
    if (code >= 3000 && code <= 3999) return "registered with IANA (§7.4.2)";
    if (code >= 4000 && code <= 4999) return "private use (§7.4.2)";
    return "not allowed on the wire (§7.4.1, §7.4.2)";
}

// The RFC note for one header line of the upgrade request or response.
const char* header_note(std::string_view name, bool request) {
    struct Note { const char* name; const char* request; const char* response; };
    static const Note kNotes[] = {
        {"host", "RFC 6455 §4.1 item 4: the server's host and port", nullptr},
        {"upgrade", "§4.1 item 5: asks to switch this TCP connection to websocket",
         "§4.2.2 item 5.2: agrees to switch"},
        {"connection", "§4.1 item 6: must list the token Upgrade", "§4.2.2 item 5.3"},
        {"sec-websocket-key", "§4.1 item 7: 16 random bytes in base64, fresh per connection",
         nullptr},
        {"sec-websocket-version", "§4.1 item 9: 13, the only version RFC 6455 defines",
         "§4.4: the versions the server speaks"},
        {"origin", "§4.1 item 8, §10.2: the web page's origin; a server may refuse it", nullptr},
        {"sec-websocket-protocol", "§4.1 item 10: subprotocols offered, preferred first",
         "§4.2.2 item 5.5: the one subprotocol the server chose"},
        {"sec-websocket-extensions", "§4.1 item 11, RFC 7692 §5: extensions offered",
         "§4.2.2 item 5.6, RFC 7692 §7.1: the extension and parameters accepted"},
        {"sec-websocket-accept", nullptr,
         "§4.2.2 item 5.4: proves the server read our key (computed below)"},
    };
    for (const Note& n : kNotes)
        if (ascii_iequals(name, n.name)) return request ? n.request : n.response;
    return nullptr;
}

std::string_view trim(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

// "    label  xx xx ..." wrapped at 16 bytes a line, continuation lines indented under the first.
void hex_block(std::string& out, std::string_view label, std::span<const std::byte> data,
               size_t max, std::string_view note = {}) {
    std::string pad(4 + label.size() + 1, ' ');
    appendf(out, "    %.*s ", static_cast<int>(label.size()), label.data());
    if (data.empty()) out += "(none)";
    size_t shown = std::min(data.size(), max);
    for (size_t i = 0; i < shown; i += 16) {
        if (i > 0) out += "\n" + pad;
        out += hex_bytes(data.subspan(i, std::min<size_t>(16, shown - i)), 16);
    }
    if (data.size() > max) appendf(out, " ... (%zu bytes)", data.size());
    if (!note.empty()) appendf(out, "%s%.*s", data.size() > 16 ? ("\n" + pad).c_str() : " ",
                               static_cast<int>(note.size()), note.data());
    out += '\n';
}

}  // namespace

std::string hex_bytes(std::span<const std::byte> data, size_t max) {
    std::string h;
    for (size_t i = 0; i < data.size() && i < max; ++i)
        appendf(h, i == 0 ? "%02x" : " %02x", static_cast<unsigned>(data[i]));
    if (data.size() > max) appendf(h, " ... (%zu bytes)", data.size());
    return h;
}

std::string explain_accept(std::string_view key) {
    std::string out;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr) == 1 &&
              EVP_DigestUpdate(ctx, key.data(), key.size()) == 1 &&
              EVP_DigestUpdate(ctx, kWebSocketGuid.data(), kWebSocketGuid.size()) == 1 &&
              EVP_DigestFinal_ex(ctx, digest, &len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) return "    (OpenSSL could not compute SHA-1)\n";
    std::span<const std::byte> d{reinterpret_cast<const std::byte*>(digest), len};
    out += "    Sec-WebSocket-Accept, step by step (RFC 6455 §4.2.2 item 5.4, GUID from §1.3):\n";
    appendf(out, "      1. key + GUID = %s\n",
            quoted(std::string(key) + std::string(kWebSocketGuid), 200).c_str());
    appendf(out, "      2. SHA-1      = %s (20 bytes)\n", hex_bytes(d, 20).c_str());
    appendf(out, "      3. base64     = %s\n", base64_encode(d).c_str());
    return out;
}

TraceAnnotator::TraceAnnotator(TraceLimits limits)
    : limits_(limits), client_(std::make_unique<Side>(TraceDirection::kClientToServer)),
      server_(std::make_unique<Side>(TraceDirection::kServerToClient)) {}

TraceAnnotator::~TraceAnnotator() = default;

void TraceAnnotator::feed(TraceDirection dir, std::span<const std::byte> data, std::string& out) {
    Side& s = dir == TraceDirection::kClientToServer ? *client_ : *server_;
    if (s.skip > 0) {  // the rest of an oversized payload: pass it
        size_t n = static_cast<size_t>(std::min<uint64_t>(s.skip, data.size()));
        s.skip -= n;
        data = data.subspan(n);
    }
    s.buf.insert(s.buf.end(), data.begin(), data.end());
    for (;;) {
        if (s.phase == Side::Phase::kRaw) {
            if (!s.raw_announced && !s.buf.empty()) {
                appendf(out, "%s: not WebSocket frames from here on, shown raw:\n", arrow(s.dir));
                s.raw_announced = true;
            }
            // Whole lines only, so the account does not depend on how the bytes were cut.
            size_t lines = s.buf.size() / 16;
            for (size_t i = 0; i < lines; ++i)
                appendf(out, "    raw: %s\n", hex_bytes(std::span(s.buf).subspan(16 * i, 16), 16).c_str());
            s.buf.erase(s.buf.begin(), s.buf.begin() + static_cast<std::ptrdiff_t>(16 * lines));
            return;
        }
        if (s.phase == Side::Phase::kHead) {
            // The end of the head is looked for within the limit only, so where the bytes were
            // cut cannot decide whether a long head is parsed or shown raw.
            std::string_view text = as_view(s.buf).substr(0, limits_.max_head_bytes);
            if (text.find("\r\n\r\n") == std::string_view::npos) {
                if (s.buf.size() < limits_.max_head_bytes) return;
                appendf(out, "%s: no end of the HTTP head within %zu bytes\n", arrow(s.dir),
                        limits_.max_head_bytes);
                s.phase = Side::Phase::kRaw;
                continue;
            }
            on_head(s, out);
            continue;
        }
        if (!frame_step(s, out)) return;
    }
}

void TraceAnnotator::finish(std::string& out) {
    for (Side* s : {client_.get(), server_.get()}) {
        if (s->buf.empty()) continue;
        if (s->phase == Side::Phase::kRaw) {
            appendf(out, "    raw: %s\n", hex_bytes(s->buf, 16).c_str());
        } else {
            appendf(out, "%s: %zu bytes at the end, an incomplete %s:\n", arrow(s->dir),
                    s->buf.size(), s->phase == Side::Phase::kHead ? "HTTP head" : "frame");
            hex_block(out, "raw:", s->buf, limits_.max_shown_bytes);
        }
        s->buf.clear();
    }
}

void TraceAnnotator::on_head(Side& s, std::string& out) {
    std::string_view text = as_view(s.buf);
    size_t end = text.find("\r\n\r\n") + 4;
    std::string_view head = text.substr(0, end - 2);  // every line ends with CRLF
    bool request = s.from_client();
    appendf(out, "%s: HTTP %s, %zu bytes (RFC 6455 %s)\n", arrow(s.dir),
            request ? "upgrade request" : "response", end, request ? "§4.1" : "§4.2.2");
    int status = 0;
    std::string accept, extensions;
    for (size_t line_no = 0; !head.empty(); ++line_no) {
        size_t eol = head.find("\r\n");
        std::string_view line = head.substr(0, eol);
        head.remove_prefix(eol + 2);
        appendf(out, "    %s\n", quoted(line, 200).c_str());
        const char* note = nullptr;
        if (line_no == 0) {
            if (request) {
                note = "§4.1 item 2: method GET, version HTTP/1.1 or later";
            } else {
                if (line.size() >= 12) status = std::atoi(std::string(line.substr(9, 3)).c_str());
                note = status == 101 ? "§4.2.2 item 5.1: 101 Switching Protocols: frames follow"
                                     : "§4.1: any status but 101 refuses the upgrade; the client "
                                       "fails the connection (§4.2.2 item 1: 4xx/5xx say why)";
            }
        } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
            std::string_view name = line.substr(0, colon), value = trim(line.substr(colon + 1));
            note = header_note(name, request);
            if (ascii_iequals(name, "sec-websocket-key")) key_ = value;
            if (ascii_iequals(name, "sec-websocket-accept")) accept = value;
            if (ascii_iequals(name, "sec-websocket-extensions")) extensions = value;
        }
        if (note) appendf(out, "        %s\n", note);
    }
    hex_block(out, "raw:", std::span(s.buf).first(end), limits_.max_shown_bytes);
    s.buf.erase(s.buf.begin(), s.buf.begin() + static_cast<std::ptrdiff_t>(end));
    if (request) {
        s.phase = Side::Phase::kFrames;
        return;
    }
    if (status != 101) {
        s.phase = Side::Phase::kRaw;  // a body, then the end of the connection
        return;
    }
    out += explain_accept(key_);
    appendf(out, "      the server sent %s: %s\n", accept.c_str(),
            [&] {
                char mine[kAcceptKeySize];
                return accept_key(key_, mine) && accept == std::string_view(mine, sizeof(mine))
                           ? "it matches, the handshake is complete"
                           : "it does NOT match: the client must fail the connection (§4.1)";
            }());
    s.phase = Side::Phase::kFrames;
    std::string_view rest = extensions;
    ExtensionOffer ext;
    if (!extensions.empty() && next_offer(rest, ext) == OfferParse::kOffer &&
        ext.name == "permessage-deflate") {
        deflate_ = true;
        for (uint8_t i = 0; i < ext.count; ++i) {
            int k = deflate_param_index(ext.params[i].name);
            if (k == 0) server_->no_context_takeover = true;
            if (k == 1) client_->no_context_takeover = true;
        }
        appendf(out, "    permessage-deflate agreed (RFC 7692): RSV1 now marks a compressed "
                     "message; the client %s its window, the server %s its window\n",
                client_->no_context_takeover ? "resets" : "keeps",
                server_->no_context_takeover ? "resets" : "keeps");
    }
}

// Explains one frame once it is all there; false when more bytes are needed.
bool TraceAnnotator::frame_step(Side& s, std::string& out) {
    if (s.buf.size() < 2) return false;
    size_t hs = header_size_from(s.buf[1]);
    if (s.buf.size() < hs) return false;
    if (decode_frame_header(s.buf.data(), &s.h) != ProtocolError::kNone) {
        appendf(out, "%s: a frame header with a length not in its minimal form or over 2^63 "
                     "(RFC 6455 §5.2): the receiver must fail the connection\n", arrow(s.dir));
        s.phase = Side::Phase::kRaw;
        return true;
    }
    uint64_t len = s.h.payload_len;
    if (len > limits_.max_frame_bytes) {
        on_frame(s, out);  // the header alone; the payload streams past
        uint64_t have = s.buf.size() - hs;
        s.skip = len - std::min<uint64_t>(len, have);
        s.buf.erase(s.buf.begin(),
                    s.buf.begin() + static_cast<std::ptrdiff_t>(hs + std::min<uint64_t>(len, have)));
        return true;
    }
    if (s.buf.size() < hs + len) return false;
    on_frame(s, out);
    s.buf.erase(s.buf.begin(), s.buf.begin() + static_cast<std::ptrdiff_t>(hs + len));
    return true;
}

void TraceAnnotator::on_frame(Side& s, std::string& out) {
    const FrameHeader& h = s.h;
    ++frames_;
    ++s.index;
    bool whole = h.payload_len <= limits_.max_frame_bytes;
    auto b0 = static_cast<uint8_t>(s.buf[0]), b1 = static_cast<uint8_t>(s.buf[1]);
    auto op = static_cast<uint8_t>(h.opcode);
    appendf(out, "%s: frame %llu, %llu bytes (RFC 6455 §5.2)\n", arrow(s.dir),
            static_cast<unsigned long long>(s.index),
            static_cast<unsigned long long>(h.size + h.payload_len));
    std::span<const std::byte> raw{s.buf.data(), whole ? h.size + h.payload_len : h.size};
    hex_block(out, "raw:", raw, limits_.max_shown_bytes);
    appendf(out, "    byte 0  0x%02x  %c %c %c %c %s\n", b0, '0' + (b0 >> 7), '0' + ((b0 >> 6) & 1),
            '0' + ((b0 >> 5) & 1), '0' + ((b0 >> 4) & 1), bits(b0, 3, 4).c_str());
    appendf(out, "                  | | | | '-- opcode 0x%x %s\n", op, opcode_name(op));
    appendf(out, "                  | | | '---- RSV3 %d: 0 unless an extension defines it (§5.2)\n",
            h.rsv3);
    appendf(out, "                  | | '------ RSV2 %d: 0 unless an extension defines it (§5.2)\n",
            h.rsv2);
    appendf(out, "                  | '-------- RSV1 %d: %s\n", h.rsv1,
            !deflate_ ? "0 unless an extension defines it (§5.2)"
            : h.opcode == Opcode::kContinuation || is_control(h.opcode)
                ? "0: only a message's first frame carries it (RFC 7692 §6.1)"
                : h.rsv1 ? "the message is compressed (RFC 7692 §6)"
                         : "the message is sent as it is, uncompressed (RFC 7692 §6)");
    appendf(out, "                  '---------- FIN %d: %s\n", h.fin,
            h.fin ? "the last (or only) frame of its message (§5.4)"
                  : "more fragments of this message follow (§5.4)");
    uint8_t len7 = b1 & 0x7Fu;
    appendf(out, "    byte 1  0x%02x  %c %s\n", b1, '0' + (b1 >> 7), bits(b1, 6, 7).c_str());
    if (len7 <= 125)
        appendf(out, "                  | '-- length %u: 0..125 fit in these 7 bits (§5.2)\n", len7);
    else
        appendf(out, "                  | '-- %u: the real length follows in %d bytes (§5.2)\n",
                len7, len7 == 126 ? 2 : 8);
    appendf(out, "                  '---- MASK %d: %s\n", h.masked,
            s.from_client() ? (h.masked ? "every client frame is masked (§5.1, §5.3)"
                                        : "a client frame MUST be masked: fail (§5.1)")
                            : (h.masked ? "a server frame MUST NOT be masked: fail (§5.1)"
                                        : "server frames are never masked (§5.1)"));
    size_t at = 2;
    if (len7 == 126) {
        appendf(out, "    bytes 2-3   %s = %llu: 16-bit length, for 126..65535 (the minimal "
                     "form, §5.2)\n",
                hex_bytes({s.buf.data() + 2, 2}, 2).c_str(),
                static_cast<unsigned long long>(h.payload_len));
        at = 4;
    } else if (len7 == 127) {
        appendf(out, "    bytes 2-9   %s = %llu: 64-bit length, above 65535, top bit 0 (§5.2)\n",
                hex_bytes({s.buf.data() + 2, 8}, 8).c_str(),
                static_cast<unsigned long long>(h.payload_len));
        at = 10;
    }
    if (h.masked)
        appendf(out, "    bytes %zu-%zu   masking key %s: chosen at random per frame, so a proxy "
                     "cannot be fed chosen bytes (§5.3, §10.3)\n",
                at, at + 3, hex_bytes({h.mask, 4}, 4).c_str());
    if (!whole) {
        appendf(out, "    payload: %llu bytes, over this trace's %zu: not shown\n",
                static_cast<unsigned long long>(h.payload_len), limits_.max_frame_bytes);
        if (!is_control(h.opcode)) s.lost = true;
        return;
    }
    explain_payload(s, out);
}

void TraceAnnotator::explain_payload(Side& s, std::string& out) {
    const FrameHeader& h = s.h;
    std::vector<std::byte> payload(s.buf.begin() + h.size,
                                   s.buf.begin() + static_cast<std::ptrdiff_t>(h.size + h.payload_len));
    size_t max = limits_.max_shown_bytes;
    if (h.masked) {
        hex_block(out, "payload, masked:  ", payload, max);
        apply_mask(payload.data(), payload.size(), h.mask);
        hex_block(out, "payload, unmasked:", payload, max, "(byte i XOR key[i mod 4], §5.3)");
    } else {
        hex_block(out, "payload:", payload, max);
    }
    if (h.opcode == Opcode::kClose) {
        if (payload.size() >= 2) {
            uint16_t code = close_payload_code(payload);
            std::string_view reason = as_view(std::span(payload).subspan(2));
            appendf(out, "    close code %u (%s)%s%s (§5.5.1, §7.4)\n", code, close_code_name(code),
                    reason.empty() ? ", no reason" : ", reason ",
                    reason.empty() ? "" : quoted(reason, 123).c_str());
        } else {
            appendf(out, "    %s\n", payload.empty() ? "no close code: the receiver reports 1005 "
                                                      "(§7.1.5)"
                                                    : "1 byte: not a valid close payload (§5.5.1)");
        }
        return;
    }
    if (is_control(h.opcode)) {
        if (!payload.empty()) appendf(out, "    as text: %s\n", quoted(as_view(payload), 125).c_str());
        return;
    }
    // A data frame: the first starts a message, continuations extend it (§5.4).
    if (h.opcode != Opcode::kContinuation) {
        s.in_message = true;
        s.message_op = h.opcode;
        s.compressed = deflate_ && h.rsv1;
        s.lost = false;
        s.message.clear();
    }
    if (!s.in_message) return;
    if (s.compressed) {
        if (s.message.size() + payload.size() <= limits_.max_frame_bytes)
            s.message.insert(s.message.end(), payload.begin(), payload.end());
        else
            s.lost = true;
    } else if (s.message_op == Opcode::kText && !payload.empty()) {
        // A whole message can be judged here; a fragment may end inside a character.
        bool whole = h.fin && h.opcode != Opcode::kContinuation;
        appendf(out, "    as text: %s%s\n", quoted(as_view(payload), 200).c_str(),
                !whole || is_valid_utf8(payload.data(), payload.size())
                    ? ""
                    : " (NOT valid UTF-8: the receiver closes with 1007, §8.1)");
    }
    if (!h.fin) {
        appendf(out, "    fragment: the message continues in the next data frame (§5.4)\n");
        return;
    }
    s.in_message = false;
    if (!s.compressed) return;
    if (s.lost) {
        appendf(out, "    compressed message too large for this trace: not inflated\n");
        return;
    }
    appendf(out, "    compressed message, %zu bytes: append 00 00 ff ff and inflate (RFC 7692 "
                 "§7.2.2)\n", s.message.size());
    ProtocolError e = ProtocolError::kDeflateFailed;
    if (s.inflater.ready() || s.inflater.init(15, nullptr))
        e = s.inflater.inflate(s.message, limits_.max_inflated_bytes, s.plain, s.no_context_takeover);
    if (e != ProtocolError::kNone) {
        appendf(out, "    it does not inflate (%s): the receiver fails the connection\n",
                std::string(close_reason(e)).c_str());
        return;
    }
    hex_block(out, "inflated:", s.plain, max);
    if (s.message_op == Opcode::kText)
        appendf(out, "    as text: %s\n", quoted(as_view(s.plain), 200).c_str());
    appendf(out, "    the %s %s its LZ77 window for the next message (RFC 7692 §7.1.1)\n",
            s.from_client() ? "client" : "server", s.no_context_takeover ? "resets" : "keeps");
}

}  // namespace epws::ws
