"""tests/integration/test_deflate.py: permessage-deflate (RFC 7692) against the real binary.

python websockets 10.4 (it offers permessage-deflate by default) in each server memory mode, with
and without context takeover; and a raw client for what no library sends: RSV1 without the
extension, corrupt data, a decompression bomb, invalid UTF-8 inside compressed text."""

import asyncio
import os
import unittest
import zlib

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from harness import BINARY, TEXT, CONT, Server, ServerTestCase, poll_until

DEADLINE = 20.0
SIZES = (0, 1, 63, 64, 125, 126, 4096, 65535, 65536, 1 << 20)
OFFER = "Sec-WebSocket-Extensions: permessage-deflate"


def deflate(data, reset=True, compressor=None):
    """RFC 7692 §7.2.1 on the client side: raw deflate, sync flush, tail removed."""
    c = compressor or zlib.compressobj(wbits=-15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def inflate(data, d=None):
    return (d or zlib.decompressobj(wbits=-15)).decompress(data + b"\x00\x00\xff\xff")


def words(n):
    return ("the quick brown fox jumps over the lazy dog " * (n // 44 + 1))[:n]


class WebsocketsDeflate:
    """Echo through python websockets with permessage-deflate; mixed into one class per mode."""

    FACTORY = {}  # ClientPerMessageDeflateFactory arguments

    async def asyncSetUp(self):
        ext = [ClientPerMessageDeflateFactory(**self.FACTORY)]
        self.ws = await websockets.connect(self.server.url(), open_timeout=5, close_timeout=5,
                                           max_size=None, ping_interval=None, extensions=ext)

    async def asyncTearDown(self):
        await self.ws.close()

    async def echo(self, message):
        await asyncio.wait_for(self.ws.send(message), DEADLINE)
        got = await asyncio.wait_for(self.ws.recv(), DEADLINE)
        self.assertEqual(type(got), type(message))
        self.assertEqual(got, message)

    async def test_compression_is_negotiated(self):
        self.assertIn("permessage-deflate",
                      self.ws.response_headers.get("Sec-WebSocket-Extensions", ""))

    async def test_text_and_binary_of_every_size_round_trip(self):
        for n in SIZES:
            with self.subTest(n=n):
                await self.echo(words(n))
                await self.echo(words(n).encode())
                await self.echo(os.urandom(n))  # incompressible

    async def test_fragmented_messages_round_trip(self):
        parts = [words(1000), "é" * 3000, words(70000)]
        await asyncio.wait_for(self.ws.send(parts), DEADLINE)
        self.assertEqual(await asyncio.wait_for(self.ws.recv(), DEADLINE), "".join(parts))
        await asyncio.wait_for(self.ws.send(iter([b"\x01" * 5000, os.urandom(100), b""])), DEADLINE)
        got = await asyncio.wait_for(self.ws.recv(), DEADLINE)
        self.assertEqual(len(got), 5100)

    async def test_many_similar_messages_keep_their_order(self):
        for i in range(300):
            await self.ws.send(f"message number {i} " + words(200))
        for i in range(300):
            self.assertEqual(await asyncio.wait_for(self.ws.recv(), DEADLINE),
                             f"message number {i} " + words(200))


class SharedDefault(WebsocketsDeflate, ServerTestCase, unittest.IsolatedAsyncioTestCase):
    pass


class SharedNoContextTakeoverAsked(WebsocketsDeflate, ServerTestCase,
                                   unittest.IsolatedAsyncioTestCase):
    FACTORY = {"server_no_context_takeover": True, "client_no_context_takeover": True,
               "server_max_window_bits": 10, "client_max_window_bits": 9}


class DedicatedContextTakeover(WebsocketsDeflate, ServerTestCase, unittest.IsolatedAsyncioTestCase):
    FLAGS = ("--deflate", "dedicated")


class DedicatedSmallWindows(WebsocketsDeflate, ServerTestCase, unittest.IsolatedAsyncioTestCase):
    FLAGS = ("--deflate", "dedicated", "--deflate-window-bits", "10", "--deflate-mem-level", "4",
             "--deflate-level", "1")
    FACTORY = {"server_max_window_bits": 12, "client_max_window_bits": True}


class DedicatedNoContextTakeover(WebsocketsDeflate, ServerTestCase,
                                 unittest.IsolatedAsyncioTestCase):
    FLAGS = ("--deflate", "dedicated")
    FACTORY = {"server_no_context_takeover": True, "client_no_context_takeover": True}


class RawDeflate(ServerTestCase):
    FLAGS = ("--max-message-bytes", "1m")

    def open(self, offer="permessage-deflate; client_max_window_bits"):
        c = self.server.raw()
        status, headers, _ = c.handshake("/echo", extra=[f"Sec-WebSocket-Extensions: {offer}"])
        self.assertEqual(status, 101)
        return c, headers.get("sec-websocket-extensions")

    def test_shared_mode_answers_no_context_takeover_both_ways(self):
        c, answer = self.open()
        with c:
            self.assertEqual(answer, "permessage-deflate; server_no_context_takeover; "
                                     "client_no_context_takeover")

    def test_a_declined_offer_still_upgrades_without_the_extension(self):
        for offer in ("permessage-deflate; foo", "permessage-deflate; server_max_window_bits=16",
                      "x-webkit-deflate-frame", "permessage-deflate;;"):
            with self.subTest(offer=offer):
                c, answer = self.open(offer)
                with c:
                    self.assertIsNone(answer)
                    c.send_frame(TEXT, b"plain")
                    self.assertEqual(c.read_message(), (TEXT, b"plain"))

    def test_the_first_acceptable_of_several_offers_is_answered(self):
        c, answer = self.open("permessage-deflate; server_max_window_bits=7, "
                              "permessage-deflate; server_max_window_bits=9")
        with c:
            self.assertTrue(answer.endswith("server_max_window_bits=9"), answer)

    def test_replies_carry_rsv1_from_the_threshold_up_and_inflate(self):
        c, _ = self.open()
        with c:
            big = words(4096).encode()
            c.send_frame(TEXT, deflate(big), rsv=4)
            fin, rsv, op, payload = c.read_frame()
            self.assertEqual((fin, rsv, op), (True, 4, TEXT))  # RSV1 = 4 in harness terms
            self.assertLess(len(payload), len(big) // 4)
            self.assertEqual(inflate(payload), big)
            c.send_frame(TEXT, b"tiny")  # under the 64-byte threshold: sent plain
            self.assertEqual(c.read_frame(), (True, 0, TEXT, b"tiny"))

    def test_a_compressed_fragmented_message_has_rsv1_on_the_first_frame_only(self):
        c, _ = self.open()
        with c:
            packed = deflate(words(3000).encode())
            c.send_frame(TEXT, packed[:10], fin=False, rsv=4)
            c.send_frame(CONT, packed[10:20], fin=False)
            c.send_frame(CONT, packed[20:])
            op, payload = c.read_message()
            self.assertEqual(inflate(payload), words(3000).encode())

    def test_rsv1_without_the_extension_is_1002(self):
        c = self.server.ws("/echo")
        with c:
            c.send_frame(TEXT, deflate(b"Hello"), rsv=4)
            self.assertClose(c, 1002)

    def test_rsv1_on_a_continuation_frame_is_1002(self):
        c, _ = self.open()
        with c:
            packed = deflate(b"Hello Hello Hello")
            c.send_frame(TEXT, packed[:3], fin=False, rsv=4)
            c.send_frame(CONT, packed[3:], rsv=4)
            self.assertClose(c, 1002)

    def test_corrupt_deflate_data_is_1007_with_a_reason(self):
        c, _ = self.open()
        with c:
            c.send_frame(BINARY, b"\xff\xff\xff\xff\xff", rsv=4)
            code, reason = c.read_close()
            self.assertEqual(code, 1007)
            self.assertEqual(reason, b"corrupt deflate data")
            c.reply_close_and_expect_eof(code)

    def test_compressed_text_that_is_not_utf8_is_1007(self):
        c, _ = self.open()
        with c:
            c.send_frame(TEXT, deflate(b"valid, then \xed\xa0\x80 a surrogate"), rsv=4)
            self.assertClose(c, 1007)

    def test_a_decompression_bomb_is_stopped_with_1009_while_memory_is_small(self):
        # 512 MiB of zeros in about half a MiB of frame: the message limit is 1 MiB.
        comp = zlib.compressobj(9, wbits=-15)
        chunk = bytes(1 << 20)
        bomb = b"".join(comp.compress(chunk) for _ in range(512)) + comp.flush(zlib.Z_SYNC_FLUSH)
        bomb = bomb[:-4]
        self.assertLess(len(bomb), 1 << 20)
        c, _ = self.open()
        with c:
            c.send_frame(BINARY, bomb, rsv=4)
            code, reason = c.read_close()
            self.assertEqual((code, reason), (1009, b"inflated message too big"))
            c.reply_close_and_expect_eof(code)
        # Peak resident memory of the whole server (VmHWM) stayed far below the bomb's size.
        status = open(f"/proc/{self.server.proc.pid}/status").read()
        hwm_kib = int(status.split("VmHWM:")[1].split()[0])
        self.assertLess(hwm_kib, 64 * 1024, "peak RSS over 64 MiB")


class Broadcast(ServerTestCase):
    # One loop: each loop compresses a broadcast once for all of its shared-mode recipients,
    # so with one loop the count is exactly one.
    FLAGS = ("--threads", "1")

    def subscribe(self, offer):
        c = self.server.raw()
        extra = [f"Sec-WebSocket-Extensions: {offer}"] if offer else []
        status, headers, _ = c.handshake("/broadcast", extra=extra)
        self.assertEqual(status, 101)
        return c

    def test_a_broadcast_is_compressed_once_for_every_shared_mode_recipient(self):
        deflaters = [self.subscribe("permessage-deflate") for _ in range(5)]
        plain = self.subscribe(None)
        try:
            poll_until(lambda: self.server.stats()["connections"] >= 6, 5, "6 subscribers")
            before = self.server.stats()
            message = words(2000).encode()
            deflaters[0].send_frame(TEXT, deflate(message), rsv=4)
            frames = [c.read_frame() for c in deflaters]
            self.assertTrue(all(f == frames[0] for f in frames), "the same bytes for everyone")
            self.assertEqual(frames[0][1], 4)  # RSV1
            self.assertEqual(inflate(frames[0][3]), message)
            self.assertEqual(plain.read_frame(), (True, 0, TEXT, message))
            after = self.server.stats()
            self.assertEqual(after["deflate_messages_deflated"] - before["deflate_messages_deflated"], 1)
            self.assertEqual(after["deflate_frames_reused"] - before["deflate_frames_reused"], 4)
        finally:
            for c in deflaters + [plain]:
                c.close()


class DedicatedStreams(ServerTestCase):
    FLAGS = ("--deflate", "dedicated")

    def test_per_connection_streams_exist_only_while_used_and_die_with_the_connection(self):
        c = self.server.raw()
        status, headers, _ = c.handshake("/echo", extra=[OFFER])
        self.assertEqual(headers.get("sec-websocket-extensions"), "permessage-deflate")
        self.assertEqual(self.server.stats()["deflate_dedicated_streams"], 0)  # idle: none yet
        comp = zlib.compressobj(wbits=-15)
        d = zlib.decompressobj(wbits=-15)
        for i in range(3):  # context takeover both ways: each message refers to the last
            message = (f"{i} " + words(500)).encode()
            c.send_frame(TEXT, deflate(message, compressor=comp), rsv=4)
            fin, rsv, op, payload = c.read_frame()
            self.assertEqual(rsv, 4)
            self.assertEqual(inflate(payload, d), message)
        self.assertEqual(self.server.stats()["deflate_dedicated_streams"], 1)
        c.close()
        poll_until(lambda: self.server.stats()["deflate_dedicated_streams"] == 0, 5,
                   "the streams to be freed")


class DeflateOff(ServerTestCase):
    FLAGS = ("--deflate", "off")

    def test_off_declines_every_offer(self):
        c = self.server.raw()
        with c:
            status, headers, _ = c.handshake("/echo", extra=[OFFER])
            self.assertEqual(status, 101)
            self.assertNotIn("sec-websocket-extensions", headers)


if __name__ == "__main__":
    unittest.main()
