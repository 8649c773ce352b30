// bench/ring/ring_bench.cc: the broadcast ring alone, against a mutex-and-deque baseline with
// the same broadcast semantics, in one run. Prints one table row and one JSON line per case.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chat/broadcast_ring.h"

namespace {

struct Item {
    uint64_t value;
};

// The baseline: one lock around a deque; each consumer keeps its own index; the front is
// trimmed once every consumer has passed it.
class LockedQueue {
public:
    explicit LockedQueue(size_t consumers) : next_(consumers, 0) {}
    bool try_publish(Item* it, size_t capacity) {
        std::lock_guard<std::mutex> lock(mu_);
        if (items_.size() >= capacity) return false;
        items_.push_back(it);
        return true;
    }
    template <class F>
    size_t consume(size_t c, F&& f) {
        std::lock_guard<std::mutex> lock(mu_);
        size_t n = 0;
        while (next_[c] - base_ < items_.size()) {
            f(items_[next_[c] - base_]);
            ++next_[c];
            ++n;
        }
        uint64_t min = next_[0];
        for (uint64_t v : next_) min = v < min ? v : min;
        while (base_ < min) {
            items_.pop_front();
            ++base_;
        }
        return n;
    }

private:
    std::mutex mu_;
    std::deque<Item*> items_;
    std::vector<uint64_t> next_;
    uint64_t base_ = 0;
};

template <class Q, class Publish>
double run(Q& q, size_t producers, size_t consumers, uint64_t per_producer, Publish publish) {
    std::vector<Item> items(producers * per_producer);
    std::vector<std::thread> threads;
    std::atomic<uint64_t> checksum{0};
    auto start = std::chrono::steady_clock::now();
    for (size_t c = 0; c < consumers; ++c) {
        threads.emplace_back([&, c] {
            uint64_t seen = 0, sum = 0;
            while (seen < items.size()) {
                size_t n = q.consume(c, [&](Item* it) { sum += it->value; });
                if (n == 0) std::this_thread::yield();
                seen += n;
            }
            checksum.fetch_add(sum);
        });
    }
    for (size_t p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            for (uint64_t i = 0; i < per_producer; ++i) {
                Item* it = &items[p * per_producer + i];
                it->value = i;
                while (!publish(it)) std::this_thread::yield();
            }
        });
    }
    for (auto& t : threads) t.join();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    uint64_t expect = consumers * producers * (per_producer * (per_producer - 1) / 2);
    if (checksum.load() != expect) {
        std::fprintf(stderr, "ring_bench: checksum mismatch: a message was lost or repeated\n");
        std::exit(2);
    }
    return static_cast<double>(items.size()) / secs;
}

}  // namespace

int main(int argc, char** argv) {
    uint64_t per_producer = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 500000;
    constexpr size_t kCapacity = 4096;
    std::printf("%-8s %-10s %-10s %14s %14s %8s\n", "threads", "producers", "consumers",
                "ring msg/s", "mutex msg/s", "ratio");
    const size_t shapes[][2] = {{1, 1}, {1, 2}, {2, 2}, {2, 4}};
    for (auto& shape : shapes) {
        size_t p = shape[0], c = shape[1];
        epws::chat::BroadcastRing<Item> ring(kCapacity, c);
        double ring_rate = run(ring, p, c, per_producer, [&](Item* it) { return ring.try_publish(it); });
        LockedQueue locked(c);
        double lock_rate =
            run(locked, p, c, per_producer, [&](Item* it) { return locked.try_publish(it, kCapacity); });
        std::printf("%-8zu %-10zu %-10zu %14.0f %14.0f %7.2fx\n", p + c, p, c, ring_rate, lock_rate,
                    ring_rate / lock_rate);
        std::printf("{\"bench\":\"ring\",\"producers\":%zu,\"consumers\":%zu,\"ring_msgs_per_s\":%.0f,"
                    "\"mutex_msgs_per_s\":%.0f}\n", p, c, ring_rate, lock_rate);
    }
    return 0;
}
