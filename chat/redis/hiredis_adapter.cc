// chat/redis/hiredis_adapter.cc: hiredis' event hooks on our loop. Layer: chat/.
#include "chat/redis/hiredis_adapter.h"

#include <hiredis/async.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include <cstdio>

#include "chat/redis/reply_limits.h"
#include "net/loop.h"

namespace epws::chat {

HiredisAdapter::HiredisAdapter(net::Loop& loop, redisAsyncContext* ctx, size_t max_unread)
    : loop_(loop), ctx_(ctx), fd_(ctx->c.fd), max_unread_(max_unread) {}

HiredisAdapter::~HiredisAdapter() {
    if (ctx_ != nullptr) {
        // Still attached: the context outlives us, so it must stop calling us.
        ctx_->ev.data = nullptr;
        ctx_->ev.addRead = ctx_->ev.delRead = ctx_->ev.addWrite = ctx_->ev.delWrite = nullptr;
        ctx_->ev.cleanup = nullptr;
    }
    if (registered_) loop_.unwatch(fd_);
}

bool HiredisAdapter::attach() {
    if (ctx_->ev.data != nullptr) return false;  // hiredis allows one adapter per context
    ctx_->ev.data = this;
    ctx_->ev.addRead = add_read;
    ctx_->ev.delRead = del_read;
    ctx_->ev.addWrite = add_write;
    ctx_->ev.delWrite = del_write;
    ctx_->ev.cleanup = cleanup;
    registered_ = loop_.watch(fd_, EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP, this);
    return registered_;
}

void HiredisAdapter::on_events(uint32_t events) {
    if (ctx_ == nullptr) return;  // a stale event after the context went
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
        writable_ = true;
        // The connect completes with the first writable edge; hiredis finishes it (and calls
        // the connect callback) in redisAsyncHandleWrite(), even with nothing to write yet.
        if ((ctx_->c.flags & REDIS_CONNECTED) == 0) {
            redisAsyncHandleWrite(ctx_);
            if (ctx_ != nullptr && want_write_) writable_ = false;
        } else {
            flush();
        }
        if (ctx_ == nullptr) return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
        // Until the socket is empty (see the header); an error or EOF makes hiredis free the
        // context, which detaches us.
        for (;;) {
            redisAsyncHandleRead(ctx_);
            if (ctx_ == nullptr) return;
            if (unread_bytes(ctx_->c.reader) > max_unread_) {
                std::fprintf(stderr, "epws: redis: a reply past %zu bytes: closing the connection\n", max_unread_);
                redisAsyncFree(ctx_);  // not inside a hiredis callback: safe; detaches us
                return;
            }
            int waiting = 0;
            if (ioctl(fd_, FIONREAD, &waiting) != 0 || waiting <= 0) break;
        }
    }
}

void HiredisAdapter::flush() {
    if (ctx_ == nullptr || !want_write_ || !writable_) return;
    redisAsyncHandleWrite(ctx_);
    // Bytes left behind: the socket buffer is full until the next EPOLLOUT edge.
    if (ctx_ != nullptr && want_write_) writable_ = false;
}

void HiredisAdapter::add_read(void* self) { static_cast<HiredisAdapter*>(self)->want_read_ = true; }
void HiredisAdapter::del_read(void* self) { static_cast<HiredisAdapter*>(self)->want_read_ = false; }
void HiredisAdapter::add_write(void* self) { static_cast<HiredisAdapter*>(self)->want_write_ = true; }
void HiredisAdapter::del_write(void* self) { static_cast<HiredisAdapter*>(self)->want_write_ = false; }
void HiredisAdapter::cleanup(void* self) { static_cast<HiredisAdapter*>(self)->detach(); }

void HiredisAdapter::detach() {
    // hiredis closes the fd right after this hook; take it out of epoll first.
    if (registered_) loop_.unwatch(fd_);
    registered_ = false;
    ctx_ = nullptr;
}

}  // namespace epws::chat
