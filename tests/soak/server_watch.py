"""tests/soak/server_watch.py: the server side of the soak: start-up baselines, samples of its
descriptors, RSS and CPU from /proc while the clients churn, and the end checks (descriptors back
to the baseline, RSS within its bound, exit status 0 after SIGTERM, no sanitizer report).
Layer: tests/. Every wait polls a condition against a deadline.
"""

import asyncio
import json
import os
import re
import subprocess
import time

from harness import binary_path, poll_until

SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
                          r"WARNING: ThreadSanitizer|ThreadSanitizer: reported|"
                          r"SUMMARY: (Address|Thread|Undefined)")
# RSS allowed above the baseline at the end, beyond the rooms' history, by build (MiB). Memory a
# process frees is not all handed back to the kernel: glibc keeps freed chunks in each loop's
# arena (about 6 MiB after 3,000 connections), ASan keeps freed blocks in its quarantine (256 MiB
# by default) and TSan keeps shadow memory for every address ever touched. A leak per message
# (hundreds of thousands of deliveries) or an output queue never freed grows past these; a small
# leak per connection does not, and is LeakSanitizer's job at the ASan server's exit.
# docs/soak.md has the measurements.
RSS_SLACK_MB = {"release": 24, "asan": 320, "tsan": 640}
HISTORY_ENTRY_BYTES = 1024  # one kept message: a frame under 400 bytes, its ring entry, malloc


def help_text():
    return subprocess.run([binary_path(), "--help"], capture_output=True, text=True,
                          timeout=30).stdout


def per_ip_flags(clients):
    """A per-address connection cap, if this server has one, must not get in the way (the
    clients also spread over 127.0.x.y)."""
    if "--max-connections-per-ip" in help_text():
        return ["--max-connections-per-ip", max(1000, 4 * clients)]
    return []


def flavour():
    """release, asan or tsan, from the symbols the sanitizer runtimes leave in the binary."""
    with open(binary_path(), "rb") as f:
        data = f.read()
    if b"__tsan_init" in data:
        return "tsan"
    if b"__asan_init" in data:
        return "asan"
    return "release"


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return 0


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_targets(pid):
    out = []
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.append(os.readlink(f"/proc/{pid}/fd/{name}"))
        except OSError:
            pass
    return sorted(out)


