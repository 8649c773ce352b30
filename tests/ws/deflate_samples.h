// tests/ws/deflate_samples.h: the byte helpers and the seeded compressible text that the
// deflate tests share (deflate_test.cc, one_shot_deflate_test.cc). Layer: tests/.
#pragma once

#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace epws::test {

using Bytes = std::vector<std::byte>;

inline Bytes bytes(std::initializer_list<int> v) {
    Bytes out;
    for (int x : v)
        out.push_back(static_cast<std::byte>(x));
    return out;
}

inline Bytes text(std::string_view s) {
    Bytes out(s.size());
    if (!s.empty()) std::memcpy(out.data(), s.data(), s.size());
    return out;
}

// Compressible but not trivial: words from a small vocabulary, seeded.
inline Bytes sample(size_t n, unsigned seed) {
    static const char* words[] = {"alpha ", "beta ", "gamma ", "delta ", "epsilon ", "zeta "};
    std::mt19937 rng(seed);
    std::string s;
    while (s.size() < n)
        s += words[rng() % 6];
    s.resize(n);
    return text(s);
}

}  // namespace epws::test
