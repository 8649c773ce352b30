// chat/endpoints/outbox.cc: refused publications, kept in order and retried. Layer: chat/.
#include "chat/endpoints/outbox.h"

namespace epws::chat {
namespace {

// An entry framed already (a broadcast, a direct message, a presence notice).
class EntryPublication final : public Publication {
public:
    explicit EntryPublication(RingEntry* e) : e_(e) {}
    ~EntryPublication() override {
        if (e_) e_->release();
    }
    bool try_publish(Bus& bus) override {
        if (!bus.publish(e_)) return false;
        e_ = nullptr;  // the bus has our reference now
        return true;
    }

private:
    RingEntry* e_;
};

}  // namespace

Outbox::~Outbox() = default;

bool Outbox::publish(RingEntry* e) {
    // Only when the bus refuses is anything kept (in order, behind what already waits).
    if (pending_.empty() && bus_.publish(e)) return true;
    return publish(std::make_unique<EntryPublication>(e));
}

bool Outbox::publish(std::unique_ptr<Publication> p) {
    if (pending_.empty() && p->try_publish(bus_)) return true;
    if (pending_.size() >= kMaxPending) return false;
    pending_.push_back(std::move(p));
    return true;
}

void Outbox::retry() {
    while (!pending_.empty()) {
        if (!pending_.front()->try_publish(bus_)) return;
        pending_.pop_front();
    }
}

}  // namespace epws::chat
