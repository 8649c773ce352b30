// bench/histogram.h: a log-linear latency histogram in the manner of HdrHistogram. Layer: bench/.
// Recording is O(1) with no allocation, percentiles walk ~2,300 buckets: no sorting of samples.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace epws::bench {

// Values are nanoseconds (any unit works). Below 128 each value has its own bucket; above, each
// power of two is split into 64 linear sub-buckets, so a reported value is within 1/64 (1.6%)
// above the true one. Values past 2^41 (~37 minutes in ns) land in the last bucket.
class Histogram {
public:
    static constexpr unsigned kSubBits = 7;
    static constexpr uint64_t kSub = 1u << kSubBits;  // 128 exact buckets
    static constexpr uint64_t kHalf = kSub / 2;       // 64 sub-buckets per power of two
    static constexpr unsigned kMaxShift = 35;
    static constexpr size_t kBuckets = kSub + kMaxShift * kHalf;

    void record(uint64_t value) {
        ++counts_[index_of(value)];
        ++count_;
        sum_ += value;
        if (value > max_) max_ = value;
        if (value < min_) min_ = value;
    }
    void merge(const Histogram& other);
    void reset() { *this = Histogram{}; }

    uint64_t count() const { return count_; }
    uint64_t max() const { return count_ ? max_ : 0; }
    uint64_t min() const { return count_ ? min_ : 0; }
    double mean() const { return count_ ? double(sum_) / double(count_) : 0.0; }
    // The smallest recorded value v such that a fraction q (0..1] of samples are <= v, reported
    // as the highest value of its bucket (HdrHistogram's "highest equivalent value") and never
    // above the exact maximum. 0 when empty.
    uint64_t percentile(double q) const;

    static size_t index_of(uint64_t value);
    static uint64_t highest_in_bucket(size_t index);

private:
    std::array<uint64_t, kBuckets> counts_{};
    uint64_t count_ = 0;
    uint64_t sum_ = 0;
    uint64_t max_ = 0;
    uint64_t min_ = UINT64_MAX;
};

}  // namespace epws::bench
