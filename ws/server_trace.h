// ws/server_trace.h: `epws --trace-connection ID` / `--trace-user NAME`: the annotated account
// of ws/trace.h for the few connections chosen, on stderr, without slowing the others. Layer: ws/.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "net/connection.h"
#include "ws/http/request.h"
#include "ws/trace.h"

namespace epws::ws {

class ServerConnection;

// Whole lines from every loop to one file descriptor (stderr), so that a slow terminal or a
// full pipe never stops a loop: a loop only appends to a bounded buffer under a mutex; a thread
// of its own does the blocking write(2)s. Text that does not fit is dropped whole and counted,
// and a line saying how many lines were lost is written once there is room again. Thread-safe.
class TraceWriter {
public:
    // max_bytes: the most text waiting to be written (the bound on what tracing holds).
    TraceWriter(int fd, size_t max_bytes);
    // Writes what waits, then stops the thread.
    ~TraceWriter();
    TraceWriter(const TraceWriter&) = delete;
    TraceWriter& operator=(const TraceWriter&) = delete;

    // text: whole lines (each ending in '\n'). Never blocks on the fd.
    void write(std::string_view text);
    // Lines dropped so far because the buffer was full.
    uint64_t dropped_lines() const;

private:
    void run();

    const int fd_;
    const size_t max_bytes_;
    mutable std::mutex mu_;
    std::condition_variable wake_;
    std::string pending_;      // under mu_
    uint64_t dropped_ = 0;     // under mu_: lines lost since the last report
    uint64_t dropped_all_ = 0; // under mu_: lines lost in all
    bool stop_ = false;        // under mu_
    std::thread thread_;
};

// "[conn 7] " before every line of text, appended to out (a last line without '\n' gets one).
// Pure.
void prefix_lines(std::string_view text, std::string_view prefix, std::string& out);

// Which connections to trace: the program's rule (it knows identities; ws/ does not).
class TraceSelector {
public:
    virtual ~TraceSelector() = default;
    // At accept: trace connection `id` from its first byte? Loop thread.
    virtual bool at_accept(uint64_t id) const = 0;
    // A request head has just been parsed on an untraced connection, before it is answered:
    // trace the connection from this head on? Loop thread.
    virtual bool at_request(const HttpRequest& req) const = 0;
};

// One loop's tracing: the connections it follows, each with its own TraceAnnotator, every line
// prefixed with the connection's id. A connection's id is its number among the connections the
// process admitted, from 1 (every loop and port together, counted at accept; ones refused at
// accept with 503 get none). Exists only when a --trace-* flag is given: ServerContext::tracer
// is null otherwise, and a connection then pays one null test per read and per send. Loop
// thread only (ids comes from a counter every loop shares).
class ServerTracer {
public:
    // selector, writer and ids are not owned and outlive this. max_traced: connections of this
    // loop traced at once; a further match is said in one line and not traced.
    ServerTracer(const TraceSelector& selector, TraceWriter& writer,
                 std::atomic<uint64_t>& ids, size_t max_traced = 16);
    ~ServerTracer();

    // c was admitted: gives it its id, and starts tracing it if the selector says so.
    void accepted(const ServerConnection& c);
    // c's on_data input (what it held from the last call, then the new bytes), before any codec
    // unmasks it in place: the new bytes go to c's trace.
    void received(const ServerConnection& c, std::span<const std::byte> data);
    // on_data returned, leaving `unconsumed` bytes that will be offered again.
    void kept(const ServerConnection& c, size_t unconsumed);
    // A request head was parsed (from_head: the input from its first byte on); starts tracing
    // an untraced c if the selector says so, fed from the head.
    void request(const ServerConnection& c, const HttpRequest& req,
                 std::span<const std::byte> from_head);
    // c handed these bytes to its socket (sent or queued).
    void sent(const ServerConnection& c, const iovec* iov, int n);
    // c is closing: the rest of its trace, and its end.
    void closed(const ServerConnection& c, net::CloseCause cause);

    size_t traced() const { return traced_.size(); }

private:
    struct Traced {
        const ServerConnection* conn;
        uint64_t id;
        size_t held = 0;  // bytes at the front of the next on_data input, already traced
        bool tls_said = false;
        std::unique_ptr<TraceAnnotator> annotator;
    };
    Traced* find(const ServerConnection& c);
    void start(const ServerConnection& c, uint64_t id, std::string_view why);
    void emit(const Traced& t);

    const TraceSelector& selector_;
    TraceWriter& writer_;
    std::atomic<uint64_t>& ids_;
    size_t max_traced_;
    std::unordered_map<const ServerConnection*, uint64_t> id_of_;  // every open connection
    std::vector<Traced> traced_;  // a few: searched in order
    std::string text_, lines_;    // scratch, capacity kept
};

}  // namespace epws::ws
