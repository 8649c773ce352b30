"""tests/integration/test_frames.py: frames after a valid upgrade, hand-built, good and bad.

Covers the contract's bad-frame list and representative cases of Autobahn TestSuite sections 1-7
(the suite itself cannot be installed here); the Autobahn case numbers are in the test names.
Every test reads the server's reply and asserts the bytes or the close code a user would see."""

import os
import socket
import struct
import unittest

from harness import (BINARY, CLOSE, CONT, PING, PONG, TEXT, Closed, ServerTestCase, build_frame,
                     close_payload, mask_bytes)

BAD_UTF8 = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"  # surrogate D800
MULTI = "Hello-µ@ßöäüàá-UTF-8!!".encode()  # Autobahn 6.2.x


class EchoFrames(ServerTestCase):
    """Autobahn 1.x: data frames of every length encoding, whole and split across reads."""

    def echo(self, opcode, payload):
        with self.server.ws() as c:
            c.send_frame(opcode, payload)
            got = c.read_message(10)
            self.assertEqual(got[0], opcode)
            self.assertEqual(len(got[1]), len(payload))
            self.assertEqual(got[1], payload)

    def test_1_1_text_lengths_0_125_126_127_65535_65536(self):
        for n in (0, 125, 126, 127, 65535, 65536):
            with self.subTest(n=n):
                self.echo(TEXT, b"*" * n)

    def test_1_2_binary_lengths_0_125_126_127_65535_65536(self):
        for n in (0, 125, 126, 127, 65535, 65536):
            with self.subTest(n=n):
                self.echo(BINARY, bytes(range(256)) * (n // 256) + bytes(range(n % 256)))

    def test_binary_with_every_byte_value_is_not_altered(self):
        self.echo(BINARY, bytes(range(256)) * 4)

    def test_frame_sent_byte_by_byte_is_reassembled(self):
        with self.server.ws() as c:
            frame = build_frame(TEXT, b"x" * 300)  # 16-bit length: header straddles many reads
            for i in range(len(frame)):
                c.send(frame[i:i + 1])
            self.assertEqual(c.read_message(), (TEXT, b"x" * 300))

    def test_many_frames_in_one_write_are_all_echoed_in_order(self):
        with self.server.ws() as c:
            c.send(b"".join(build_frame(TEXT, f"m{i}".encode()) for i in range(200)))
            for i in range(200):
                self.assertEqual(c.read_message(), (TEXT, f"m{i}".encode()))

    def test_zero_mask_key_is_fine(self):
        with self.server.ws() as c:
            c.send_frame(TEXT, b"no-op mask", mask_key=b"\0\0\0\0")
            self.assertEqual(c.read_message(), (TEXT, b"no-op mask"))

    def test_echo_is_unmasked_with_rsv_clear_and_fin_set(self):
        with self.server.ws() as c:
            c.send_frame(BINARY, b"abc")
            fin, rsv, op, payload = c.read_frame()  # read_frame fails on a masked frame
            self.assertEqual((fin, rsv, op, payload), (True, 0, BINARY, b"abc"))


class Pings(ServerTestCase):
    """Autobahn 2.x."""

    def pong_for(self, payload):
        with self.server.ws() as c:
            c.send_frame(PING, payload)
            fin, rsv, op, got = c.read_frame()
            self.assertEqual((fin, op), (True, PONG))
            self.assertEqual(got, payload)

    def test_2_1_ping_without_payload_gets_empty_pong(self):
        self.pong_for(b"")

    def test_2_2_ping_with_text_payload_gets_same_pong(self):
        self.pong_for(b"Hello, world!")

    def test_2_3_ping_with_binary_payload_gets_same_pong(self):
        self.pong_for(bytes([0x00, 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0x00, 0xFF]))

    def test_2_4_ping_with_125_bytes_gets_same_pong(self):
        self.pong_for(bytes(range(125)))

    def test_2_5_ping_with_126_bytes_is_1002(self):
        with self.server.ws() as c:
            c.send_frame(PING, b"p" * 126)
            self.assertClose(c, 1002, "ping of 126 bytes")

    def test_2_6_ping_sent_byte_by_byte_gets_pong(self):
        with self.server.ws() as c:
            frame = build_frame(PING, b"slow" * 10)
            for i in range(len(frame)):
                c.send(frame[i:i + 1])
            self.assertEqual(c.read_frame()[2:], (PONG, b"slow" * 10))

    def test_2_7_unsolicited_pong_is_ignored(self):
        with self.server.ws() as c:
            c.send_frame(PONG, b"unasked")
            c.send_frame(TEXT, b"after pong")
            self.assertEqual(c.read_message(), (TEXT, b"after pong"))

    def test_2_10_ten_pings_get_ten_pongs_in_order(self):
        with self.server.ws() as c:
            c.send(b"".join(build_frame(PING, f"p{i}".encode()) for i in range(10)))
            for i in range(10):
                self.assertEqual(c.read_frame()[2:], (PONG, f"p{i}".encode()))

    def test_fragmented_ping_is_1002(self):
        with self.server.ws() as c:
            c.send_frame(PING, b"half", fin=False)
            self.assertClose(c, 1002, "ping with FIN=0")


class ReservedBits(ServerTestCase):
    """Autobahn 3.x: RSV bits with no extension negotiated (the raw handshake offers none)."""

    def assert_rsv_fails(self, rsv, opcode=TEXT, payload=b"Hello, world!"):
        with self.server.ws() as c:
            # A valid frame first (echoed), then the bad one: the server must fail exactly there.
            c.send(build_frame(TEXT, b"before") + build_frame(opcode, payload, rsv=rsv))
            self.assertEqual(c.read_message(), (TEXT, b"before"))
            self.assertClose(c, 1002, f"RSV={rsv:03b} opcode={opcode}")

    def test_3_1_rsv1_on_text_is_1002(self):
        self.assert_rsv_fails(4)

    def test_3_2_rsv2_on_text_is_1002(self):
        self.assert_rsv_fails(2)

    def test_3_3_rsv3_on_text_is_1002(self):
        self.assert_rsv_fails(1)

    def test_3_4_rsv1_and_rsv3_on_binary_is_1002(self):
        self.assert_rsv_fails(5, BINARY, b"\x00\xff")

    def test_3_6_rsv2_and_rsv3_on_ping_is_1002(self):
        self.assert_rsv_fails(3, PING, b"ping")

    def test_3_7_all_rsv_on_close_is_1002(self):
        self.assert_rsv_fails(7, CLOSE, close_payload(1000))


class ReservedOpcodes(ServerTestCase):
    """Autobahn 4.x: every reserved opcode, data (3-7) and control (11-15), fails with 1002."""

    def assert_opcode_fails(self, opcode):
        with self.server.ws() as c:
            c.send(build_frame(TEXT, b"before") + build_frame(opcode, b"reserved"))
            self.assertEqual(c.read_message(), (TEXT, b"before"))
            self.assertClose(c, 1002, f"reserved opcode {opcode}")


for _op in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
    setattr(ReservedOpcodes, f"test_4_opcode_{_op}_is_1002",
            lambda self, op=_op: self.assert_opcode_fails(op))


class Fragmentation(ServerTestCase):
    """Autobahn 5.x."""

    def test_5_3_text_in_two_fragments_is_echoed_as_one_message(self):
        with self.server.ws() as c:
            c.send_frame(TEXT, b"frag", fin=False)
            c.send_frame(CONT, b"mented")
            self.assertEqual(c.read_message(), (TEXT, b"fragmented"))

    def test_5_5_binary_in_three_fragments_is_echoed_as_one_message(self):
        with self.server.ws() as c:
            c.send_frame(BINARY, b"\x01", fin=False)
            c.send_frame(CONT, b"\x02", fin=False)
            c.send_frame(CONT, b"\x03")
            self.assertEqual(c.read_message(), (BINARY, b"\x01\x02\x03"))

    def test_5_6_ping_between_fragments_is_answered_first(self):
        with self.server.ws() as c:
            c.send_frame(TEXT, b"frag", fin=False)
            c.send_frame(PING, b"in between")
            c.send_frame(CONT, b"mented")
            self.assertEqual(c.read_frame()[2:], (PONG, b"in between"))
            self.assertEqual(c.read_message(), (TEXT, b"fragmented"))

    def test_5_8_pings_between_every_fragment_in_one_write(self):
        with self.server.ws() as c:
            c.send(build_frame(TEXT, b"a", fin=False) + build_frame(PING, b"1")
                   + build_frame(CONT, b"b", fin=False) + build_frame(PING, b"2")
                   + build_frame(CONT, b"c"))
            self.assertEqual(c.read_frame()[2:], (PONG, b"1"))
            self.assertEqual(c.read_frame()[2:], (PONG, b"2"))
            self.assertEqual(c.read_message(), (TEXT, b"abc"))

    def test_5_19_text_in_one_byte_fragments(self):
        text = b"Hello, fragmented world!"
        with self.server.ws() as c:
            frames = [build_frame(TEXT if i == 0 else CONT, text[i:i + 1], fin=i == len(text) - 1)
                      for i in range(len(text))]
            c.send(b"".join(frames))
            self.assertEqual(c.read_message(), (TEXT, text))

    def test_empty_fragments_around_data(self):
        with self.server.ws() as c:
            c.send(build_frame(TEXT, b"", fin=False) + build_frame(CONT, b"mid", fin=False)
                   + build_frame(CONT, b""))
            self.assertEqual(c.read_message(), (TEXT, b"mid"))

    def test_5_9_continuation_without_start_is_1002(self):
        with self.server.ws() as c:
            c.send_frame(CONT, b"orphan")
            self.assertClose(c, 1002, "continuation with no message open")

    def test_5_10_continuation_fin_without_start_after_a_message_is_1002(self):
        with self.server.ws() as c:
            c.send_frame(TEXT, b"complete")
            self.assertEqual(c.read_message(), (TEXT, b"complete"))
            c.send_frame(CONT, b"orphan")
            self.assertClose(c, 1002, "continuation after a finished message")

    def test_5_18_new_text_while_fragmented_message_open_is_1002(self):
        with self.server.ws() as c:
            c.send_frame(TEXT, b"first", fin=False)
            c.send_frame(TEXT, b"second")
            self.assertClose(c, 1002, "new data frame inside a fragmented message")

    def test_new_binary_while_fragmented_text_open_is_1002(self):
        with self.server.ws() as c:
            c.send_frame(TEXT, b"first", fin=False)
            c.send_frame(BINARY, b"second", fin=False)
            self.assertClose(c, 1002, "binary frame inside a fragmented text message")


class Utf8(ServerTestCase):
    """Autobahn 6.x."""

    def test_6_2_1_valid_multibyte_text_in_one_frame(self):
        with self.server.ws() as c:
            c.send_frame(TEXT, MULTI)
            self.assertEqual(c.read_message(), (TEXT, MULTI))

    def test_6_2_2_valid_text_split_mid_character_across_two_frames(self):
        i = MULTI.index("µ".encode()) + 1  # between the two bytes of µ
        with self.server.ws() as c:
            c.send_frame(TEXT, MULTI[:i], fin=False)
            c.send_frame(CONT, MULTI[i:])
            self.assertEqual(c.read_message(), (TEXT, MULTI))

    def test_6_2_3_valid_text_in_one_byte_fragments(self):
        with self.server.ws() as c:
            c.send(b"".join(build_frame(TEXT if i == 0 else CONT, MULTI[i:i + 1],
                                        fin=i == len(MULTI) - 1) for i in range(len(MULTI))))
            self.assertEqual(c.read_message(), (TEXT, MULTI))

    def test_6_2_4_four_byte_character_split_over_four_frames(self):
        smile = "😀".encode()
        with self.server.ws() as c:
            c.send(b"".join(build_frame(TEXT if i == 0 else CONT, smile[i:i + 1], fin=i == 3)
                            for i in range(4)))
            self.assertEqual(c.read_message(), (TEXT, smile))

    def assert_invalid(self, payload, what):
        with self.server.ws() as c:
            c.send_frame(TEXT, payload)
            self.assertClose(c, 1007, what)

    def test_6_3_1_surrogate_in_text_is_1007(self):
        self.assert_invalid(BAD_UTF8, "UTF-8 encoded surrogate")

    def test_6_3_2_invalid_text_in_fragments_is_1007(self):
        with self.server.ws() as c:
            c.send_frame(TEXT, BAD_UTF8[:5], fin=False)
            c.send_frame(CONT, BAD_UTF8[5:])
            self.assertClose(c, 1007, "invalid UTF-8 across fragments")

    def test_6_5_overlong_encoding_is_1007(self):
        self.assert_invalid(b"\xc0\xaf", "overlong '/'")

    def test_6_6_code_point_above_10ffff_is_1007(self):
        self.assert_invalid(b"\xf4\x90\x80\x80", "U+110000")

    def test_6_7_lone_continuation_byte_is_1007(self):
        self.assert_invalid(b"ab\x80cd", "lone continuation byte")

    def test_6_8_byte_ff_is_1007(self):
        self.assert_invalid(b"\xff", "byte 0xFF")

    def test_6_9_message_ending_mid_character_is_1007(self):
        # Each fragment is a valid prefix; the message as a whole ends inside a character.
        with self.server.ws() as c:
            c.send_frame(TEXT, b"abc", fin=False)
            c.send_frame(CONT, b"\xce")
            self.assertClose(c, 1007, "text ends in the middle of a 2-byte character")

    def test_binary_may_carry_invalid_utf8(self):
        with self.server.ws() as c:
            c.send_frame(BINARY, BAD_UTF8)
            self.assertEqual(c.read_message(), (BINARY, BAD_UTF8))

    def test_6_4_1_fail_fast_on_invalid_prefix_of_a_partial_frame(self):
        # Announce 100 bytes, send only an invalid prefix, send nothing more: the server must fail
        # the connection on what it has, without waiting for the rest of the frame.
        bad_prefix = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80"
        key = os.urandom(4)
        header = build_frame(TEXT, b"", length=100, mask_key=key)
        with self.server.ws() as c:
            c.send(header + mask_bytes(bad_prefix, key))
            try:
                code, _ = c.read_close(4.0)
            except TimeoutError:
                self.fail("no close within 4 s: the server waits for the whole frame before "
                          "validating UTF-8 (no fail-fast)")
            except Closed:
                self.fail("server closed TCP without a close frame")
            self.assertEqual(code, 1007)

    def test_6_4_fail_fast_on_invalid_prefix_of_a_fragmented_message(self):
        with self.server.ws() as c:
            c.send_frame(TEXT, b"\xed\xa0\x80", fin=False)  # never send the final fragment
            try:
                code, _ = c.read_close(4.0)
            except TimeoutError:
                self.fail("no close within 4 s for an invalid first fragment (no fail-fast)")
            self.assertEqual(code, 1007)


class BadFrames(ServerTestCase):
    """The contract's bad-frame list not covered above."""

    def test_unmasked_client_frame_is_1002(self):
        with self.server.ws() as c:
            c.send_frame(TEXT, b"naked", mask=False)
            self.assertClose(c, 1002, "unmasked client frame")

    def test_client_vanishing_mid_frame_leaves_the_server_serving(self):
        c = self.server.ws()
        c.send(build_frame(BINARY, b"z" * 1000)[:500])
        c.close()
        r = self.server.ws()
        # SO_LINGER 0: close() sends a reset instead of a FIN.
        r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        r.send(build_frame(TEXT, b"x" * 100)[:50])
        r.close()
        with self.server.ws() as c:
            c.send_frame(TEXT, b"still here")
            self.assertEqual(c.read_message(), (TEXT, b"still here"))

    def test_64_bit_length_with_top_bit_set_is_1002_or_1009(self):
        with self.server.ws() as c:
            c.send(bytes([0x82, 0xFF]) + struct.pack("!Q", 1 << 63) + b"\0\0\0\0")
            code, _ = c.read_close()
            self.assertIn(code, (1002, 1009))


class CloseHandshake(ServerTestCase):
    """Autobahn 7.x and the contract's close rules."""

    def close_with(self, payload):
        c = self.server.ws()
        c.send_frame(CLOSE, payload)
        return c

    def test_7_1_1_echo_then_close(self):
        with self.server.ws() as c:
            c.send_frame(TEXT, b"bye soon")
            self.assertEqual(c.read_message(), (TEXT, b"bye soon"))
            c.send_frame(CLOSE, close_payload(1000))
            self.assertClose(c, 1000)

    def test_7_1_3_data_after_close_is_ignored(self):
        with self.server.ws() as c:
            c.send(build_frame(CLOSE, close_payload(1000)) + build_frame(TEXT, b"too late")
                   + build_frame(PING, b"too late"))
            code, _ = c.read_close()
            self.assertEqual(code, 1000)
            c.expect_eof()  # fails if the text is echoed or the ping answered after the close

    def test_7_1_5_close_while_fragmented_message_open(self):
        with self.server.ws() as c:
            c.send_frame(TEXT, b"never finished", fin=False)
            c.send_frame(CLOSE, close_payload(1000))
            self.assertClose(c, 1000)

    def test_7_3_1_close_without_payload_gets_close_without_code_or_1000(self):
        with self.close_with(b"") as c:
            code, reason = c.read_close()
            self.assertIn(code, (None, 1000))
            c.expect_eof()

    def test_7_3_2_close_with_1_byte_payload_is_1002(self):
        with self.close_with(b"\x03") as c:
            self.assertClose(c, 1002, "close payload of 1 byte")

    def test_7_3_3_close_with_code_only(self):
        with self.close_with(close_payload(1000)) as c:
            self.assertClose(c, 1000)

    def test_7_3_4_close_with_code_and_reason(self):
        with self.close_with(close_payload(1000, b"Hello World!")) as c:
            self.assertClose(c, 1000)

    def test_7_3_5_close_with_125_byte_payload_is_fine(self):
        with self.close_with(close_payload(1000, b"r" * 123)) as c:
            self.assertClose(c, 1000)

    def test_7_3_6_close_with_126_byte_payload_is_1002(self):
        with self.close_with(close_payload(1000, b"r" * 124)) as c:
            self.assertClose(c, 1002, "close payload of 126 bytes")

    def test_7_5_1_close_reason_with_invalid_utf8_is_1007(self):
        with self.close_with(close_payload(1000, BAD_UTF8)) as c:
            self.assertClose(c, 1007, "close reason not UTF-8")

    def test_close_with_code_3000_is_echoed(self):
        with self.close_with(close_payload(3000)) as c:
            self.assertClose(c, 3000)

    def test_fragmented_close_is_1002(self):
        with self.server.ws() as c:
            c.send_frame(CLOSE, close_payload(1000), fin=False)
            self.assertClose(c, 1002, "close with FIN=0")


# Autobahn 7.7.x: codes a peer may send are echoed; 7.9.x: codes that may not be sent are 1002.
VALID_CODES = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999)
INVALID_CODES = (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535)


def _echoed(code):
    def test(self):
        with self.close_with(close_payload(code, b"reason")) as c:
            self.assertClose(c, code, f"close code {code}")
    return test


def _refused(code):
    def test(self):
        with self.close_with(close_payload(code)) as c:
            self.assertClose(c, 1002, f"close code {code}")
    return test


for _code in VALID_CODES:
    setattr(CloseHandshake, f"test_7_7_close_code_{_code}_is_echoed", _echoed(_code))
for _code in INVALID_CODES:
    setattr(CloseHandshake, f"test_7_9_close_code_{_code}_is_1002", _refused(_code))


class MessageLimits(ServerTestCase):
    FLAGS = ("--max-message-bytes", "1024", "--max-fragments", "4")

    def test_message_of_exactly_the_limit_is_echoed(self):
        with self.server.ws() as c:
            c.send_frame(BINARY, b"b" * 1024)
            self.assertEqual(c.read_message(), (BINARY, b"b" * 1024))

    def test_message_over_max_message_bytes_is_1009(self):
        with self.server.ws() as c:
            c.send_frame(TEXT, b"t" * 2000)
            self.assertClose(c, 1009, "2000-byte message with a 1024-byte limit")

    def test_announced_length_over_the_limit_is_1009_before_the_payload(self):
        with self.server.ws() as c:
            c.send(build_frame(BINARY, b"", length=1 << 20))  # the header alone
            code, _ = c.read_close(4.0)
            self.assertEqual(code, 1009)

    def test_fragments_adding_up_over_the_limit_are_1009(self):
        with self.server.ws() as c:
            c.send_frame(TEXT, b"a" * 600, fin=False)
            c.send_frame(CONT, b"a" * 600)
            self.assertClose(c, 1009, "two fragments totalling 1200 bytes")

    def test_fragments_within_max_fragments_are_echoed(self):
        with self.server.ws() as c:
            c.send(build_frame(TEXT, b"1", fin=False) + build_frame(CONT, b"2", fin=False)
                   + build_frame(CONT, b"3", fin=False) + build_frame(CONT, b"4"))
            self.assertEqual(c.read_message(), (TEXT, b"1234"))

    def test_more_fragments_than_max_fragments_is_1009(self):
        with self.server.ws() as c:
            c.send(b"".join(build_frame(TEXT if i == 0 else CONT, b"x", fin=False)
                            for i in range(10)))
            self.assertClose(c, 1009, "10 fragments with --max-fragments 4")


if __name__ == "__main__":
    unittest.main()
