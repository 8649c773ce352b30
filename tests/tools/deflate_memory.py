"""tests/tools/deflate_memory.py: server RSS per idle WebSocket with permessage-deflate off,
shared and dedicated (docs/deflate-memory.md). Layer: tests/ (a measuring tool, not a test).

Usage: /usr/bin/python3 tests/tools/deflate_memory.py [N] [MODE...]
For each mode it starts a fresh build/release/epws, opens N WebSockets to /echo from 127.0.0.x
source addresses (offering permessage-deflate as browsers do), reads VmRSS from /proc, then has
every connection echo one compressible 4 KiB message and reads VmRSS again. Loopback only;
bounded by N (at most 15,000) and a 120 s deadline per mode."""

import os
import resource
import socket
import subprocess
import sys
import time
import zlib

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
MODES = sys.argv[2:] or ["off", "shared", "dedicated"]
OFFER = b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
MESSAGE = (b"the quick brown fox jumps over the lazy dog " * 100)[:4096]
BIN = os.path.join(os.path.dirname(__file__), "..", "..", "build", "release", "epws")
DEADLINE = 120.0


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def frame(payload, rsv1):
    mask = b"\x01\x02\x03\x04"
    n = len(payload)
    head = bytes([0xC1 if rsv1 else 0x81])
    head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


def read_until(sock, count, deadline):
    """Reads until `count` bytes or more are in; returns them."""
    buf = b""
    while len(buf) < count:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("server closed a connection")
        buf += chunk
    return buf


def measure(spec):
    # A mode may carry extra flags: "dedicated:--deflate-window-bits=10:--deflate-mem-level=4".
    mode, *extra = spec.split(":")
    assert N <= 15000
    proc = subprocess.Popen([BIN, "--port", "0", "--deflate", mode, "--max-connections", "20000", "--max-connections-per-ip", "0",
                             "--idle-timeout", "0", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    port = int(proc.stdout.readline().decode().rsplit(":", 1)[1])
    deadline = time.monotonic() + DEADLINE
    socks = []
    try:
        before = rss_kib(proc.pid)
        for i in range(N):
            s = socket.socket()
            s.bind((f"127.0.0.{2 + i // 5000}", 0))
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade"
                      b"\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13"
                      b"\r\n" + OFFER + b"\r\n")
            socks.append(s)
        for s in socks:
            head = read_until(s, 4, deadline)
            while b"\r\n\r\n" not in head:
                head += read_until(s, 1, deadline)
            assert head.startswith(b"HTTP/1.1 101"), head[:40]
            assert (b"permessage-deflate" in head) == (mode != "off")
        idle = rss_kib(proc.pid)
        c = zlib.compressobj(wbits=-15)
        packed = (c.compress(MESSAGE) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
        wire = frame(packed, True) if mode != "off" else frame(MESSAGE, False)
        for s in socks:
            s.sendall(wire)
        for s in socks:
            read_until(s, 2, deadline)
        active = rss_kib(proc.pid)
        print(f"{spec} N={N}: RSS fresh {before} KiB, {N} idle {idle} KiB "
              f"({(idle - before) * 1024 / N:.0f} B/conn), after one 4 KiB echo each {active} KiB "
              f"({(active - before) * 1024 / N:.0f} B/conn)", flush=True)
    finally:
        for s in socks:
            s.close()
        proc.terminate()
        proc.wait(timeout=10)


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    for mode in MODES:
        measure(mode)


if __name__ == "__main__":
    main()
