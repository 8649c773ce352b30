// tests/tools/protocol_examples.cc: prints the annotated captures docs/protocol.md (and
// docs/zh/protocol.md) show, as `@@ capture NAME` blocks; `make docs` pastes them in and
// tests/integration/test_docs.py fails when the committed pages differ. Layer: tests/.
// The bytes come from this project's own codec (the server's handshake answer, frame encoder,
// masking, close payloads, deflate); the text from ws/trace, the annotator epws-cat --trace
// prints. The key is RFC 6455 §1.3's and the masking keys are fixed, so every run prints the
// same bytes; a live epws-cat --trace differs only in those random values.
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ws/deflate.h"
#include "ws/deflate_params.h"
#include "ws/frame.h"
#include "ws/client_handshake.h"
#include "ws/handshake.h"
#include "ws/http/response.h"
#include "ws/trace.h"

using namespace epws::ws;
using Bytes = std::vector<std::byte>;

namespace {

constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455 §1.3
constexpr auto kUp = TraceDirection::kClientToServer;
constexpr auto kDown = TraceDirection::kServerToClient;

Bytes as_bytes(std::string_view s) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    return {p, p + s.size()};
}

// One frame from our encoder: masked with key when given (client to server), as sent.
Bytes frame(Opcode op, const Bytes& payload, bool fin = true, const char* key = nullptr,
            bool rsv1 = false) {
    std::byte mask[4];
    if (key)
        for (int i = 0; i < 4; ++i) mask[i] = static_cast<std::byte>(key[i]);
    Bytes out(kMaxFrameHeader + payload.size());
    size_t h = encode_frame_header(out.data(), op, payload.size(), fin, rsv1, key ? mask : nullptr);
    std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(h));
    if (key) apply_mask(out.data() + h, payload.size(), mask);
    out.resize(h + payload.size());
    return out;
}

Bytes close_payload(uint16_t code, std::string_view reason) {
    Bytes p(kMaxControlPayload);
    p.resize(encode_close_payload(p.data(), code, reason));
    return p;
}

// A connection seen by one annotator; each capture is the account of what was fed since the
// last one.
class Session {
public:
    explicit Session(std::string_view extensions_offer = {}, bool dedicated = false) {
        TraceLimits limits;
        limits.max_shown_bytes = 48;  // pages stay readable; the test compares all of it
        annotator_ = std::make_unique<TraceAnnotator>(limits);
        append_client_request(request_, "127.0.0.1:8080", "/echo", kKey, {}, extensions_offer);
        std::string answer;
        if (!extensions_offer.empty()) {
            DeflateConfig config;
            config.mode = dedicated ? DeflateMode::kDedicated : DeflateMode::kShared;
            negotiate_deflate(extensions_offer, config, answer);
        }
        append_upgrade_response(response_, kKey, {}, answer);
    }
    void request() { feed(kUp, as_bytes(request_)); }
    void response() { feed(kDown, as_bytes(response_)); }
    void feed(TraceDirection d, const Bytes& b) { annotator_->feed(d, b, text_); }
    void capture(const char* name) {
        std::printf("@@ capture %s\n%s", name, text_.c_str());
        text_.clear();
    }

private:
    std::unique_ptr<TraceAnnotator> annotator_;
    std::string request_, response_, text_;
};

const char kMaskA[] = "\x37\xfa\x21\x3d";  // RFC 6455 §5.7's masking key
const char kMaskB[] = "\x5a\x11\xc3\x08";

}  // namespace

int main() {
    Session s;
    s.request();
    s.capture("request");
    s.response();
    s.capture("response");

    s.feed(kUp, frame(Opcode::kText, as_bytes("Hello"), true, kMaskA));
    s.capture("client-text");
    s.feed(kDown, frame(Opcode::kText, as_bytes("Hello")));
    s.capture("server-text");

    s.feed(kDown, frame(Opcode::kBinary, Bytes(200)));
    s.feed(kDown, frame(Opcode::kBinary, Bytes(70000)));
    s.capture("lengths");

    s.feed(kUp, frame(Opcode::kText, as_bytes("Hel"), false, kMaskA));
    s.feed(kUp, frame(Opcode::kPing, as_bytes("in between"), true, kMaskB));
    s.feed(kUp, frame(Opcode::kContinuation, as_bytes("lo"), true, kMaskA));
    s.capture("fragments");
    s.feed(kDown, frame(Opcode::kPong, as_bytes("in between")));
    s.feed(kDown, frame(Opcode::kText, as_bytes("Hello")));
    s.capture("pong");

    s.feed(kUp, frame(Opcode::kClose, close_payload(1000, "bye"), true, kMaskB));
    s.capture("client-close");
    s.feed(kDown, frame(Opcode::kClose, close_payload(1000, {})));
    s.capture("server-close");

    // permessage-deflate with context takeover (--deflate dedicated): the second "Hello" is a
    // back-reference to the first.
    Session d("permessage-deflate; client_max_window_bits", true);
    d.request();
    d.response();
    d.capture("deflate-handshake");
    Deflater client_z, server_z;
    if (!client_z.init(6, 15, 8, nullptr) || !server_z.init(6, 15, 8, nullptr)) return 1;
    Bytes packed;
    for (int i = 0; i < 2; ++i) {
        if (!client_z.compress(as_bytes("Hello"), packed, false)) return 1;
        d.feed(kUp, frame(Opcode::kText, packed, true, kMaskA, true));
        if (!server_z.compress(as_bytes("Hello"), packed, false)) return 1;
        d.feed(kDown, frame(Opcode::kText, packed, true, nullptr, true));
    }
    d.capture("deflate-messages");
    return 0;
}
