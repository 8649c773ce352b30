// ws/shared_buffer.h: bytes on the heap with a reference count, which connections queue by
// reference when they cannot send them at once. Layer: ws/.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "net/shared_bytes.h"

namespace epws::ws {

// Bytes on the heap with a reference count: a compressed copy that many slow recipients may
// queue by reference. Starts with one reference, its maker's.
// A compressed copy of a broadcast, a cached static file: sent to many, held once.
class SharedBuffer final : public net::SharedBytes {
public:
    static SharedBuffer* make(std::span<const std::byte> bytes);  // nullptr: out of memory
    std::span<const std::byte> bytes() const { return {data(), size_}; }
    void retain() override {
        // relaxed: the caller holds a reference already (see chat/ring_entry.h).
        refs_.fetch_add(1, std::memory_order_relaxed);
    }
    void release() override;

private:
    SharedBuffer() = default;
    const std::byte* data() const { return reinterpret_cast<const std::byte*>(this + 1); }
    std::atomic<uint32_t> refs_{1};
    size_t size_ = 0;
};

// One reference to a SharedBuffer (or none), copied by taking another: what a cache entry or an
// HTTP reply holds.
class SharedBufferRef {
public:
    SharedBufferRef() = default;
    explicit SharedBufferRef(SharedBuffer* adopted) : p_(adopted) {}  // takes that reference
    SharedBufferRef(const SharedBufferRef& o) : p_(o.p_) {
        if (p_) p_->retain();
    }
    SharedBufferRef(SharedBufferRef&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
    SharedBufferRef& operator=(SharedBufferRef o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    ~SharedBufferRef() {
        if (p_) p_->release();
    }
    explicit operator bool() const { return p_ != nullptr; }
    SharedBuffer* get() const { return p_; }
    std::span<const std::byte> bytes() const { return p_ ? p_->bytes() : std::span<const std::byte>{}; }
    size_t size() const { return bytes().size(); }

private:
    SharedBuffer* p_ = nullptr;
};

}  // namespace epws::ws
