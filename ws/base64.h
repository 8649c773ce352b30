// ws/base64.h: standard base64 (RFC 4648 §4, with padding) over OpenSSL's EVP_EncodeBlock /
// EVP_DecodeBlock, for Sec-WebSocket-Key and Sec-WebSocket-Accept. Layer: ws/. No I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace epws::ws {

// Characters base64 needs for `n` bytes (padding included, no terminator).
constexpr size_t base64_encoded_size(size_t n) { return (n + 2) / 3 * 4; }

// Encodes `in` into `out`, which must hold base64_encoded_size(in.size()) + 1 chars: OpenSSL always
// writes a terminating NUL after the text. Returns the text length, or nullopt if `out` is too
// small or the input is too large for OpenSSL's int lengths. Thread-safe; does not allocate.
std::optional<size_t> base64_encode(std::span<const std::byte> in, std::span<char> out);

// Convenience form returning a new string (empty on failure, which only an oversized input causes).
std::string base64_encode(std::span<const std::byte> in);

// Strictly decodes `in` into `out`: the length must be a multiple of 4, every char in the standard
// alphabet, and '=' only as one or two final padding chars; no whitespace. Non-zero bits left over
// in the final char are accepted (RFC 4648 §3.5 leaves that to the decoder). `out` must hold
// in.size() / 4 * 3 bytes (OpenSSL writes padding bytes too). Returns the decoded length, or
// nullopt if `in` is malformed or `out` too small. Thread-safe; does not allocate.
std::optional<size_t> base64_decode(std::string_view in, std::span<std::byte> out);

}  // namespace epws::ws
