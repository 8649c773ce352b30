// bench/harness.cc: the client loop, phases, the window and the progress line. Layer: bench/.
#include "bench/harness.h"

#include <unistd.h>

#include <cstdio>

#include "net/socket.h"

namespace epws::bench {

Harness::Harness(const Options& options) : options_(options) {
    config_.host = options.host + ":" + std::to_string(options.port);
    config_.path = options.path;
    // A little slack: framing of chat events, deflate's few bytes on incompressible data.
    // Chat's presence lists every member of lobby: allow a megabyte there.
    config_.reader.max_message_bytes =
        options.scenario == Scenario::kChat ? 1u << 20 : uint64_t(options.size) + 4096;
    config_.max_inflated_bytes = config_.reader.max_message_bytes;
    config_.deflate.offer = options.deflate;
    config_.deflate.no_context_takeover = options.deflate_no_context;
}

Harness::~Harness() {
    stopping_ = true;  // the loop's destructor closes what is left: not a failure
    loop_.reset();
}

bool Harness::init(std::string& err) {
    net::raise_nofile_limit();
    if (options_.client_cpu >= 0 && !pin_process(0, options_.client_cpu, err)) return false;
    if (options_.server_cpu >= 0) {
        if (options_.server_pid == 0) return err = "--cpu C,S needs --server-pid", false;
        if (!pin_process(options_.server_pid, options_.server_cpu, err)) return false;
    }
    if (options_.tls) {
        tls_ = net::TlsClientContext::create({options_.ca_file, options_.insecure}, err);
        if (!tls_) return false;
        config_.tls = tls_.get();
        config_.tls_name = options_.tls_name;
    }
    loop_ = net::Loop::create(err);
    if (!loop_) return false;
    init_syscall_counting();
    tty_ = !options_.quiet && isatty(STDERR_FILENO);
    started_ns_ = now_ns();
    next_progress_ns_ = started_ns_ + 1000000000u;
    return true;
}

ws::ClientConnection* Harness::connect(ws::ClientHandler& handler, uint32_t tag, std::string& err,
                                       const ws::ClientConfig* config, uint16_t port) {
    std::string from;
    if (options_.sources > 0) {
        // Each source address has its own ~28k ephemeral ports (net.ipv4.ip_local_port_range).
        from = "127.0.0." + std::to_string(1 + next_source_++ % options_.sources);
    }
    int fd = net::connect_tcp(options_.host, port != 0 ? port : options_.port, from, err);
    if (fd < 0) return nullptr;
    auto conn = std::make_unique<ws::ClientConnection>(*loop_, fd, config ? *config : config_, handler);
    ws::ClientConnection* raw = conn.get();
    raw->set_tag(tag);
    if (!loop_->adopt(std::move(conn))) {
        err = "epoll refused a connection";
        return nullptr;
    }
    if (!raw->start()) {
        err = "could not send the upgrade request";
        return nullptr;
    }
    return raw;
}

bool Harness::run_until(const std::function<bool()>& done, uint64_t deadline_ns,
                        const std::function<void()>& tick, int wait_ms) {
    for (;;) {
        if (failed()) return false;
        if (done()) return true;
        uint64_t now = now_ns();
        if (now >= deadline_ns) return false;
        auto left_ms = static_cast<int>((deadline_ns - now) / 1000000u) + 1;
        loop_->run_once(left_ms < wait_ms ? left_ms : wait_ms);
        if (tick) tick();
        if (tty_) show_progress(now_ns());
    }
}

void Harness::close_all() {
    stopping_ = true;
    if (!loop_) return;
    loop_->for_each_connection(
        [](net::Connection& c) { static_cast<ws::ClientConnection&>(c).close_websocket(1000); });
    // Bounded: a server that never answers the close costs us 3 seconds, not a hang.
    uint64_t deadline = now_ns() + 3000000000u;
    while (loop_->connection_count() > 0 && now_ns() < deadline) loop_->run_once(10);
    if (tty_) std::fprintf(stderr, "\r\033[K");
}

// Chooses the tool once per run; perf is attached now (disabled) so that switching it on at the
// window's start costs one acknowledged write, not a process start.
void Harness::init_syscall_counting() {
    const Options& o = options_;
    if (o.server_pid == 0 || o.scenario == Scenario::kIdle) return;
    if (o.syscalls == SyscallChoice::kOff) {
        syscall_note_ = "not counted (--syscalls off)";
        return;
    }
    SyscallTool t = o.syscalls == SyscallChoice::kPerf     ? SyscallTool::kPerf
                    : o.syscalls == SyscallChoice::kStrace ? SyscallTool::kStrace
                                                           : detect_syscall_tool();
    if (t == SyscallTool::kNone) {
        syscall_note_ = "not counted: neither perf (raw_syscalls:sys_enter) nor strace works here";
        return;
    }
    std::string err;
    if (t == SyscallTool::kPerf && !perf_.start(t, o.server_pid, err)) {
        syscall_note_ = "not counted: " + err;
        return;
    }
    syscall_tool_ = t;
}

void Harness::begin_window(Report& r) {
    std::string err;
    if (perf_.running() && !perf_.enable(err)) {
        syscall_note_ = "not counted: " + err;
        perf_.stop(err);
    }
    r.has_server = options_.server_pid != 0 && sample_process(options_.server_pid, r.server_before, err);
    window_cpu_ns_ = self_cpu_ns();
    window_start_ns_ = now_ns();
    window_open_ = true;
}

void Harness::end_window(Report& r) {
    uint64_t end = now_ns();
    r.client_cpu_ns = self_cpu_ns() - window_cpu_ns_;
    r.window_s = double(end - window_start_ns_) / 1e9;
    window_open_ = false;
    std::string err;
    if (r.has_server && !sample_process(options_.server_pid, r.server_after, err)) {
        fail("the server died during the run: " + err);
    }
    if (perf_.running()) {
        r.syscall_tool = syscall_tool_name(SyscallTool::kPerf);
        if (!perf_.disable(err) || (r.syscalls = perf_.stop(err)) < 0)
            r.syscall_note = "not counted: " + err;
    } else if (syscall_tool_ != SyscallTool::kStrace) {
        r.syscall_note = syscall_note_;
    }
    judge_bottleneck(r);
}

void Harness::extra_window(Report& r, const std::function<void()>& tick, int wait_ms) {
    if (syscall_tool_ != SyscallTool::kStrace || failed()) return;
    r.syscall_tool = syscall_tool_name(SyscallTool::kStrace);
    SyscallCounter strace;
    std::string err;
    if (!strace.start(SyscallTool::kStrace, options_.server_pid, err)) {
        r.syscall_note = "not counted: " + err;
        return;
    }
    extra_ops_ = 0;
    extra_open_ = true;
    run_until([] { return false; }, now_ns() + 1500000000u, tick, wait_ms);
    extra_open_ = false;
    r.syscalls = strace.stop(err);
    r.syscall_ops = extra_ops_;
    if (r.syscalls < 0) r.syscall_note = "not counted: " + err;
    else if (extra_ops_ == 0) r.syscall_note = "not counted: no operation completed under strace";
}

void Harness::fail(std::string why) {
    if (failure_.empty()) failure_ = std::move(why);
}

void Harness::show_progress(uint64_t now) {
    if (now < next_progress_ns_ || !progress_) return;
    next_progress_ns_ = now + 1000000000u;
    std::fprintf(stderr, "\r\033[K[%s %s] %5.1fs %s", scenario_name(options_.scenario),
                 options_.label.c_str(), double(now - started_ns_) / 1e9, progress_().c_str());
    std::fflush(stderr);
}

void Harness::closed(const ws::ClientConnection& c, uint16_t code, ws::ClientFailure f) {
    if (stopping()) return;
    fail("connection " + std::to_string(c.tag()) + " closed during the run (code " +
         std::to_string(code) + ", " + std::string(ws::failure_name(f)) + ")");
}

Report Harness::finish(Report& report) {
    close_all();
    report.ok = !failed();
    report.error = failure();
    return report;
}

}  // namespace epws::bench
