// ws/utf8.h: incremental UTF-8 validator (RFC 3629 §4 well-formed sequences) for text frames.
// Layer: ws/. RFC 6455 §8.1: a text message that is not valid UTF-8 fails the connection (1007).
#pragma once

#include <cstddef>
#include <cstdint>

namespace epws::ws {

// Validates a byte stream fed in pieces of any size: a character may straddle two feeds, two
// frames or two reads. A byte-class table plus a 9-state DFA; one byte of state, so it lives in
// every connection's reader at no cost. Not thread-safe; one per stream.
class Utf8Validator {
public:
    // Feeds p[0..n). Returns false as soon as a byte makes the text invalid, even in the middle
    // of a sequence: E0 80 (overlong), ED A0 (surrogate), F4 90 (above U+10FFFF), C0, C1 and
    // F5..FF fail at that very byte. Once false, every later feed returns false until reset().
    // Runs 8 ASCII bytes at a time between multi-byte sequences. Keeps no pointer to p.
    bool feed(const std::byte* p, size_t n);
    // True when no multi-byte sequence is left open and nothing invalid was seen: check it at the
    // end of a message (a sequence cut by the end of the message is invalid).
    bool complete() const { return state_ == 0; }
    // Forgets everything fed; ready for a new message.
    void reset() { state_ = 0; }

private:
    uint8_t state_ = 0;  // a DFA state (utf8.cc); 0 = between characters
};

// The whole of p[0..n) is valid UTF-8 (no sequence left open at the end).
bool is_valid_utf8(const std::byte* p, size_t n);

}  // namespace epws::ws
