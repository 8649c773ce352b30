// tests/ws/deflate_test.cc: unit tests for ws/deflate.cc and ws/deflate_engine.cc: the RFC 7692
// §7.2.3 examples byte for byte, round trips through the frame reader split at every offset, and
// a decompression bomb stopped while memory is still small. Layer: tests/.
#include "ws/deflate.h"

#include <doctest/doctest.h>

#include <cstring>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tests/ws/deflate_samples.h"
#include "ws/deflate_engine.h"
#include "ws/frame.h"
#include "ws/message_reader.h"

using epws::ws::DeflateConfig;
using epws::ws::DeflateEngine;
using epws::ws::DeflateParams;
using epws::ws::Deflater;
using epws::ws::DeflateStats;
using epws::ws::DeflateStreams;
using epws::ws::Inflater;
using epws::ws::Opcode;
using epws::ws::ProtocolError;
using epws::ws::ZlibMemory;
using epws::test::Bytes;
using epws::test::bytes;
using epws::test::sample;
using epws::test::text;

namespace {

Bytes inflate_all(Inflater& inf, const Bytes& in, bool reset = false) {
    Bytes out;
    REQUIRE(inf.inflate(in, 1u << 30, out, reset) == ProtocolError::kNone);
    return out;
}

// A MessageSink that keeps each message and its RSV1 flag.
struct Collect final : epws::ws::MessageSink {
    std::vector<Bytes> messages;
    std::vector<bool> compressed;
    bool on_message(Opcode, std::span<std::byte> p, bool c) override {
        messages.emplace_back(p.begin(), p.end());
        compressed.push_back(c);
        return true;
    }
    bool on_control(Opcode, std::span<std::byte>) override { return true; }
};

// Client frames (masked) of one message cut into `parts` fragments, RSV1 on the first only.
Bytes frames(const Bytes& payload, size_t parts, Opcode op) {
    const std::byte mask[4] = {std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
    Bytes out;
    size_t step = payload.size() / parts + 1;
    for (size_t i = 0, off = 0; i < parts; ++i, off += step) {
        size_t n = off >= payload.size() ? 0 : std::min(step, payload.size() - off);
        std::byte h[epws::ws::kMaxFrameHeader];
        size_t hs = epws::ws::encode_frame_header(h, i == 0 ? op : Opcode::kContinuation, n,
                                                  i + 1 == parts, i == 0, mask);
        out.insert(out.end(), h, h + hs);
        Bytes body(payload.begin() + static_cast<long>(std::min(off, payload.size())),
                   payload.begin() + static_cast<long>(std::min(off, payload.size()) + n));
        epws::ws::apply_mask(body.data(), body.size(), mask);
        out.insert(out.end(), body.begin(), body.end());
    }
    return out;
}

} // namespace

TEST_SUITE("ws/deflate") {

    TEST_CASE("Hello compresses to the bytes of RFC 7692 section 7.2.3.1 and 7.2.3.2") {
        Deflater d;
        REQUIRE(d.init(6, 15, 8, nullptr));
        Bytes out;
        REQUIRE(d.compress(text("Hello"), out, false));
        CHECK(out == bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})); // §7.2.3.1
        // §7.2.3.2: with context takeover the second "Hello" is a back-reference.
        REQUIRE(d.compress(text("Hello"), out, true));
        CHECK(out == bytes({0xf2, 0x00, 0x11, 0x00, 0x00}));
        // Reset after the last one: no context takeover, the first form again.
        REQUIRE(d.compress(text("Hello"), out, true));
        CHECK(out == bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
    }

