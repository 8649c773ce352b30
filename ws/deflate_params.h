// ws/deflate_params.h: permessage-deflate negotiation (RFC 7692 §5, §7.1): parses the offers in
// Sec-WebSocket-Extensions and agrees on parameters. Layer: ws/. Pure: no I/O, no zlib.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace epws::ws {

// How the server spends memory on permessage-deflate.
enum class DeflateMode : uint8_t {
    kOff,       // never negotiate: the extension is declined (RFC 6455 §9.1 allows it)
    kShared,    // no context takeover either way: one compressor and one decompressor per loop
    kDedicated, // context takeover allowed: each connection may get its own zlib streams
};

// The server's permessage-deflate settings (part of ServerConfig; read-only while serving).
struct DeflateConfig {
    DeflateMode mode = DeflateMode::kShared;
    // Compression level 0..9 (libdeflate for the shared mode, zlib for context takeover). 1: on
    // chat-like text it costs a third of level 6's time for 2-4% more bytes (docs/benchmarks.md).
    int level = 1;
    uint8_t window_bits = 15; // 9..15: our compressor's window; the cap we ask of clients
    uint8_t mem_level = 8;    // 1..9: zlib memLevel of our compressors (2^(mem_level+9) bytes)
    uint32_t threshold = 64;  // messages shorter than this go out uncompressed (RFC 7692 §6)
};

// What one connection agreed on (3 bytes: it lives in every connection).
struct DeflateParams {
    bool enabled : 1 = false;
    // We reset our compressor after every message (RFC 7692 §7.1.1.1).
    bool server_no_context_takeover : 1 = false;
    // The client resets its compressor after every message (§7.1.1.2): we may reset ours too.
    bool client_no_context_takeover : 1 = false;
    uint8_t server_window_bits = 15;  // our compressor's LZ77 window (§7.1.2.1), 8..15
    uint8_t client_window_bits = 15;  // the client's window, so our decompressor's (§7.1.2.2)
};
static_assert(sizeof(DeflateParams) == 3, "DeflateParams lives in every connection");

// One extension parameter as written: `name`, `name=token` or `name="quoted"` (RFC 6455 §9.1).
// Views into the header; `value` of a quoted string is between the quotes, escapes still in.
struct ExtensionParam {
    std::string_view name;
    std::string_view value;
    bool has_value = false;
    bool quoted = false;
};

// One offer: an extension token and its parameters, in order.
struct ExtensionOffer {
    static constexpr uint8_t kMaxParams = 8; // more than any real offer; more declines it
    std::string_view name;
    ExtensionParam params[kMaxParams];
    uint8_t count = 0;
    bool too_many = false; // params past kMaxParams were dropped
};

enum class OfferParse : uint8_t { kOffer, kEnd, kSyntaxError };

// Reads the next offer from `rest` (a Sec-WebSocket-Extensions value, RFC 6455 §9.1:
// 1#( token *( ";" token [ "=" ( token / quoted-string ) ] ) )) into out and advances rest past
// it. kEnd when nothing but separators is left; kSyntaxError on malformed input (rest is then
// unspecified). Views in out point into the header.
OfferParse next_offer(std::string_view& rest, ExtensionOffer& out);

// Judges one offer against the config. Returns the agreed params (enabled) and writes the
// answer for the 101 response ("permessage-deflate; ..." without a header name) into answer;
// or returns params with enabled == false when the offer is not permessage-deflate or has an
// unknown, duplicate, valueless-where-required or out-of-range parameter (RFC 7692 §7.1: such
// an offer is declined, the handshake still succeeds).
DeflateParams accept_offer(const ExtensionOffer& offer, const DeflateConfig& config,
                           std::string& answer);

// A request's Sec-WebSocket-Extensions field: each line's value, in order. RFC 9110 §5.3 makes
// several lines one list, as if joined with commas; an offer never spans two lines. Views into
// the request. More lines than kMaxLines (no real client sends two) sets too_many, and then
// every offer is declined.
struct ExtensionField {
    static constexpr uint8_t kMaxLines = 8;
    std::string_view lines[kMaxLines];
    uint8_t count = 0;
    bool too_many = false;

    bool empty() const { return count == 0 && !too_many; }
};

// The whole negotiation: the first offer in `header` we can honour (RFC 7692 §5: offers are in
// the client's order of preference). answer is cleared, and set only when params are enabled.
// A syntax error declines every offer (connect without compression) rather than failing.
DeflateParams negotiate_deflate(std::string_view header, const DeflateConfig& config,
                                std::string& answer);
// The same over every line of the field, as one list: a syntax error in any line declines all.
DeflateParams negotiate_deflate(const ExtensionField& field, const DeflateConfig& config,
                                std::string& answer);

// Which RFC 7692 §7.1 parameter `name` is: 0 server_no_context_takeover, 1
// client_no_context_takeover, 2 server_max_window_bits, 3 client_max_window_bits; -1 none.
// Shared by the server's offer reading and the client's answer reading.
int deflate_param_index(std::string_view name);

} // namespace epws::ws
