// bench/histogram.cc: bucket arithmetic and percentiles of the latency histogram. Layer: bench/.
#include "bench/histogram.h"

#include <bit>
#include <cmath>

namespace epws::bench {

size_t Histogram::index_of(uint64_t value) {
    if (value < kSub) return static_cast<size_t>(value);
    // shift >= 1 makes value >> shift land in [64, 128): the top 7 bits of the value.
    auto shift = static_cast<unsigned>(std::bit_width(value)) - kSubBits;
    if (shift > kMaxShift) return kBuckets - 1;
    uint64_t mantissa = value >> shift;
    return static_cast<size_t>(kSub + (shift - 1) * kHalf + (mantissa - kHalf));
}

uint64_t Histogram::highest_in_bucket(size_t index) {
    if (index < kSub) return index;
    size_t rel = index - kSub;
    auto shift = static_cast<unsigned>(rel / kHalf + 1);
    uint64_t mantissa = rel % kHalf + kHalf;
    return ((mantissa + 1) << shift) - 1;
}

void Histogram::merge(const Histogram& other) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    if (other.count_ && other.max_ > max_) max_ = other.max_;
    if (other.count_ && other.min_ < min_) min_ = other.min_;
}

uint64_t Histogram::percentile(double q) const {
    if (count_ == 0) return 0;
    if (q >= 1.0) return max_;
    auto rank = static_cast<uint64_t>(std::ceil(q * double(count_)));
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            uint64_t v = highest_in_bucket(i);
            return v < max_ ? v : max_;
        }
    }
    return max_;
}

}  // namespace epws::bench
