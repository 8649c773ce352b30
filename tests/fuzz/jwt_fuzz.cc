// tests/fuzz/jwt_fuzz.cc: libFuzzer target for HS256 token verification (chat/jwt verify_jwt,
// base64url). Layer: tests/.
//
// Input: [mode] then bytes. Mode 0: the bytes are a token, verified as received from a client
// (it almost never gets past the signature). Otherwise the bytes are "header JSON \n claims JSON"
// and are signed with the right key first, so the claim parsing behind the signature check is
// fuzzed too. A token is a whole string (no streaming): instead of chunks, each accepted token
// must be accepted again, and a token minted for its user must verify to the same user.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <string_view>

#include "chat/jwt.h"
#include "chat/names.h"
#include "tests/fuzz/fuzz_common.h"

using namespace epws::chat;

namespace {

constexpr std::string_view kSecret = "fuzz-secret";
constexpr int64_t kNow = 1700000000;

std::string sign(std::string_view signing_input) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    FUZZ_CHECK(HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
                    reinterpret_cast<const unsigned char*>(signing_input.data()),
                    signing_input.size(), mac, &len) != nullptr);
    return base64url_encode({reinterpret_cast<const char*>(mac), len});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    epws::fuzz::Input in(data, size);
    const uint8_t mode = in.byte();
    const auto rest = in.rest();
    const std::string bytes(reinterpret_cast<const char*>(rest.data()), rest.size());

    // base64url is strict: one encoding per value, so decode(encode(x)) == x and
    // encode(decode(t)) == t.
    const std::string enc = base64url_encode(bytes);
    FUZZ_CHECK(base64url_decode(enc) == bytes);
    if (auto dec = base64url_decode(bytes)) FUZZ_CHECK(base64url_encode(*dec) == bytes);

    std::string token = bytes;
    if (mode != 0) {
        const size_t nl = bytes.find('\n');
        const std::string header = bytes.substr(0, nl);
        const std::string claims = nl == std::string::npos ? "" : bytes.substr(nl + 1);
        token = base64url_encode(header) + "." + base64url_encode(claims);
        token += "." + sign(token);
    }
    const JwtResult r = verify_jwt(token, kSecret, kNow);
    FUZZ_CHECK(!jwt_error_string(r.error).empty());
    if (r.ok()) {
        FUZZ_CHECK(token.size() <= kMaxTokenBytes);
        FUZZ_CHECK(is_valid_user_name(r.user));
        FUZZ_CHECK(r.exp > kNow);  // RFC 7519 §4.1.4: not accepted on or after exp
        // The signature is over the first two segments: any other key refuses the token.
        FUZZ_CHECK(verify_jwt(token, "another-secret", kNow).error == JwtError::kBadSignature);
        FUZZ_CHECK(verify_jwt(token, kSecret, r.exp).error == JwtError::kExpired);
        const JwtResult again = verify_jwt(token, kSecret, kNow);
        FUZZ_CHECK(again.ok() && again.user == r.user && again.exp == r.exp);
    } else {
        FUZZ_CHECK(r.user.empty() || r.error == JwtError::kNone);
    }
    // Minting for any valid user name gives a token that verifies to that very name.
    if (is_valid_user_name(bytes)) {
        auto minted = mint_jwt(kSecret, bytes, 60, kNow);
        FUZZ_CHECK(minted.has_value());
        const JwtResult m = verify_jwt(*minted, kSecret, kNow);
        FUZZ_CHECK(m.ok() && m.user == bytes && m.exp == kNow + 60);
    }
    return 0;
}
