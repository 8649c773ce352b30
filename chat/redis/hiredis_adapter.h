// chat/redis/hiredis_adapter.h: plugs a hiredis asynchronous context (hiredis/async.h) into
// our edge-triggered net::Loop, through hiredis' event hooks (ev.addRead, delRead, addWrite,
// delWrite, cleanup). Layer: chat/ (the only file that joins hiredis' I/O to net/).
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/watcher.h"

struct redisAsyncContext;

namespace epws::net {
class Loop;
}

namespace epws::chat {

// The fd is registered once, EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP (docs/redis.md says why
// edge-triggered works with hiredis), and the hooks only flip flags:
//  - reading: redisAsyncHandleRead() reads once (16 KiB) per call, so under EPOLLET it is
//    called again while FIONREAD says bytes are waiting, which is "until EAGAIN";
//  - writing: hiredis asks for it (addWrite) from inside redisAsyncCommand(), where calling
//    back into hiredis is not safe, so the owner calls flush() from its before-wait hook. A
//    write that leaves bytes behind filled the socket buffer; the next EPOLLOUT edge resumes.
// Owned by the caller, not by the context: hiredis' cleanup hook only detaches it (the context
// may be freed inside on_events()), and the owner deletes it after the event batch once
// detached() says so. Bus thread only.
class HiredisAdapter final : public net::Watcher {
public:
    // max_unread: bytes the reader may hold unconsumed (a bulk string still arriving, whose
    // header can claim gigabytes): past it the context is freed, as on a read error.
    HiredisAdapter(net::Loop& loop, redisAsyncContext* ctx, size_t max_unread);
    ~HiredisAdapter() override;
    HiredisAdapter(const HiredisAdapter&) = delete;
    HiredisAdapter& operator=(const HiredisAdapter&) = delete;

    // Installs the hooks and registers the fd; false if epoll refuses it.
    bool attach();
    void on_events(uint32_t events) override;
    // Writes what hiredis has queued, if the socket can take it.
    void flush();
    // hiredis freed the context (or never had one): nothing more will come.
    bool detached() const { return ctx_ == nullptr; }

private:
    static void add_read(void* self);
    static void del_read(void* self);
    static void add_write(void* self);
    static void del_write(void* self);
    static void cleanup(void* self);
    void detach();

    net::Loop& loop_;
    redisAsyncContext* ctx_;
    int fd_;
    size_t max_unread_;
    bool registered_ = false;
    bool want_read_ = false;
    bool want_write_ = false;
    bool writable_ = false;  // the last EPOLLOUT edge has not been used up by a short write
};

}  // namespace epws::chat
