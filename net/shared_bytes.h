// net/shared_bytes.h: bytes that many connections send, kept alive by a reference count their
// owner implements. Layer: net/.
#pragma once

namespace epws::net {

// A connection that cannot write such bytes at once queues a reference, not a copy: a broadcast
// waiting for a thousand slow readers is held once. retain() and release() may be called from
// the connection's loop thread while other threads hold references too.
class SharedBytes {
public:
    virtual void retain() = 0;
    virtual void release() = 0;

protected:
    ~SharedBytes() = default;  // released, never deleted through this interface
};

}  // namespace epws::net
