// bench/harness.h: what every scenario shares: the client loop, connecting (over several source
// addresses), running phases with deadlines, the measured window and the progress line.
// Layer: bench/.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "bench/options.h"
#include "bench/proc_stats.h"
#include "bench/report.h"
#include "bench/syscall_counter.h"
#include "net/loop.h"
#include "ws/client_connection.h"

namespace epws::bench {

// One per run, on the calling thread. Owns the loop and with it every client connection.
class Harness {
public:
    explicit Harness(const Options& options);
    ~Harness();

    // Raises the descriptor limit, pins (--cpu), creates the loop. False with err on failure.
    bool init(std::string& err);
    // Starts one client towards the target; the loop owns it. nullptr and err on failure
    // (e.g. out of ports: use --sources). config, if given, replaces client_config() for this
    // connection (e.g. a path per user) and must outlive it.
    ws::ClientConnection* connect(ws::ClientHandler& handler, uint32_t tag, std::string& err,
                                  const ws::ClientConfig* config = nullptr, uint16_t port = 0);

    // Runs the loop until done() holds, a failure is recorded, or deadline_ns passes (then false).
    // tick() runs after every batch of events; run_once waits at most wait_ms.
    bool run_until(const std::function<bool()>& done, uint64_t deadline_ns,
                   const std::function<void()>& tick = {}, int wait_ms = 10);
    // Sends close 1000 to every open connection and waits (bounded) for them to end.
    void close_all();
    // A connection ended: a failure of the run unless close_all() is ending it.
    void closed(const ws::ClientConnection& c, uint16_t code, ws::ClientFailure f);
    // The end of every scenario: close_all(), then the report says whether the run failed.
    Report finish(Report& report);

    // The measured window: samples the server and our own CPU at both ends, and counts the
    // server's system calls with perf when that works (--syscalls).
    void begin_window(Report& report);
    void end_window(Report& report);
    bool in_window() const { return window_open_; }
    // Scenarios call this for each operation (echo, delivery, handshake): true if it falls in
    // the measured window. It also counts the operations of the strace window.
    bool count_op() {
        if (extra_open_) ++extra_ops_;
        return window_open_;
    }
    // Called right after end_window with the same tick: with --syscalls strace (or auto without
    // perf) runs the load 1.5 s more under `strace -c -f` and fills report.syscalls from it.
    void extra_window(Report& report, const std::function<void()>& tick = {}, int wait_ms = 10);

    // Records the first failure; run_until then returns false. Hot paths call it at most once.
    void fail(std::string why);
    bool failed() const { return !failure_.empty(); }
    const std::string& failure() const { return failure_; }
    // True while close_all() runs: closes are expected then, not failures.
    bool stopping() const { return stopping_; }

    // What the live progress line shows after the elapsed time (called about once a second).
    void set_progress(std::function<std::string()> text) { progress_ = std::move(text); }
    net::Loop& loop() { return *loop_; }
    const Options& options() const { return options_; }
    const ws::ClientConfig& client_config() const { return config_; }

private:
    void show_progress(uint64_t now);
    void init_syscall_counting();

    const Options& options_;
    ws::ClientConfig config_;
    std::unique_ptr<net::TlsClientContext> tls_;  // wss:// only
    std::unique_ptr<net::Loop> loop_;
    std::string failure_;
    std::function<std::string()> progress_;
    uint64_t started_ns_ = 0;
    uint64_t next_progress_ns_ = 0;
    uint64_t window_start_ns_ = 0;
    uint64_t window_cpu_ns_ = 0;
    uint32_t next_source_ = 0;
    SyscallTool syscall_tool_ = SyscallTool::kNone;
    std::string syscall_note_;       // why system calls were not counted, if they were not
    SyscallCounter perf_;            // started in init(), switched on for the window only
    uint64_t extra_ops_ = 0;
    bool extra_open_ = false;
    bool tty_ = false;
    bool window_open_ = false;
    bool stopping_ = false;
};

}  // namespace epws::bench
