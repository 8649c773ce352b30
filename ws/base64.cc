// ws/base64.cc: strict base64 over OpenSSL's block coder, with the padding bookkeeping OpenSSL
// leaves to its caller. Layer: ws/.
#include "ws/base64.h"

#include <openssl/evp.h>

#include <climits>

namespace epws::ws {
namespace {

bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

// Number of '=' padding chars if `in` is well-formed base64 (RFC 4648 §4), else nullopt.
std::optional<size_t> padding_of(std::string_view in) {
    if (in.size() % 4 != 0) return std::nullopt;
    size_t pad = 0;
    while (pad < 2 && pad < in.size() && in[in.size() - 1 - pad] == '=') ++pad;
    for (size_t i = 0; i < in.size() - pad; ++i) {
        if (!is_base64_char(in[i])) return std::nullopt;  // also refuses a third '=' and inner '='
    }
    return pad;
}

}  // namespace

std::optional<size_t> base64_encode(std::span<const std::byte> in, std::span<char> out) {
    const size_t n = base64_encoded_size(in.size());
    if (in.size() > INT_MAX / 2 || out.size() < n + 1) return std::nullopt;
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()),
                                  static_cast<int>(in.size()));
    if (written < 0 || static_cast<size_t>(written) != n) return std::nullopt;
    return n;
}

std::string base64_encode(std::span<const std::byte> in) {
    std::string out(base64_encoded_size(in.size()) + 1, '\0');
    std::optional<size_t> n = base64_encode(in, out);
    if (!n) return {};
    out.resize(*n);  // drop OpenSSL's NUL
    return out;
}

std::optional<size_t> base64_decode(std::string_view in, std::span<std::byte> out) {
    std::optional<size_t> pad = padding_of(in);
    if (!pad || in.size() > INT_MAX || out.size() < in.size() / 4 * 3) return std::nullopt;
    if (in.empty()) return 0;  // EVP_DecodeBlock would also say 0; skip the call
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
    // EVP_DecodeBlock counts the zero bytes it writes for padding; take them back off.
    if (n < 0 || static_cast<size_t>(n) != in.size() / 4 * 3) return std::nullopt;
    return static_cast<size_t>(n) - *pad;
}

}  // namespace epws::ws
