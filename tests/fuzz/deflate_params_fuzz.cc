// tests/fuzz/deflate_params_fuzz.cc: libFuzzer target for the permessage-deflate negotiation
// (ws/deflate_params: next_offer, accept_offer, negotiate_deflate). Layer: tests/.
//
// Input: [seed lo][seed hi][config] then a Sec-WebSocket-Extensions value. The header is
// negotiated whole, and split into its offers (each negotiated alone, and the offers written
// back out in a canonical form): the answers must agree, and an answer may only hold what the
// offer it accepts allowed (RFC 7692 §7.1).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/fuzz_common.h"
#include "ws/deflate.h"
#include "ws/deflate_params.h"

using namespace epws::ws;

namespace {

// RFC 7692 §7.1.2: a window size is a decimal integer 8..15 without leading zeroes; a quoted
// value must be that once its quoted-pairs are undone (RFC 6455 §9.1). nullopt otherwise.
std::optional<int> strict_window_bits(const ExtensionParam& p) {
    std::string v;
    for (size_t i = 0; i < p.value.size(); ++i) {
        if (p.quoted && p.value[i] == '\\' && i + 1 < p.value.size()) ++i;
        v += p.value[i];
    }
    if (v.empty() || v.size() > 2 || v[0] == '0') return std::nullopt;
    int n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    if (n < 8 || n > 15) return std::nullopt;
    return n;
}

struct Allowed {
    bool server_nct = false, client_nct = false;
    std::optional<int> server_max;  // offered server_max_window_bits
    bool client_max = false;        // offered client_max_window_bits
    int client_max_value = 15;
};

// Reads an offer independently of the product's read_params. nullopt: RFC 7692 says decline.
std::optional<Allowed> interpret(const ExtensionOffer& offer) {
    if (offer.name != "permessage-deflate" || offer.too_many) return std::nullopt;
    Allowed a;
    bool seen[4] = {};
    for (uint8_t i = 0; i < offer.count; ++i) {
        const ExtensionParam& p = offer.params[i];
        int k = p.name == "server_no_context_takeover"   ? 0
                : p.name == "client_no_context_takeover" ? 1
                : p.name == "server_max_window_bits"     ? 2
                : p.name == "client_max_window_bits"     ? 3
                                                         : -1;
        if (k < 0 || seen[k]) return std::nullopt;
        seen[k] = true;
        if (k == 0 || k == 1) {
            if (p.has_value) return std::nullopt;
            (k == 0 ? a.server_nct : a.client_nct) = true;
        } else if (k == 2) {
            if (!p.has_value) return std::nullopt;
            a.server_max = strict_window_bits(p);
            if (!a.server_max) return std::nullopt;
        } else {
            a.client_max = true;
            if (p.has_value) {
                auto v = strict_window_bits(p);
                if (!v) return std::nullopt;
                a.client_max_value = *v;
            }
        }
    }
    return a;
}

// The answer holds only parameters the accepted offer allowed, and says what params says.
void check_answer(const std::string& answer, const DeflateParams& p, const Allowed& a,
                  const DeflateConfig& config) {
    std::string_view rest = answer;
    ExtensionOffer reply;
    FUZZ_CHECK(next_offer(rest, reply) == OfferParse::kOffer);
    FUZZ_CHECK(next_offer(rest, reply) == OfferParse::kEnd);
    rest = answer;
    next_offer(rest, reply);
    FUZZ_CHECK(reply.name == "permessage-deflate" && !reply.too_many);
    bool server_nct = false, client_nct = false;
    std::optional<int> server_bits, client_bits;
    for (uint8_t i = 0; i < reply.count; ++i) {
        const ExtensionParam& q = reply.params[i];
        if (q.name == "server_no_context_takeover") {
            FUZZ_CHECK(!q.has_value && !server_nct);
            server_nct = true;
        } else if (q.name == "client_no_context_takeover") {
            FUZZ_CHECK(!q.has_value && !client_nct);
            client_nct = true;
        } else if (q.name == "server_max_window_bits") {
            FUZZ_CHECK(q.has_value && !server_bits);
            server_bits = strict_window_bits(q);
            FUZZ_CHECK(server_bits.has_value());
        } else if (q.name == "client_max_window_bits") {
            FUZZ_CHECK(q.has_value && !client_bits);
            client_bits = strict_window_bits(q);
            FUZZ_CHECK(client_bits.has_value());
        } else {
            FUZZ_CHECK(!"an answer parameter RFC 7692 does not define");
        }
    }
    // §7.1.1.1: a requested server_no_context_takeover must be answered.
    if (a.server_nct) FUZZ_CHECK(server_nct);
    FUZZ_CHECK(server_nct == p.server_no_context_takeover);
    FUZZ_CHECK(client_nct == p.client_no_context_takeover);
    // §7.1.2.1: server_max_window_bits answered only if offered, and then at most the offer.
    if (server_bits) FUZZ_CHECK(a.server_max && *server_bits <= *a.server_max);
    if (a.server_max) FUZZ_CHECK(server_bits && *server_bits == p.server_window_bits);
    FUZZ_CHECK(p.server_window_bits <= config.window_bits);
    if (a.server_max) FUZZ_CHECK(p.server_window_bits <= *a.server_max);
    // §7.1.2.2: client_max_window_bits answered only if offered, and then at most the offer.
    if (client_bits) FUZZ_CHECK(a.client_max && *client_bits <= a.client_max_value);
    if (client_bits) FUZZ_CHECK(*client_bits == p.client_window_bits);
    FUZZ_CHECK(p.client_window_bits >= 8 && p.client_window_bits <= 15);
    FUZZ_CHECK(p.server_window_bits >= 8 && p.server_window_bits <= 15);
    // Without an answered client window the client may use 15, so we must inflate with 15.
    if (!client_bits) FUZZ_CHECK(p.client_window_bits == 15);
    // The agreed decompressor window can be set up.
    Inflater inflater;
    FUZZ_CHECK(inflater.init(p.client_window_bits, nullptr));
}

// An offer written back out canonically: name; param[=value] ..., quoted values quoted again.
std::string canonical(const ExtensionOffer& o) {
    std::string s(o.name);
    for (uint8_t i = 0; i < o.count; ++i) {
        s += "; ";
        s += o.params[i].name;
        if (!o.params[i].has_value) continue;
        s += '=';
        if (o.params[i].quoted) s += '"';
        s += o.params[i].value;
        if (o.params[i].quoted) s += '"';
    }
    return s;
}

bool same(const DeflateParams& a, const DeflateParams& b) {
    return a.enabled == b.enabled && a.server_no_context_takeover == b.server_no_context_takeover &&
           a.client_no_context_takeover == b.client_no_context_takeover &&
           a.server_window_bits == b.server_window_bits &&
           a.client_window_bits == b.client_window_bits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    epws::fuzz::Input in(data, size);
    epws::fuzz::Rng rng(in.u16());
    const uint8_t flags = in.byte();
    DeflateConfig config;
    config.mode = static_cast<DeflateMode>(flags % 3);
    config.window_bits = static_cast<uint8_t>(9 + (flags >> 2) % 7);
    const auto rest = in.rest();
    const std::string header(reinterpret_cast<const char*>(rest.data()), rest.size());

    std::string answer;
    const DeflateParams p = negotiate_deflate(header, config, answer);
    FUZZ_CHECK(p.enabled == !answer.empty());
    if (config.mode == DeflateMode::kOff) FUZZ_CHECK(!p.enabled);

    // The offers one by one: the first one accept_offer takes is the one negotiate_deflate took.
    std::vector<std::string> offers;
    std::string_view r = header;
    ExtensionOffer offer;
    OfferParse status;
    bool found = false;
    while ((status = next_offer(r, offer)) == OfferParse::kOffer) {
        FUZZ_CHECK(!offer.name.empty() && offer.count <= ExtensionOffer::kMaxParams);
        offers.push_back(canonical(offer));
        if (found || config.mode == DeflateMode::kOff) continue;
        std::string one;
        DeflateParams q = accept_offer(offer, config, one);
        const auto allowed = interpret(offer);
        // accept_offer declines exactly the offers RFC 7692 says to decline.
        FUZZ_CHECK(q.enabled == allowed.has_value());
        if (!q.enabled) continue;
        check_answer(one, q, *allowed, config);
        if (status == OfferParse::kOffer) found = true;
        // The whole header is declined on a syntax error anywhere; checked below.
        if (p.enabled) FUZZ_CHECK(same(p, q) && one == answer);
    }
    if (status == OfferParse::kSyntaxError) {
        FUZZ_CHECK(!p.enabled);
        return 0;
    }
    FUZZ_CHECK(p.enabled == found);
    // The same offers written canonically, joined in random list syntax, negotiate the same.
    std::string rebuilt;
    for (const std::string& o : offers) {
        rebuilt += rng.next() % 2 ? ", " : " ,\t, ";
        rebuilt += o;
    }
    std::string answer2;
    const DeflateParams p2 = negotiate_deflate(rebuilt, config, answer2);
    FUZZ_CHECK(same(p, p2) && answer == answer2);
    return 0;
}
