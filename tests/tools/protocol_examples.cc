// tests/tools/protocol_examples.cc: prints the handshake and frames that docs/protocol.md
// annotates, produced by this project's own codec (build/release/tools/protocol_examples).
#include <cstdio>
#include <string>
#include <string_view>

#include "ws/frame.h"
#include "ws/client_handshake.h"
#include "ws/handshake.h"
#include "ws/http/response.h"

using namespace epws::ws;

namespace {

void hex(const char* title, const std::byte* p, size_t n, size_t limit = 32) {
    std::printf("%s (%zu bytes):\n ", title, n);
    for (size_t i = 0; i < n && i < limit; ++i) std::printf(" %02x", static_cast<unsigned>(p[i]));
    if (n > limit) std::printf(" ...");
    std::printf("\n\n");
}

void frame(const char* title, Opcode op, std::string_view payload, bool fin = true,
           const std::byte* mask = nullptr) {
    std::byte buf[kMaxFrameHeader + 256];
    size_t h = encode_frame_header(buf, op, payload.size(), fin, false, mask);
    std::string body(payload);
    auto* p = reinterpret_cast<std::byte*>(body.data());
    if (mask) apply_mask(p, body.size(), mask);
    for (size_t i = 0; i < body.size() && i < 256; ++i) buf[h + i] = p[i];
    hex(title, buf, h + (body.size() < 256 ? body.size() : 256));
}

void header_only(const char* title, Opcode op, uint64_t len) {
    std::byte buf[kMaxFrameHeader];
    size_t h = encode_frame_header(buf, op, len);
    hex(title, buf, h);
}

}  // namespace

int main() {
    const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455 §1.3
    std::string req;
    append_client_request(req, "server.example.com", "/echo", key);
    std::printf("Client request:\n%s\n", req.c_str());
    std::string resp;
    append_upgrade_response(resp, key, {}, {});
    std::printf("Server response:\n%s\n", resp.c_str());

    const std::byte mask[4] = {std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
    frame("Server -> client, text \"Hello\"", Opcode::kText, "Hello");
    frame("Client -> server, text \"Hello\", masked with 37 fa 21 3d", Opcode::kText, "Hello", true, mask);
    frame("First fragment \"Hel\" (FIN=0)", Opcode::kText, "Hel", false);
    frame("Last fragment \"lo\" (continuation, FIN=1)", Opcode::kContinuation, "lo");
    frame("Ping \"Hello\"", Opcode::kPing, "Hello");
    header_only("Header of a 256-byte binary message (16-bit length)", Opcode::kBinary, 256);
    header_only("Header of a 65536-byte binary message (64-bit length)", Opcode::kBinary, 65536);
    std::byte close[kMaxControlPayload];
    size_t n = encode_close_payload(close, 1001, "server shutting down");
    frame("Close 1001 \"server shutting down\"", Opcode::kClose,
          {reinterpret_cast<const char*>(close), n});
    return 0;
}
