// tests/chat/jwt_test.cc: HS256 tokens against vectors computed independently (the jwt.io example
// and tokens made with python3's hmac, hashlib, base64 and json), and every way to refuse one.
#include "chat/jwt.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace epws::chat;

namespace {

constexpr int64_t kNow = 1800000000; // between the vectors' nbf (1.7e9) and exp (2e9)

// python3: json.dumps (with its spaces) of {"alg":"HS256","typ":"JWT"} and
// {"sub":"alice","exp":2000000000,"nbf":1700000000}, HMAC-SHA256 with "s3cret".
constexpr std::string_view kAlice =
    "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9."
    "eyJzdWIiOiAiYWxpY2UiLCAiZXhwIjogMjAwMDAwMDAwMCwgIm5iZiI6IDE3MDAwMDAwMDB9."
    "_-1zvF8wt1GXN60TMzOfE_f2zHiV3vkqgSSM60BKqQY";

// python3: header keys reversed; sub "名前🙂" as json.dumps writes it (\u escapes, a surrogate
// pair for the emoji); exp 2000000000.5; secret "another secret".
constexpr std::string_view kCjk =
    "eyJ0eXAiOiAiSldUIiwgImFsZyI6ICJIUzI1NiJ9."
    "eyJzdWIiOiAiXHU1NDBkXHU1MjRkXHVkODNkXHVkZTQyIiwgImV4cCI6IDIwMDAwMDAwMDAuNSwgImlhdCI6IDF9."
    "21U36yhK1Nr5lN3L4krmNOpLJqS5gUzf06jdH5WF6rM";

JwtError verify_with(std::string_view token, std::string_view secret = "s3cret",
                     int64_t now = kNow) {
    return verify_jwt(token, secret, now).error;
}

std::string flip_char(std::string_view token, size_t at) {
    std::string t(token);
    t[at] = t[at] == 'A' ? 'B' : 'A';
    return t;
}

} // namespace

