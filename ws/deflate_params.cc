// ws/deflate_params.cc: Sec-WebSocket-Extensions offers -> agreed permessage-deflate params.
// Layer: ws/. Each rule cites RFC 7692 §7.1 (parameters) or RFC 6455 §9.1 (grammar).
#include "ws/deflate_params.h"

#include <algorithm>

namespace epws::ws {
namespace {

// RFC 7230 §3.2.6 tchar.
bool is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void skip_ows(std::string_view& s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
}

std::string_view take_token(std::string_view& s) {
    size_t n = 0;
    while (n < s.size() && is_tchar(s[n]))
        ++n;
    std::string_view t = s.substr(0, n);
    s.remove_prefix(n);
    return t;
}

// s starts at the opening quote. RFC 7230 §3.2.6: quoted-string with backslash escapes.
bool take_quoted(std::string_view& s, std::string_view& inner) {
    size_t i = 1;
    while (i < s.size() && s[i] != '"')
        i += s[i] == '\\' ? 2u : 1u;
    if (i >= s.size()) return false; // unterminated
    inner = s.substr(1, i - 1);
    s.remove_prefix(i + 1);
    return true;
}

bool take_param(std::string_view& s, ExtensionParam& p) {
    p = {};
    p.name = take_token(s);
    if (p.name.empty()) return false;
    skip_ows(s);
    if (s.empty() || s.front() != '=') return true;
    s.remove_prefix(1);
    skip_ows(s);
    p.has_value = true;
    if (!s.empty() && s.front() == '"') {
        p.quoted = true;
        return take_quoted(s, p.value);
    }
    p.value = take_token(s);
    return !p.value.empty();
}

// RFC 7692 §7.1.2.1/§7.1.2.2: a window size is a decimal integer 8..15 with no leading zero;
// RFC 7692 §7.1: a quoted value must conform once unquoted. Returns 0 when it does not.
uint8_t window_bits_value(const ExtensionParam& p) {
    std::string digits;
    for (size_t i = 0; i < p.value.size(); ++i) {
        if (p.quoted && p.value[i] == '\\') ++i; // quoted-pair: the next char stands for itself
        if (i < p.value.size()) digits += p.value[i];
    }
    if (digits.size() == 1 && digits[0] >= '8' && digits[0] <= '9')
        return static_cast<uint8_t>(digits[0] - '0');
    if (digits.size() == 2 && digits[0] == '1' && digits[1] >= '0' && digits[1] <= '5')
        return static_cast<uint8_t>(10 + digits[1] - '0');
    return 0;
}

// What the client asked for, once each parameter has been read and checked.
struct Offered {
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    uint8_t server_max_window_bits = 0; // 0: not offered
    bool client_max_window_bits = false;
    uint8_t client_max_window_value = 15; // 15 when offered without a value
};

}  // namespace

int deflate_param_index(std::string_view name) {
    if (name == "server_no_context_takeover") return 0;
    if (name == "client_no_context_takeover") return 1;
    if (name == "server_max_window_bits") return 2;
    if (name == "client_max_window_bits") return 3;
    return -1;
}

namespace {

// False for a parameter RFC 7692 does not define, a duplicate, or a bad value.
bool read_params(const ExtensionOffer& offer, Offered& o) {
    if (offer.too_many) return false;
    bool seen[4] = {};
    for (uint8_t i = 0; i < offer.count; ++i) {
        const ExtensionParam& p = offer.params[i];
        int k = deflate_param_index(p.name);
        // RFC 7692 §7.1: an unknown parameter or one given twice declines the offer.
        if (k < 0 || seen[k]) return false;
        seen[k] = true;
        if (k <= 1 && p.has_value) return false; // §7.1.1.1/§7.1.1.2: these take no value
        if (k == 0) o.server_no_context_takeover = true;
        if (k == 1) o.client_no_context_takeover = true;
        if (k == 2) {
            // §7.1.2.1: server_max_window_bits requires a value 8..15.
            o.server_max_window_bits = p.has_value ? window_bits_value(p) : 0;
            if (o.server_max_window_bits == 0) return false;
        }
        if (k == 3) {
            // §7.1.2.2: client_max_window_bits with no value, or a value 8..15.
            o.client_max_window_bits = true;
            if (p.has_value) o.client_max_window_value = window_bits_value(p);
            if (o.client_max_window_value == 0) return false;
        }
    }
    return true;
}

void append_param(std::string& answer, std::string_view name, int value = -1) {
    answer += "; ";
    answer += name;
    if (value >= 0) answer += "=" + std::to_string(value);
}

} // namespace

OfferParse next_offer(std::string_view& rest, ExtensionOffer& out) {
    out = ExtensionOffer{};
    // RFC 7230 §7: a list may hold empty elements ("a, , b"); skip them.
    while (true) {
        skip_ows(rest);
        if (rest.empty()) return OfferParse::kEnd;
        if (rest.front() != ',') break;
        rest.remove_prefix(1);
    }
    out.name = take_token(rest);
    if (out.name.empty()) return OfferParse::kSyntaxError;
    while (true) {
        skip_ows(rest);
        if (rest.empty()) return OfferParse::kOffer;
        if (rest.front() == ',') {
            rest.remove_prefix(1);
            return OfferParse::kOffer;
        }
        if (rest.front() != ';') return OfferParse::kSyntaxError;
        rest.remove_prefix(1);
        skip_ows(rest);
        ExtensionParam p;
        if (!take_param(rest, p)) return OfferParse::kSyntaxError;
        if (out.count == ExtensionOffer::kMaxParams) {
            out.too_many = true;
        } else {
            out.params[out.count++] = p;
        }
    }
}

DeflateParams accept_offer(const ExtensionOffer& offer, const DeflateConfig& config,
                           std::string& answer) {
    Offered o;
    if (offer.name != "permessage-deflate" || !read_params(offer, o)) return {};
    const bool shared = config.mode == DeflateMode::kShared;
    DeflateParams p;
    p.enabled = true;
    // §7.1.1.1: a requested server_no_context_takeover MUST be honoured; a server MAY also
    // announce it unrequested, which shared mode does (one compressor for the whole loop).
    p.server_no_context_takeover = o.server_no_context_takeover || shared;
    // §7.1.1.2: the server MAY answer client_no_context_takeover even if the client did not
    // offer it; the client then must reset its compressor after each message.
    p.client_no_context_takeover = o.client_no_context_takeover || shared;
    // §7.1.2.1: answer server_max_window_bits only if offered, with a value <= the offer's;
    // without it our window is ours to choose (any window inflates with a 32 KiB one).
    p.server_window_bits = config.window_bits;
    if (o.server_max_window_bits != 0)
        p.server_window_bits = std::min(config.window_bits, o.server_max_window_bits);
    // §7.1.2.2: client_max_window_bits may be answered only if offered (then <= its value);
    // dedicated mode asks for at most our window to bound its per-connection decompressor.
    p.client_window_bits = 15;
    if (o.client_max_window_bits) {
        p.client_window_bits = o.client_max_window_value;
        if (!shared) p.client_window_bits = std::min(p.client_window_bits, config.window_bits);
    }
    answer = "permessage-deflate";
    if (p.server_no_context_takeover) append_param(answer, "server_no_context_takeover");
    if (p.client_no_context_takeover) append_param(answer, "client_no_context_takeover");
    if (o.server_max_window_bits != 0)
        append_param(answer, "server_max_window_bits", p.server_window_bits);
    if (o.client_max_window_bits && (!shared || o.client_max_window_value != 15))
        append_param(answer, "client_max_window_bits", p.client_window_bits);
    return p;
}

DeflateParams negotiate_deflate(std::string_view header, const DeflateConfig& config,
                                std::string& answer) {
    ExtensionField field;
    field.lines[0] = header;
    field.count = 1;
    return negotiate_deflate(field, config, answer);
}

DeflateParams negotiate_deflate(const ExtensionField& field, const DeflateConfig& config,
                                std::string& answer) {
    answer.clear();
    if (config.mode == DeflateMode::kOff || field.too_many) return {};
    ExtensionOffer offer;
    // A garbled line anywhere declines everything: decline, do not guess.
    for (uint8_t i = 0; i < field.count; ++i) {
        std::string_view rest = field.lines[i];
        OfferParse r = OfferParse::kOffer;
        while ((r = next_offer(rest, offer)) == OfferParse::kOffer) {
        }
        if (r == OfferParse::kSyntaxError) return {};
    }
    // RFC 7692 §5: offers in the client's order of preference, line after line.
    for (uint8_t i = 0; i < field.count; ++i) {
        std::string_view rest = field.lines[i];
        while (next_offer(rest, offer) == OfferParse::kOffer) {
            DeflateParams p = accept_offer(offer, config, answer);
            if (p.enabled) return p;
        }
    }
    answer.clear();
    return {};
}

} // namespace epws::ws
