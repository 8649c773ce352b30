// ws/http/gzip.h: whole-buffer gzip (RFC 1952) for HTTP Content-Encoding, over zlib. Layer: ws/
// (zlib is included from ws/ only). Pure: bytes in, bytes out, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace epws::ws {

// The gzip member of `in` (deflateInit2 with windowBits 31: zlib writes the gzip header and
// the CRC-32/ISIZE trailer), at `level` 0..9. nullopt when zlib fails (every return value is
// checked). Allocates the result; thread-safe (no shared state).
std::optional<std::string> gzip_compress(std::string_view in, int level = 6);

// Inflates one gzip member (windowBits 31), for tests and tools; nullopt on corrupt input or
// when the result would exceed max_out bytes (a bomb stops there).
std::optional<std::string> gzip_decompress(std::string_view in, size_t max_out);

// Does an Accept-Encoding value (RFC 9110 §12.5.3) accept gzip? "gzip", "x-gzip", "*" with a
// non-zero q; "gzip;q=0" refuses it even when "*" is accepted.
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace epws::ws