TEST_SUITE("chat/jwt") {

    TEST_CASE("a token made by python's standard library verifies and names its subject") {
        JwtResult r = verify_jwt(kAlice, "s3cret", kNow);
        REQUIRE(r.ok());
        CHECK(r.user == "alice");
        CHECK(r.exp == 2000000000);
    }

    TEST_CASE("escaped non-ASCII subjects and fractional exp from python verify") {
        JwtResult r = verify_jwt(kCjk, "another secret", kNow);
        REQUIRE(r.ok());
        CHECK(r.user == "名前🙂");
        CHECK(r.exp == 2000000000);
    }

    TEST_CASE("the jwt.io example's signature verifies and only its missing exp refuses it") {
        // The well-known HS256 example (secret "your-256-bit-secret"), recomputed with python.
        constexpr std::string_view kJwtIo =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        CHECK(verify_with(kJwtIo, "your-256-bit-secret") == JwtError::kMissingExp);
        CHECK(verify_with(kJwtIo, "another-256-bit-secret") == JwtError::kBadSignature);
    }

    TEST_CASE("minted tokens match python's bytes exactly") {
        CHECK(mint_jwt("s3cret", "alice", 3600, 1700000000) ==
              "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
              "eyJzdWIiOiJhbGljZSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwfQ."
              "7Pquug-AyVGPZHeMUrqL2N3w8HmNX4tYltN4PEFI9gk");
        CHECK(mint_jwt("k", "名前 🙂", 60, 1700000000) ==
              "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
              "eyJzdWIiOiLlkI3liY0g8J-ZgiIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwMDYwfQ."
              "8hPCWxDnms-EGtPFe018ZhwHtPYjl5w0tH6t8WCBrLI");
    }

    TEST_CASE("a minted token verifies until the second it expires") {
        std::optional<std::string> t = mint_jwt("key", "bob", 60, 1000);
        REQUIRE(t);
        CHECK(verify_jwt(*t, "key", 1000).user == "bob");
        CHECK(verify_with(*t, "key", 1059) == JwtError::kNone);
        CHECK(verify_with(*t, "key", 1060) == JwtError::kExpired);
        CHECK(verify_with(*t, "other", 1000) == JwtError::kBadSignature);
    }

    TEST_CASE("minting refuses bad user names, empty secrets and impossible lifetimes") {
        CHECK_FALSE(mint_jwt("key", "", 60, 0));
        CHECK_FALSE(mint_jwt("key", " bob", 60, 0));
        CHECK_FALSE(mint_jwt("key", "bob\n", 60, 0));
        CHECK_FALSE(mint_jwt("", "bob", 60, 0));
        CHECK_FALSE(mint_jwt("key", "bob", 0, 0));
        CHECK_FALSE(mint_jwt("key", "bob", -5, 0));
        CHECK_FALSE(mint_jwt("key", "bob", INT64_MAX, 1));
    }

    TEST_CASE("changing any byte of the signature, payload or header is refused") {
        const size_t dot1 = kAlice.find('.');
        const size_t dot2 = kAlice.rfind('.');
        CHECK(verify_with(flip_char(kAlice, dot2 + 5)) == JwtError::kBadSignature);
        CHECK(verify_with(flip_char(kAlice, dot1 + 5)) != JwtError::kNone);
        CHECK(verify_with(flip_char(kAlice, 3)) != JwtError::kNone);
        // Every single-character change anywhere fails one check or another.
        for (size_t i = 0; i < kAlice.size(); ++i) {
            if (kAlice[i] == '.') continue;
            CAPTURE(i);
            CHECK(verify_with(flip_char(kAlice, i)) != JwtError::kNone);
        }
    }

    TEST_CASE("a payload re-signed with another key or moved onto another signature is refused") {
        std::optional<std::string> eve = mint_jwt("s3cret-guess", "eve", 3600, kNow);
        REQUIRE(eve);
        const std::string alice_sig(kAlice.substr(kAlice.rfind('.')));
        const std::string spliced = eve->substr(0, eve->rfind('.')) + alice_sig;
        CHECK(verify_with(spliced) == JwtError::kBadSignature);
    }

    TEST_CASE("alg none, HS512, a lower-case alg, a foreign typ and crit headers are refused") {
        CHECK(verify_with("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
                          "eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDAwMDAwMH0.") == JwtError::kMalformed);
        CHECK(verify_with("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
                          "eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDAwMDAwMH0.AAAA") ==
              JwtError::kBadHeader);
        CHECK(
            verify_with(
                "eyJhbGciOiAiSFM1MTIiLCAidHlwIjogIkpXVCJ9."
                "eyJzdWIiOiAiYWxpY2UiLCAiZXhwIjogMjAwMDAwMDAwMH0."
                "mxHQd2MuwrAh3QPBQAney19FpP1GRa4eZntwF_LNyT77GBfmcVpCmlrxtpjzLhpgLwHr0jgrCKGikwCy8"
                "bm_GA") == JwtError::kBadHeader);
        CHECK(verify_with("eyJhbGciOiAiaHMyNTYifQ.eyJzdWIiOiAiYm9iIiwgImV4cCI6IDIwMDAwMDAwMDB9."
                          "GsAXGnIrrfmefPn2eeHXxDx5Rq0CZrWBRqzwmy7mWaw") == JwtError::kBadHeader);
        CHECK(verify_with("eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpPU0UrSlNPTiJ9."
                          "eyJzdWIiOiAiYm9iIiwgImV4cCI6IDIwMDAwMDAwMDB9."
                          "cZeiBDaKzw5w_5MuJvho-gLYt5BAtz0qWmdAxlOyEJA") == JwtError::kBadHeader);
        CHECK(verify_with("eyJhbGciOiAiSFMyNTYiLCAiY3JpdCI6IFsieCJdfQ."
                          "eyJzdWIiOiAiYm9iIiwgImV4cCI6IDIwMDAwMDAwMDB9."
                          "-IGCFF7MoDGJRvEcjlKmRn-ME3q3DDANjvIj4A_mZYo") == JwtError::kBadHeader);
    }

    TEST_CASE("expired and not-yet-valid tokens are refused at their exact seconds") {
        CHECK(verify_with(kAlice, "s3cret", 1999999999) == JwtError::kNone);
        CHECK(verify_with(kAlice, "s3cret", 2000000000) == JwtError::kExpired);
        CHECK(verify_with(kAlice, "s3cret", 1700000000) == JwtError::kNone);
        CHECK(verify_with(kAlice, "s3cret", 1699999999) == JwtError::kNotYetValid);
    }

    TEST_CASE("missing, mistyped and invalid claims each have their own error") {
        // All signed correctly with "s3cret" by python.
        CHECK(verify_with("eyJhbGciOiAiSFMyNTYifQ.eyJzdWIiOiAiYWxpY2UifQ."
                          "Ywgtx3spNtZwTQ2dyNGDNfm2O-R5HQh8tzxpe_kRCao") == JwtError::kMissingExp);
        CHECK(verify_with("eyJhbGciOiAiSFMyNTYifQ.eyJleHAiOiAyMDAwMDAwMDAwfQ."
                          "siYOOjtUoCnTx-B8SrxYKbbVeXgmR1HK3zRt67s5Okw") == JwtError::kMissingSub);
        CHECK(verify_with("eyJhbGciOiAiSFMyNTYifQ.eyJzdWIiOiAiIGJvYiIsICJleHAiOiAyMDAwMDAwMDAwfQ."
                          "Nb_I7bU6GNK_OGUkvdP6XL8mh1XpXiJKkq33Lq0kSus") == JwtError::kBadSubject);
        CHECK(verify_with("eyJhbGciOiAiSFMyNTYifQ.eyJzdWIiOiA0MiwgImV4cCI6IDIwMDAwMDAwMDB9."
                          "kTM0UY3GyKnWt9h4GnUSz_75LrCVYiu2dwpqxg0g_Q4") == JwtError::kBadClaim);
        CHECK(verify_with("eyJhbGciOiAiSFMyNTYifQ.eyJzdWIiOiAiYm9iIiwgImV4cCI6ICIyMDAwMDAwMDAwIn0."
                          "wsrBhz0ljgm_otUV3NJKbFrHsI9sFjXrs1D9WI4MOKg") == JwtError::kBadClaim);
        // {"sub":"bob","sub":"eve",...}: which one a reader takes is not ours to guess.
        CHECK(verify_with("eyJhbGciOiJIUzI1NiJ9."
                          "eyJzdWIiOiJib2IiLCJzdWIiOiJldmUiLCJleHAiOjIwMDAwMDAwMDB9."
                          "A7EoGTx6KMJdKuBZgxt1TZxiGSH3CoXt_NFdMNh9tO4") == JwtError::kMalformed);
        CHECK(verify_with("eyJhbGciOiJIUzI1NiJ9.WyJib2IiXQ."
                          "h2t2DqxEbIPB7Gp_JKEqwjCLU26ZOttrWj9nMy79B7U") == JwtError::kMalformed);
    }

    TEST_CASE("wrong segment counts, bad base64url and oversized tokens are malformed") {
        const std::string_view bad[] = {
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "..",
            "eyJhbGciOiJIUzI1NiJ9..sig",
            "eyJhbGciOiJIUzI1NiJ9.e30",
            "eyJhbGciOiJIUzI1NiJ9=.e30.AAAA", // padding is not base64url
            "eyJhbGciOiJIUzI1NiJ9.e3+.AAAA",  // '+' is standard base64
            "eyJhbGciOiJIUzI1NiJ9.e30 .AAAA",
            "eyJhbGciOiJIUzI1NiJ9.e30.A", // a length of 1 mod 4
            "bm90IGpzb24.e30.AAAA",       // "not json"
        };
        for (std::string_view t : bad) {
            CAPTURE(t);
            CHECK(verify_with(t) == JwtError::kMalformed);
        }
        CHECK(verify_with(std::string(kMaxTokenBytes + 1, 'a')) == JwtError::kMalformed);
        std::string with_dot(kAlice);
        with_dot += '.';
        CHECK(verify_with(with_dot) == JwtError::kMalformed);
    }

    TEST_CASE("base64url round-trips every length and refuses non-canonical text") {
        std::string bytes;
        for (int i = 0; i < 70; ++i) {
            CAPTURE(i);
            const std::string enc = base64url_encode(bytes);
            CHECK(enc.find_first_of("+/=") == std::string::npos);
            CHECK(base64url_decode(enc) == bytes);
            bytes += static_cast<char>(i * 37 + 250);
        }
        CHECK(base64url_encode("\xfb\xff") == "-_8");
        CHECK(base64url_decode("-_8") == std::string("\xfb\xff"));
        CHECK_FALSE(base64url_decode("-_9")); // the last char's unused bits must be zero
        CHECK_FALSE(base64url_decode("Zh"));  // 'h' leaves a set bit after "f"
        CHECK(base64url_decode("Zg") == std::string("f"));
    }

    TEST_CASE("every error has a distinct description") {
        std::set<std::string_view> seen;
        for (int e = 0; e <= static_cast<int>(JwtError::kInternal); ++e) {
            CHECK(seen.insert(jwt_error_string(static_cast<JwtError>(e))).second);
        }
    }
}
