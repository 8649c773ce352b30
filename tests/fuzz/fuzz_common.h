// tests/fuzz/fuzz_common.h: what every libFuzzer target shares: the input's control prefix, the
// deterministic chunk splitter, and an invariant check that aborts with a message. Layer: tests/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

// An invariant that must hold for every input. Unlike assert() it is never compiled out, and it
// names the broken rule, so a crash report says what went wrong and not only where.
#define FUZZ_CHECK(cond)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            std::fprintf(stderr, "fuzz invariant broken: %s (%s:%d)\n", #cond, __FILE__,      \
                         __LINE__);                                                           \
            std::abort();                                                                     \
        }                                                                                     \
    } while (0)

namespace epws::fuzz {

// splitmix64: tiny, fast and good enough to pick split points; seeded from the input itself, so a
// crashing input replays the same chunks.
class Rng {
public:
    explicit Rng(uint64_t seed) : s_(seed) {}
    uint64_t next() {
        uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform-ish in [lo, hi].
    size_t between(size_t lo, size_t hi) { return lo + static_cast<size_t>(next() % (hi - lo + 1)); }

private:
    uint64_t s_;
};

// The first bytes of every input steer the run (split seed, limits, roles); the rest is the data.
// Reading past the end gives zeros, so short inputs are still valid.
class Input {
public:
    Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
    uint16_t u16() { return static_cast<uint16_t>(byte() | (byte() << 8)); }
    std::span<const uint8_t> rest() const {
        return pos_ < size_ ? std::span<const uint8_t>(data_ + pos_, size_ - pos_)
                            : std::span<const uint8_t>();
    }

private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

// Chunk sizes adding up to n: mostly small (1..16 bytes, where header and UTF-8 boundaries fall),
// sometimes larger, the way reads split a TCP stream.
inline std::vector<size_t> random_chunks(size_t n, uint64_t seed) {
    Rng rng(seed * 0x2545F4914F6CDD1Dull + 1);
    std::vector<size_t> sizes;
    while (n > 0) {
        size_t max = rng.next() % 4 == 0 ? 512 : 16;
        size_t c = rng.between(1, max < n ? max : n);
        sizes.push_back(c);
        n -= c;
    }
    return sizes;
}

inline std::vector<size_t> whole(size_t n) { return n ? std::vector<size_t>{n} : std::vector<size_t>{}; }

inline std::vector<size_t> byte_by_byte(size_t n) { return std::vector<size_t>(n, 1); }

// A heap block of exactly n bytes, so ASan flags a read one byte past what a parser was given
// (a vector's spare capacity would hide it).
struct ExactBuffer {
    explicit ExactBuffer(size_t n) : size(n), bytes(new std::byte[n ? n : 1]) {}
    size_t size;
    std::unique_ptr<std::byte[]> bytes;
    std::byte* data() { return bytes.get(); }
    std::span<std::byte> span() { return {bytes.get(), size}; }
};

}  // namespace epws::fuzz
