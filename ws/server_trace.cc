// ws/server_trace.cc: the server's tracing of chosen connections and its non-blocking writer
// (see ws/server_trace.h). Layer: ws/.
#include "ws/server_trace.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "net/socket.h"
#include "ws/server_connection.h"

namespace epws::ws {

TraceWriter::TraceWriter(int fd, size_t max_bytes)
    : fd_(fd), max_bytes_(max_bytes), thread_([this] { run(); }) {}

TraceWriter::~TraceWriter() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void TraceWriter::write(std::string_view text) {
    if (text.empty()) return;
    {
        std::lock_guard lock(mu_);
        if (pending_.size() + text.size() > max_bytes_) {
            uint64_t lines = static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
            dropped_ += lines;
            dropped_all_ += lines;
            return;
        }
        pending_.append(text);
    }
    wake_.notify_one();
}

uint64_t TraceWriter::dropped_lines() const {
    std::lock_guard lock(mu_);
    return dropped_all_;
}

void TraceWriter::run() {
    std::string out;
    for (;;) {
        {
            std::unique_lock lock(mu_);
            wake_.wait(lock, [this] { return stop_ || !pending_.empty() || dropped_ != 0; });
            if (pending_.empty() && dropped_ == 0 && stop_) return;
            out.swap(pending_);  // the loops append to an empty buffer while this one is written
            if (dropped_ != 0) {
                out += "[trace] " + std::to_string(dropped_) +
                       " lines dropped: the output was slower than the traffic traced\n";
                dropped_ = 0;
            }
        }
        for (size_t done = 0; done < out.size();) {
            ssize_t n = ::write(fd_, out.data() + done, out.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;  // stderr closed or failing: the trace is lost, the server goes on
            done += static_cast<size_t>(n);
        }
        out.clear();
    }
}

void prefix_lines(std::string_view text, std::string_view prefix, std::string& out) {
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        out.append(prefix).append(line).push_back('\n');
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    }
}

ServerTracer::ServerTracer(const TraceSelector& selector, TraceWriter& writer,
                           std::atomic<uint64_t>& ids, size_t max_traced)
    : selector_(selector), writer_(writer), ids_(ids), max_traced_(max_traced) {}

ServerTracer::~ServerTracer() = default;

ServerTracer::Traced* ServerTracer::find(const ServerConnection& c) {
    for (Traced& t : traced_)
        if (t.conn == &c) return &t;
    return nullptr;
}

void ServerTracer::accepted(const ServerConnection& c) {
    // relaxed: a number only; nothing else is published through it.
    uint64_t id = ids_.fetch_add(1, std::memory_order_relaxed);
    id_of_[&c] = id;
    if (selector_.at_accept(id)) start(c, id, "--trace-connection, from its first byte");
}

void ServerTracer::request(const ServerConnection& c, const HttpRequest& req,
                           std::span<const std::byte> from_head) {
    if (find(c) != nullptr || !selector_.at_request(req)) return;
    auto it = id_of_.find(&c);
    if (it == id_of_.end()) return;
    start(c, it->second, "--trace-user: its request carries the user, traced from that request");
    if (Traced* t = find(c)) {
        t->annotator->feed(TraceDirection::kClientToServer, from_head, text_);
        emit(*t);
    }
}

void ServerTracer::start(const ServerConnection& c, uint64_t id, std::string_view why) {
    std::string head = "[conn " + std::to_string(id) + "] ";
    text_.clear();
    if (traced_.size() >= max_traced_) {
        text_ = "not traced: " + std::to_string(max_traced_) +
                " connections of this loop are traced already\n";
        lines_.clear();
        prefix_lines(text_, head, lines_);
        writer_.write(lines_);
        return;
    }
    traced_.push_back({&c, id, 0, false, std::make_unique<TraceAnnotator>()});
    text_ = "traced (" + std::string(why) + "), peer " + net::peer_address(c.fd()) + "\n";
    emit(traced_.back());
}

void ServerTracer::received(const ServerConnection& c, std::span<const std::byte> data) {
    Traced* t = find(c);
    if (t == nullptr) return;
    text_.clear();
    if (!t->tls_said && c.transport().secure()) {
        // Bytes flow only once the handshake is done: say once what it agreed.
        t->tls_said = true;
        text_ += "TLS " + c.transport().session_summary() +
                 ": the bytes below are the WebSocket ones, inside TLS records\n";
    }
    auto fresh = data.subspan(std::min(t->held, data.size()));  // held: traced last time
    t->annotator->feed(TraceDirection::kClientToServer, fresh, text_);
    t->held = 0;
    emit(*t);
}

void ServerTracer::kept(const ServerConnection& c, size_t unconsumed) {
    if (Traced* t = find(c)) t->held = unconsumed;
}

void ServerTracer::sent(const ServerConnection& c, const iovec* iov, int n) {
    Traced* t = find(c);
    if (t == nullptr) return;
    text_.clear();
    for (int i = 0; i < n; ++i)
        t->annotator->feed(TraceDirection::kServerToClient,
                           {static_cast<const std::byte*>(iov[i].iov_base), iov[i].iov_len}, text_);
    emit(*t);
}

void ServerTracer::closed(const ServerConnection& c, net::CloseCause cause) {
    id_of_.erase(&c);
    Traced* t = find(c);
    if (t == nullptr) return;
    text_.clear();
    t->annotator->finish(text_);
    text_ += "closed (" + std::string(net::close_cause_name(cause)) + "), " +
             std::to_string(t->annotator->frames()) + " frames explained\n";
    emit(*t);
    traced_.erase(traced_.begin() + (t - traced_.data()));
}

// Writes text_ as t's lines and empties it.
void ServerTracer::emit(const Traced& t) {
    if (text_.empty()) return;
    lines_.clear();
    prefix_lines(text_, "[conn " + std::to_string(t.id) + "] ", lines_);
    text_.clear();
    writer_.write(lines_);
}

}  // namespace epws::ws
