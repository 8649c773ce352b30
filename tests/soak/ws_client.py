"""tests/soak/ws_client.py: a small asyncio WebSocket client for the soak, with the ways to end a
connection that a real network produces: close handshake, FIN without a close frame, half-close
(shutdown SHUT_WR) and reset (SO_LINGER 0). Layer: tests/.

Why not python-websockets: the soak needs raw control of the socket (RST, half-close, the source
address) for thousands of connections; a protocol object per socket
with its own frame parser is also several times cheaper per message than a library's task per
connection. Server frames go to on_text(str); everything else is handled here.
"""

import asyncio
import base64
import hashlib
import os
import socket
import struct
import zlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA  # RFC 6455 §5.2
IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h: pick the port at connect(), per destination


class HandshakeError(Exception):
    def __init__(self, status, text):
        super().__init__(text)
        self.status = status


def mask(payload, key):
    if not payload:
        return b""
    rep = (key * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(rep, "big")).to_bytes(len(payload), "big")


def client_frame(opcode, payload):
    """One masked, final frame (RFC 6455 §5.3: every client frame is masked)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    key = os.urandom(4)
    return head + key + mask(payload, key)


class WsConnection(asyncio.Protocol):
    """One client connection. Callbacks (set by attach()): on_text(str) for each text message,
    on_end(reason) once when the TCP connection is gone (reason: 'eof', 'reset', 'error ...',
    or 'closed CODE' after the server's close frame)."""

    def __init__(self, host, port, path, deflate):
        self.host, self.port, self.path = host, port, path
        self.offer_deflate = deflate
        self.transport = None
        self.buf = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.ended = asyncio.get_running_loop().create_future()
        self.key = base64.b64encode(os.urandom(16)).decode()
        self.deflate = False          # negotiated permessage-deflate (RFC 7692)
        self.fresh_inflater = True    # server_no_context_takeover: each message stands alone
        self.inflater = None
        self.frag_op, self.frag = None, []
        self.close_sent = False
        self.eof_sent = False         # half-closed: nothing more may be written
        self.close_code = None        # the server's close code, once its close frame came
        self.early = []               # texts that came before attach() (with the 101)
        self.on_text = self.early.append
        self.on_end = lambda reason: None

    def attach(self, on_text, on_end):
        """Sets the callbacks and hands on_text what already arrived (the welcome often comes
        in the same read as the 101)."""
        self.on_text, self.on_end = on_text, on_end
        for text in self.early:
            on_text(text)
        self.early = None
        if self.ended.done():
            on_end(self.ended.result())

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        lines = [f"GET {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {self.key}",
                 "Sec-WebSocket-Version: 13"]
        if self.offer_deflate:
            lines.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def data_received(self, data):
        self.buf += data
        if not self.upgraded.done():
            if not self._read_response():
                return
        self._read_frames()

    def eof_received(self):
        return False  # let the transport close our side too

    def connection_lost(self, exc):
        if not self.upgraded.done():
            self.upgraded.set_result(ConnectionError(f"closed during the handshake: {exc}"))
        if not self.ended.done():
            if self.close_code is not None:
                reason = f"closed {self.close_code}"
            elif isinstance(exc, ConnectionResetError):
                reason = "reset"
            elif exc is not None:
                reason = f"error {exc!r}"
            else:
                reason = "eof"
            self.ended.set_result(reason)
            self.on_end(reason)

    # -- handshake -------------------------------------------------------------------------

    def _read_response(self):
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        del self.buf[:end + 4]
        parts = head[0].split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status != 101:
            self.upgraded.set_result(HandshakeError(status, head[0]))
            self.transport.close()
            return False
        want = base64.b64encode(hashlib.sha1(self.key.encode() + GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            self.upgraded.set_result(HandshakeError(status, "bad Sec-WebSocket-Accept"))
            self.transport.close()
            return False
        ext = headers.get("sec-websocket-extensions", "")
        if "permessage-deflate" in ext:
            self.deflate = True
            self.fresh_inflater = "server_no_context_takeover" in ext
            self.inflater = zlib.decompressobj(-15)
        self.upgraded.set_result(None)
        return True

    # -- frames ----------------------------------------------------------------------------

    def _read_frames(self):
        buf = self.buf
        pos = 0
        n_buf = len(buf)
        while n_buf - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n = b1 & 0x7F
            at = pos + 2
            if n == 126:
                if n_buf - at < 2:
                    break
                n = (buf[at] << 8) | buf[at + 1]
                at += 2
            elif n == 127:
                if n_buf - at < 8:
                    break
                n = int.from_bytes(buf[at:at + 8], "big")
                at += 8
            if n_buf - at < n:
                break
            payload = bytes(buf[at:at + n])
            pos = at + n
            self._frame(b0, payload)
        del buf[:pos]

    def _frame(self, b0, payload):
        op = b0 & 0x0F
        fin = b0 & 0x80
        if op == PING:
            self.send(PONG, payload)  # RFC 6455 §5.5.3: a pong echoes the ping's payload
            return
        if op == PONG:
            return
        if op == CLOSE:
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            if not self.close_sent:
                self.send(CLOSE, payload[:2])  # §5.5.1: answer with the same code
            return
        if op in (TEXT, BINARY):
            self.frag_op, self.frag = (op, b0 & 0x40), [payload]
        elif op == CONT and self.frag_op is not None:
            self.frag.append(payload)
        if not fin:
            return
        (op, compressed), data = self.frag_op, b"".join(self.frag)
        self.frag_op, self.frag = None, []
        if compressed:
            # RFC 7692 §7.2.2: append the 4 bytes the sender removed, then inflate.
            if self.fresh_inflater:
                self.inflater = zlib.decompressobj(-15)
            data = self.inflater.decompress(data + b"\x00\x00\xff\xff")
        if op == TEXT:
            self.on_text(data.decode("utf-8"))

    # -- sending and ending ----------------------------------------------------------------

    def send(self, opcode, payload):
        if self.transport is not None and not self.transport.is_closing() and not self.eof_sent:
            self.transport.write(client_frame(opcode, payload))

    def send_text(self, text):
        self.send(TEXT, text.encode())

    def close_handshake(self, code=1000):
        """Sends a close frame; the server answers and closes TCP (RFC 6455 §7.1.1)."""
        self.close_sent = True
        self.send(CLOSE, struct.pack("!H", code))

    def reset(self):
        """An abrupt end: SO_LINGER 0 makes close() send RST instead of FIN."""
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    def half_close(self):
        """shutdown(SHUT_WR): the server reads EOF; we keep reading until it closes."""
        self.eof_sent = True
        self.transport.write_eof()

    def drop(self):
        """close() without a close frame: FIN, and no more reading."""
        self.transport.close()

    def pause(self):
        self.transport.pause_reading()

    def resume(self):
        if not self.transport.is_closing():
            self.transport.resume_reading()


async def connect(host, port, path, source_ip=None, deflate=False, timeout=10.0):
    """Opens a TCP connection from source_ip (any 127.x address) and upgrades it; returns the
    WsConnection. Raises HandshakeError, OSError or asyncio.TimeoutError."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if source_ip:
            sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((source_ip, 0))
        await asyncio.wait_for(loop.sock_connect(sock, (host, port)), timeout)
    except BaseException:
        sock.close()
        raise
    _, conn = await loop.create_connection(
        lambda: WsConnection(host, port, path, deflate), sock=sock)
    try:
        # The future holds None, or the exception that ended the handshake (as a result, so an
        # attempt nobody waits for any more logs nothing).
        failure = await asyncio.wait_for(asyncio.shield(conn.upgraded), timeout)
    except BaseException:
        conn.transport.abort()
        raise
    if failure is not None:
        raise failure
    return conn


async def blip(host, port, path, source_ip=None):
    """A connection that sends its upgrade request and resets at once (SO_LINGER 0), before the
    server's answer: a client that dies while connecting. Returns nothing; errors are ignored."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        if source_ip:
            sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((source_ip, 0))
        await asyncio.wait_for(loop.sock_connect(sock, (host, port)), 10.0)
        key = base64.b64encode(os.urandom(16)).decode()
        sock.send((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except (OSError, asyncio.TimeoutError):
        pass
    finally:
        sock.close()