    TEST_CASE("the RFC 7692 section 7.2.3 examples inflate to Hello") {
        Inflater inf;
        REQUIRE(inf.init(15, nullptr));
        CHECK(inflate_all(inf, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})) == text("Hello"));
        CHECK(inflate_all(inf, bytes({0xf2, 0x00, 0x11, 0x00, 0x00})) == text("Hello")); // §7.2.3.2
        // §7.2.3.3: a stored (uncompressed) block.
        CHECK(inflate_all(inf, bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f,
                                      0x00})) == text("Hello"));
        // §7.2.3.4: a block with BFINAL = 1 ends the stream; the window survives for the next one.
        CHECK(inflate_all(inf, bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00})) ==
              text("Hello"));
        CHECK(inflate_all(inf, bytes({0xf2, 0x00, 0x11, 0x00, 0x00})) == text("Hello"));
        // §7.2.3.5: two DEFLATE blocks in one message.
        CHECK(inflate_all(inf, bytes({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9,
                                      0xc9, 0x07, 0x00})) == text("Hello"));
    }

    TEST_CASE("bytes after the final block are refused with 1007, but not RFC 7692's one 0x00") {
        // "Hello" in a final block (zlib's Z_FINISH output), then what may or may not follow it.
        const Bytes final_block = bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
        struct Row {
            const char* what;
            Bytes after;
            bool ok;
        };
        const Row rows[] = {
            {"nothing: the stream ends with the payload", {}, true},
            {"one 0x00 (RFC 7692 section 7.2.3.4)", bytes({0x00}), true},
            {"one other byte", bytes({0x01}), false},
            {"0x00 twice", bytes({0x00, 0x00}), false},
            {"the tail itself", bytes({0x00, 0x00, 0xff, 0xff}), false},
            {"a second message", bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), false},
            {"garbage", bytes({0xde, 0xad, 0xbe, 0xef}), false},
        };
        for (bool reset : {true, false}) {
            for (const Row& row : rows) {
                CAPTURE(row.what);
                CAPTURE(reset);
                Inflater inf;
                REQUIRE(inf.init(15, nullptr));
                Bytes in = final_block;
                in.insert(in.end(), row.after.begin(), row.after.end());
                Bytes out;
                const ProtocolError e = inf.inflate(in, 1 << 20, out, reset);
                CHECK(e == (row.ok ? ProtocolError::kNone : ProtocolError::kBadDeflateData));
                if (row.ok) CHECK(out == text("Hello"));
            }
        }
        CHECK(epws::ws::close_code(ProtocolError::kBadDeflateData) ==
              epws::ws::CloseCode::kInvalidPayload);
        // A final block completed only by the tail we append ends on bytes nobody sent.
        Inflater inf;
        REQUIRE(inf.init(15, nullptr));
        Bytes out;
        CHECK(inf.inflate(bytes({0x03}), 1 << 20, out, true) == ProtocolError::kBadDeflateData);
        // An empty final stored block whose LEN and NLEN are the tail is a whole stream.
        CHECK(inf.inflate(bytes({0x01}), 1 << 20, out, true) == ProtocolError::kNone);
        CHECK(out.empty());
        // After a refusal the next message still inflates (the stream was reset).
        CHECK(inflate_all(inf, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})) == text("Hello"));
    }

    TEST_CASE("an empty message compresses to one 00 byte and inflates back to nothing") {
        Deflater d;
        REQUIRE(d.init(6, 15, 8, nullptr));
        Bytes out;
        REQUIRE(d.compress({}, out, true));
        CHECK(out == bytes({0x00})); // RFC 7692 §7.2.3.6
        Inflater inf;
        REQUIRE(inf.init(15, nullptr));
        CHECK(inflate_all(inf, out).empty());
        CHECK(inflate_all(inf, {}).empty());
    }

    TEST_CASE("corrupt deflate data is kBadDeflateData, which closes with 1007") {
        Inflater inf;
        REQUIRE(inf.init(15, nullptr));
        Bytes out;
        CHECK(inf.inflate(bytes({0xff, 0xff, 0xff, 0xff}), 1 << 20, out, true) ==
              ProtocolError::kBadDeflateData);
        CHECK(epws::ws::close_code(ProtocolError::kBadDeflateData) ==
              epws::ws::CloseCode::kInvalidPayload);
        CHECK(epws::ws::close_code(ProtocolError::kInflateTooBig) ==
              epws::ws::CloseCode::kMessageTooBig);
        CHECK(epws::ws::close_code(ProtocolError::kDeflateFailed) ==
              epws::ws::CloseCode::kInternalError);
    }

    TEST_CASE("messages of many sizes round trip with and without context takeover") {
        for (bool reset : {false, true}) {
            Deflater d;
            Inflater inf;
            REQUIRE(d.init(6, 15, 8, nullptr));
            REQUIRE(inf.init(15, nullptr));
            for (size_t n : {size_t{0}, size_t{1}, size_t{125}, size_t{4096}, size_t{65536},
                             size_t{1} << 20}) {
                Bytes in = sample(n, static_cast<unsigned>(n)), packed;
                REQUIRE(d.compress(in, packed, reset));
                CAPTURE(n);
                CHECK(inflate_all(inf, packed, reset) == in);
            }
        }
    }

    TEST_CASE(
        "a compressed message in fragments, split at every offset, reads and inflates whole") {
        Deflater d;
        REQUIRE(d.init(6, 15, 8, nullptr));
        const Bytes message = sample(300, 7);
        Bytes packed;
        REQUIRE(d.compress(message, packed, true));
        epws::ws::ReaderLimits limits;
        for (size_t parts : {size_t{1}, size_t{3}}) {
            const Bytes wire = frames(packed, parts, Opcode::kText);
            for (size_t cut = 0; cut <= wire.size(); ++cut) {
                epws::ws::MessageReader reader(epws::ws::Role::kServer, &limits);
                reader.set_rsv1_allowed(true);
                Collect sink;
                Bytes buf(wire.begin(), wire.begin() + static_cast<long>(cut));
                auto r = reader.read(buf, sink);
                REQUIRE(r.error == ProtocolError::kNone);
                Bytes rest(buf.begin() + static_cast<long>(r.consumed), buf.end());
                rest.insert(rest.end(), wire.begin() + static_cast<long>(cut), wire.end());
                REQUIRE(reader.read(rest, sink).error == ProtocolError::kNone);
                CAPTURE(cut);
                REQUIRE(sink.messages.size() == 1);
                CHECK(sink.compressed[0]);
                Inflater inf;
                REQUIRE(inf.init(15, nullptr));
                CHECK(inflate_all(inf, sink.messages[0], true) == message);
            }
        }
    }

    TEST_CASE("a decompression bomb stops with 1009 while its memory is still small") {
        // 256 MiB of zeros, deflated in 1 MiB steps (the test never holds it): about 256 KiB.
        Bytes bomb;
        {
            Deflater d;
            REQUIRE(d.init(9, 15, 8, nullptr));
            Bytes zeros(1 << 20), piece;
            for (int i = 0; i < 256; ++i) {
                REQUIRE(d.compress(zeros, piece, false));
                bomb.insert(bomb.end(), piece.begin(), piece.end());
                // Put back the sync-flush tail compress() removed, except at the message's end.
                if (i != 255)
                    bomb.insert(bomb.end(), epws::ws::kDeflateTail, epws::ws::kDeflateTail + 4);
            }
        }
        CHECK(bomb.size() < (1u << 20));
        ZlibMemory zlib;
        Inflater inf;
        REQUIRE(inf.init(15, &zlib));
        const size_t limit = 1 << 20;
        Bytes out;
        CHECK(inf.inflate(bomb, limit, out, true) == ProtocolError::kInflateTooBig);
        // Peak memory: the output never grew past limit + 1 bytes, zlib held its window and state.
        CHECK(out.capacity() <= limit + 1);
        CHECK(zlib.bytes <= 48u << 10);
    }

    TEST_CASE(
        "the engine shares streams without context takeover and creates dedicated ones lazily") {
        DeflateConfig config;
        DeflateStats stats;
        DeflateEngine engine(config, stats);
        DeflateParams shared{true, true, true, 15, 15};
        DeflateParams dedicated{true, false, false, 15, 15};
        std::unique_ptr<DeflateStreams> own;
        const Bytes in = sample(4096, 1);
        Bytes packed, back;
        REQUIRE(engine.compress(shared, own, in, packed));
        REQUIRE(engine.inflate(shared, own, packed, 1 << 20, back) == ProtocolError::kNone);
        CHECK(back == in);
        CHECK(own == nullptr); // shared mode: no per-connection zlib state at all
        CHECK(stats.dedicated_streams == 0);
        const size_t shared_bytes = stats.zlib.bytes;
        CHECK(shared_bytes > 0);
        REQUIRE(engine.compress(dedicated, own, in, packed));
        CHECK(own != nullptr);
        CHECK(stats.dedicated_streams == 1);
        CHECK(stats.zlib.bytes > shared_bytes);
        engine.release(own);
        CHECK(own == nullptr);
        CHECK(stats.dedicated_streams == 0);
        CHECK(stats.zlib.bytes == shared_bytes); // the connection's streams are all freed
        CHECK(stats.messages_deflated == 2);
        CHECK(stats.messages_inflated == 1);
    }

    TEST_CASE(
        "the engine compresses from the threshold up, and at most 256 bytes for an 8-bit window") {
        DeflateConfig config;
        config.threshold = 64;
        DeflateStats stats;
        DeflateEngine engine(config, stats);
        DeflateParams p{true, false, false, 15, 15};
        CHECK_FALSE(engine.should_compress(DeflateParams{}, 1000));
        CHECK_FALSE(engine.should_compress(p, 63));
        CHECK(engine.should_compress(p, 64));
        p.server_window_bits = 8;
        CHECK(engine.should_compress(p, 256));
        CHECK_FALSE(engine.should_compress(p, 257));
        CHECK(DeflateEngine::output_is_shareable(p));
        // What the 8-bit window gets inflates with an 8-bit window (RFC 7692 §7.1.2.1).
        std::unique_ptr<DeflateStreams> own;
        const Bytes in = sample(256, 3);
        Bytes packed;
        REQUIRE(engine.compress(p, own, in, packed));
        CHECK(own == nullptr);
        Inflater inf;
        REQUIRE(inf.init(8, nullptr));
        CHECK(inflate_all(inf, packed, true) == in);
    }

} // TEST_SUITE