class ServerWatch:
    def __init__(self, server, args):
        self.server, self.args = server, args
        self.flavour = flavour()
        self.pid = None
        self.peak_fds = self.peak_ws = 0
        self.loop_split = "not sampled"
        self.lag_max = 0.0
        self.started = None

    def start(self):
        self.server.start()
        self.pid = self.server.proc.pid
        self.started = time.monotonic()
        # One request through, then the baseline once the descriptor count holds still.
        self.server.http_get("/healthz")
        last = [-1]

        def steady():
            n = fd_count(self.pid)
            same, last[0] = n == last[0], n
            return same

        poll_until(steady, 10.0, "a steady descriptor count after start-up", interval=0.1)
        self.fd_base = fd_count(self.pid)
        self.rss_base = proc_status(self.pid, "VmRSS")

    async def sample_loop(self, soak, t0):
        """Every second: descriptors. Every 10 s: a progress line, with the server's counters."""
        next_line = t0 + 10.0
        while True:
            before = time.monotonic()
            await asyncio.sleep(1.0)  # a sampling period, not a wait for an event
            now = time.monotonic()
            # How late the wake-up came: how far behind the clients' event loop runs.
            self.lag_max = max(self.lag_max, now - before - 1.0)
            if not self.server.alive():
                soak.ledger.violation("server_died", f"exit status {self.server.proc.poll()}")
                return
            self.peak_fds = max(self.peak_fds, fd_count(self.pid))
            if now >= next_line:
                next_line += 10.0
                await self.progress(soak, now - t0)

    async def progress(self, soak, t):
        ws = loops = None
        try:
            _, _, body = await asyncio.to_thread(self.server.http_get, "/api/connections?user=-")
            loops = json.loads(body)["loops"]
            ws = sum(l["websockets"] for l in loops)
        except (OSError, ValueError, KeyError, AssertionError):
            pass  # a busy server may be slow to answer; the next sample will do
        if ws is not None and ws >= self.peak_ws:
            self.peak_ws = ws
            self.loop_split = ", ".join(f"loop {l['loop']}: {l['websockets']} open, "
                                        f"{l['messages_out']} sent" for l in loops)
        c = soak.ledger.counts
        print(f"[{t:4.0f}s] open {soak.open_now} (server {ws}), sent {c['sent']}, verified "
              f"{c['verified'] + c['replayed']}, gaps {c['gap_history_events'] + c['gap_slow_events']}, "
              f"reconnects {c['reconnects']}, violations {soak.ledger.violations}, server RSS "
              f"{proc_status(self.pid, 'VmRSS') / 1024:.0f} MiB, fds {fd_count(self.pid)}, "
              f"CPU {proc_cpu(self.pid):.0f} s, client lag {self.lag_max:.2f} s", flush=True)

    async def idle_checks(self, ledger, end):
        """The live server once every client is gone: descriptors, counters, RSS, CPU."""
        pid = self.pid

        def fds_back():
            return fd_count(pid) == self.fd_base

        try:
            await asyncio.to_thread(poll_until, fds_back, 30.0, "descriptors back to the baseline", 0.1)
        except AssertionError:
            extra = fd_targets(pid)
            ledger.violation("fds", f"{len(extra)} open 30 s after the last client closed, "
                                    f"baseline {self.fd_base}: {extra[:20]}")
        stats = json.loads((await asyncio.to_thread(self.server.http_get, "/stats"))[2])
        if stats.get("connections") != 0:
            ledger.violation("stats", f"/stats says {stats.get('connections')} WebSockets still open")
        try:  # the /stats request's own descriptor closes too
            await asyncio.to_thread(poll_until, fds_back, 10.0, "descriptors back after /stats", 0.1)
        except AssertionError:
            pass
        end["fd_base"], end["fd_end"] = self.fd_base, fd_count(pid)
        slack_mb = self.args.rss_slack_mb
        if slack_mb is None:
            slack_mb = RSS_SLACK_MB[self.flavour]
        history_kb = self.args.rooms * self.args.history * HISTORY_ENTRY_BYTES // 1024
        end["rss_base"] = self.rss_base
        end["rss_bound"] = self.rss_base + history_kb + int(slack_mb * 1024)
        end["rss_why"] = (f"baseline + {history_kb / 1024:.1f} MiB history "
                          f"({self.args.rooms} rooms x {self.args.history} x {HISTORY_ENTRY_BYTES} B) "
                          f"+ {slack_mb:g} MiB {self.flavour} allocator slack")
        try:
            await asyncio.to_thread(poll_until, lambda: proc_status(pid, "VmRSS") <= end["rss_bound"],
                                    20.0, "RSS within its bound", 0.25)
        except AssertionError:
            ledger.violation("rss", f"{proc_status(pid, 'VmRSS')} kB after the run, bound {end['rss_bound']} kB")
        end["rss_end"] = proc_status(pid, "VmRSS")
        end["rss_peak"] = proc_status(pid, "VmHWM")
        end["cpu"] = proc_cpu(pid)
        end["stats"] = stats

    async def finish(self, ledger):
        """After every client closed: descriptors, counters, RSS, SIGTERM, stderr."""
        end = {"client_cpu": sum(os.times()[:2]), "wall": time.monotonic() - self.started,
               "stats": {}, "fd_base": self.fd_base, "fd_end": "-", "rss_base": self.rss_base,
               "rss_peak": 0, "rss_end": 0, "rss_bound": 0, "rss_why": "not measured", "cpu": 0.0}
        if self.server.alive():
            await self.idle_checks(ledger, end)
        elif not ledger.kinds["server_died"]:
            ledger.violation("server_died", f"exit status {self.server.proc.poll()} before the end")
        end["exit"] = self.server.stop(deadline_s=30.0)
        if end["exit"] != 0:
            ledger.violation("exit", f"SIGTERM ended the server with status {end['exit']}")
        log = self.server.stderr_text(limit=1 << 40)
        if self.args.server_log:
            with open(self.args.server_log, "w") as f:
                f.write(log)
        m = SANITIZER_RE.search(log)
        if m:
            report = log[max(0, m.start() - 200):m.start() + 3000]
            ledger.violation("sanitizer", f"the server's stderr holds a report:\n{report}")
            end["sanitizer"] = f"REPORT ({m.group(0)})"
        else:
            end["sanitizer"] = ("clean" if self.flavour != "release"
                                else "no report (release build: no sanitizer)")
        self.server.close()
        return end
