"""tests/integration/test_clients.py: a conforming client (python websockets 10.4) against /echo.

Run twice: as websockets connects by default (offering permessage-deflate), and with no extension."""

import asyncio
import os
import unittest

import websockets

from harness import ServerTestCase

DEADLINE = 10.0


class PythonClient(ServerTestCase, unittest.IsolatedAsyncioTestCase):
    CONNECT = {}

    async def asyncSetUp(self):
        self.ws = await websockets.connect(self.server.url(), open_timeout=5, close_timeout=5,
                                           max_size=None, ping_interval=None, **self.CONNECT)

    async def asyncTearDown(self):
        await self.ws.close()

    async def echo(self, message):
        await asyncio.wait_for(self.ws.send(message), DEADLINE)
        got = await asyncio.wait_for(self.ws.recv(), DEADLINE)
        self.assertEqual(type(got), type(message))
        self.assertEqual(len(got), len(message))
        self.assertEqual(got, message)

    async def test_text_round_trips_as_text(self):
        await self.echo("hello, epws")

    async def test_binary_round_trips_as_binary(self):
        await self.echo(b"\x00\x01\xfe\xff binary")

    async def test_empty_text_and_empty_binary(self):
        await self.echo("")
        await self.echo(b"")

    async def test_sizes_at_length_encoding_edges(self):
        for n in (125, 126, 65535, 65536):
            with self.subTest(n=n):
                await self.echo("t" * n)
                await self.echo(os.urandom(n))

    async def test_one_mebibyte_text_and_binary(self):
        await self.echo("m" * (1 << 20))
        await self.echo(os.urandom(1 << 20))

    async def test_fragmented_text_is_echoed_as_one_message(self):
        await asyncio.wait_for(self.ws.send(["frag", "men", "ted"]), DEADLINE)
        self.assertEqual(await asyncio.wait_for(self.ws.recv(), DEADLINE), "fragmented")

    async def test_fragmented_binary_is_echoed_as_one_message(self):
        await asyncio.wait_for(self.ws.send(iter([b"\x01" * 1000, b"\x02" * 70000, b"\x03"])),
                               DEADLINE)
        got = await asyncio.wait_for(self.ws.recv(), DEADLINE)
        self.assertEqual(got, b"\x01" * 1000 + b"\x02" * 70000 + b"\x03")

    async def test_ping_gets_pong_with_the_same_payload(self):
        # websockets resolves the waiter only for a pong whose payload matches this ping.
        waiter = await self.ws.ping(b"x")
        await asyncio.wait_for(waiter, DEADLINE)
        waiter = await self.ws.ping(b"\x00\xff" * 60)
        await asyncio.wait_for(waiter, DEADLINE)

    async def test_chinese_and_emoji_round_trip(self):
        for text in ("你好，世界", "emoji 😀🎉👍🏽", "mixed: café, Ω, 𝄞, 日本語"):
            with self.subTest(text=text):
                await self.echo(text)

    async def test_thousand_pipelined_messages_come_back_in_order(self):
        for i in range(1000):
            await self.ws.send(f"message {i}")
        for i in range(1000):
            self.assertEqual(await asyncio.wait_for(self.ws.recv(), DEADLINE), f"message {i}")

    async def test_mixed_pipelined_text_and_binary_keep_their_types(self):
        sent = [f"t{i}" if i % 2 else f"b{i}".encode() for i in range(100)]
        for m in sent:
            await self.ws.send(m)
        for m in sent:
            self.assertEqual(await asyncio.wait_for(self.ws.recv(), DEADLINE), m)

    async def test_client_close_with_code_and_reason_is_echoed(self):
        await asyncio.wait_for(self.ws.close(code=4000, reason="bye now"), DEADLINE)
        self.assertEqual(self.ws.close_code, 4000)

    async def test_client_close_normal(self):
        await asyncio.wait_for(self.ws.close(), DEADLINE)
        self.assertEqual(self.ws.close_code, 1000)

    async def test_ten_clients_at_once(self):
        async def one(i):
            async with websockets.connect(self.server.url(), open_timeout=5,
                                          **self.CONNECT) as ws:
                for j in range(10):
                    await ws.send(f"{i}:{j}")
                    self.assertEqual(await ws.recv(), f"{i}:{j}")
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(10))), DEADLINE)


class PythonClientNoCompression(PythonClient):
    CONNECT = {"compression": None}


if __name__ == "__main__":
    unittest.main()
