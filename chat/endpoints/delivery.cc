// chat/endpoints/delivery.cc: drain, group, and one write per recipient per round.
// Layer: chat/.
#include "chat/endpoints/delivery.h"

#include <algorithm>

namespace epws::chat {
namespace {

constexpr int kMaxIov = 1024;  // IOV_MAX on Linux

uint64_t group_key(const RingEntry& e) {
    return (static_cast<uint64_t>(e.topic) << 32) | e.target;
}

// Sends frames in writes of at most kMaxIov pieces. sums(i, j): payload bytes of frames [i, j).
template <class Sums>
net::SendStatus send_in_writes(ws::ServerConnection& to, const iovec* frames,
                               net::SharedBytes* const* owners, size_t count, Sums&& sums) {
    net::SendStatus s = net::SendStatus::kSent;
    for (size_t i = 0; i < count; i += kMaxIov) {
        size_t n = std::min<size_t>(kMaxIov, count - i);
        s = to.send_frames(frames + i, static_cast<int>(n), sums(i, i + n), owners + i);
        if (s == net::SendStatus::kDropped) return s;
    }
    return s;
}

}  // namespace

void Group::reset(std::span<RingEntry* const> entries) {
    entries_ = entries;
    frames_.clear();
    owners_.clear();
    payload_sums_.assign(1, 0);
    for (RingEntry* e : entries) {
        auto f = e->frame();
        frames_.push_back({const_cast<std::byte*>(f.data()), f.size()});  // only ever read
        owners_.push_back(e);
        payload_sums_.push_back(payload_sums_.back() + e->payload_size());
    }
    shared_.clear();
    shared_.resize(entries.size());
}

net::SendStatus Group::send_compressed(ws::ServerConnection& to, size_t i) {
    auto& m = shared_[i];
    if (!m) {
        const RingEntry& e = *entries_[i];
        m = std::make_unique<ws::SharedMessage>(e.opcode, e.frame(), e.payload_offset,
                                                entries_[i]);
    }
    return m->send_to(to);
}

net::SendStatus Group::send_from(ws::ServerConnection& to, size_t first) {
    if (to.deflate_params().enabled) {
        net::SendStatus s = net::SendStatus::kSent;
        for (size_t i = first; i < entries_.size() && s != net::SendStatus::kDropped; ++i)
            s = send_compressed(to, i);
        return s;
    }
    return send_in_writes(to, frames_.data() + first, owners_.data() + first, entries_.size() - first,
                          [&](size_t a, size_t b) {
        return payload_sums_[first + b] - payload_sums_[first + a];
    });
}

net::SendStatus Group::send_some(ws::ServerConnection& to, std::span<const uint32_t> which) {
    if (to.deflate_params().enabled) {
        net::SendStatus s = net::SendStatus::kSent;
        for (size_t k = 0; k < which.size() && s != net::SendStatus::kDropped; ++k)
            s = send_compressed(to, which[k]);
        return s;
    }
    some_.clear();
    some_owners_.clear();
    for (uint32_t i : which) {
        some_.push_back(frames_[i]);
        some_owners_.push_back(owners_[i]);
    }
    return send_in_writes(to, some_.data(), some_owners_.data(), some_.size(), [&](size_t a, size_t b) {
        size_t sum = 0;
        for (size_t k = a; k < b; ++k) sum += entries_[which[k]]->payload_size();
        return sum;
    });
}

Delivery::~Delivery() {
    for (RingEntry* e : batch_) e->release();
}

size_t Delivery::drain() {
    size_t n = bus_.drain(loop_, batch_, kBatch);
    if (n == 0) return 0;
    // One group per recipient set (the broadcast, a room, a user), each in bus order, so every
    // recipient gets one write per round whatever the number of messages.
    std::stable_sort(batch_.begin(), batch_.end(), [](const RingEntry* a, const RingEntry* b) {
        return group_key(*a) < group_key(*b);
    });
    for (size_t begin = 0; begin < batch_.size();) {
        size_t end = begin + 1;
        while (end < batch_.size() && group_key(*batch_[end]) == group_key(*batch_[begin])) ++end;
        if (TopicSink* sink = sinks_[static_cast<size_t>(batch_[begin]->topic)]) {
            group_.reset(std::span<RingEntry* const>(batch_).subspan(begin, end - begin));
            sink->deliver(group_);
        }
        begin = end;
    }
    for (RingEntry* e : batch_) e->release();
    batch_.clear();
    return n;
}

}  // namespace epws::chat
