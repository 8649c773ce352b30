// ws/utf8.cc: the UTF-8 DFA behind Utf8Validator.
// Layer: ws/. States and byte classes follow the well-formed byte sequence table of RFC 3629 §4
// (the same table as Unicode 15 Table 3-7).
#include "ws/utf8.h"

#include <array>
#include <cstring>

namespace epws::ws {
namespace {

// Byte classes: every byte with the same class moves the DFA the same way.
enum Class : uint8_t {
    kAscii,    // 00..7F
    kCont80,   // 80..8F  continuation, low
    kCont90,   // 90..9F  continuation, middle
    kContA0,   // A0..BF  continuation, high
    kNever,    // C0, C1 (only overlong 2-byte forms), F5..FF (above U+10FFFF or 5/6-byte forms)
    kLead2,    // C2..DF
    kLeadE0,   // E0: second byte A0..BF, else overlong
    kLead3,    // E1..EC, EE, EF
    kLeadED,   // ED: second byte 80..9F, else a surrogate U+D800..DFFF
    kLeadF0,   // F0: second byte 90..BF, else overlong
    kLead4,    // F1..F3
    kLeadF4,   // F4: second byte 80..8F, else above U+10FFFF
    kClasses,
};

struct ClassRange {
    uint8_t first;
    uint8_t last;
    Class cls;
};

// Bytes not listed (C0, C1, F5..FF) are kNever.
constexpr ClassRange kRanges[] = {
    {0x00, 0x7F, kAscii},  {0x80, 0x8F, kCont80}, {0x90, 0x9F, kCont90}, {0xA0, 0xBF, kContA0},
    {0xC2, 0xDF, kLead2},  {0xE0, 0xE0, kLeadE0}, {0xE1, 0xEC, kLead3},  {0xED, 0xED, kLeadED},
    {0xEE, 0xEF, kLead3},  {0xF0, 0xF0, kLeadF0}, {0xF1, 0xF3, kLead4},  {0xF4, 0xF4, kLeadF4},
};

constexpr std::array<uint8_t, 256> make_classes() {
    std::array<uint8_t, 256> c{};
    c.fill(kNever);
    for (const ClassRange& r : kRanges) {
        for (size_t b = r.first; b <= r.last; ++b) c[b] = r.cls;
    }
    return c;
}
constexpr std::array<uint8_t, 256> kClassOf = make_classes();

// States. kOk is 0 so a zero-initialised validator is between characters.
enum State : uint8_t {
    kOk,      // between characters
    kNeed1,   // one continuation byte (80..BF) left
    kNeed2,   // two left
    kNeed3,   // three left
    kAfterE0, // next must be A0..BF, then one more
    kAfterED, // next must be 80..9F, then one more
    kAfterF0, // next must be 90..BF, then two more
    kAfterF4, // next must be 80..8F, then two more
    kBad,     // invalid; sticky
    kStates,
};

constexpr uint8_t X = kBad;
// kNext[state][class]; columns in Class order:
//   Ascii Cont80 Cont90 ContA0 Never  Lead2  LeadE0   Lead3  LeadED   LeadF0   Lead4  LeadF4
constexpr uint8_t kNext[kStates][kClasses] = {
    {kOk, X, X, X, X, kNeed1, kAfterE0, kNeed2, kAfterED, kAfterF0, kNeed3, kAfterF4},  // kOk
    {X, kOk, kOk, kOk, X, X, X, X, X, X, X, X},                                        // kNeed1
    {X, kNeed1, kNeed1, kNeed1, X, X, X, X, X, X, X, X},                               // kNeed2
    {X, kNeed2, kNeed2, kNeed2, X, X, X, X, X, X, X, X},                               // kNeed3
    {X, X, X, kNeed1, X, X, X, X, X, X, X, X},                                         // kAfterE0
    {X, kNeed1, kNeed1, X, X, X, X, X, X, X, X, X},                                    // kAfterED
    {X, X, kNeed2, kNeed2, X, X, X, X, X, X, X, X},                                    // kAfterF0
    {X, kNeed2, X, X, X, X, X, X, X, X, X, X},                                         // kAfterF4
    {X, X, X, X, X, X, X, X, X, X, X, X},                                              // kBad
};

// Eight bytes with no high bit set are eight ASCII characters.
bool all_ascii8(const std::byte* p) {
    uint64_t w = 0;
    std::memcpy(&w, p, 8);
    return (w & 0x8080808080808080ull) == 0;
}

// And four.
bool all_ascii4(const std::byte* p) {
    uint32_t w = 0;
    std::memcpy(&w, p, 4);
    return (w & 0x80808080u) == 0;
}

}  // namespace

bool Utf8Validator::feed(const std::byte* p, size_t n) {
    uint8_t s = state_;
    if (s == kBad) return false;
    size_t i = 0;
    while (i < n) {
        if (s == kOk) {
            // Between characters: skip runs of ASCII a word at a time (most text is ASCII).
            while (n - i >= 8 && all_ascii8(p + i)) i += 8;
            if (n - i >= 4 && all_ascii4(p + i)) i += 4;
            if (i == n) break;
        }
        s = kNext[s][kClassOf[static_cast<uint8_t>(p[i])]];
        ++i;
        if (s == kBad) {
            state_ = s;
            return false;
        }
    }
    state_ = s;
    return true;
}

bool is_valid_utf8(const std::byte* p, size_t n) {
    Utf8Validator v;
    return v.feed(p, n) && v.complete();
}

}  // namespace epws::ws
