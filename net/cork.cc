// net/cork.cc: one write for all the replies of one readable event. Layer: net/.
#include "net/cork.h"

#include <cstring>

#include "net/connection.h"

namespace epws::net {

bool Cork::append(const iovec* iov, int n, size_t total) {
    if (total > kBytes - len_) return false;
    for (int i = 0; i < n; ++i) {
        std::memcpy(buf_.get() + len_, iov[i].iov_base, iov[i].iov_len);
        len_ += iov[i].iov_len;
    }
    return true;
}

void Cork::flush() {
    Connection* c = owner_;
    owner_ = nullptr;
    if (c == nullptr || len_ == 0) return;
    size_t len = len_;
    len_ = 0;
    // Not corked any more, so this goes straight to the socket (or its output buffer).
    c->send({buf_.get(), len});
}

}  // namespace epws::net
