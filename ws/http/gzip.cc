// ws/gzip.cc: gzip for HTTP responses over zlib (RFC 1952, RFC 9110 §8.4.1.3). Layer: ws/.
#include "ws/http/gzip.h"

#include <zlib.h>

#include <climits>

#include "ws/http/request.h"

namespace epws::ws {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // zlib: 8..15 plus 16 means "write a gzip wrapper"
constexpr int kMemLevel = 8;              // zlib's default

Bytef* in_ptr(std::string_view s) {
    // zlib's next_in is not const (ZLIB_CONST is not set); it never writes through it.
    return reinterpret_cast<Bytef*>(const_cast<char*>(s.data()));
}

// The q value of one Accept-Encoding element ("gzip;q=0.5"), 1 when absent; -1 if malformed.
double q_value(std::string_view params) {
    while (!params.empty()) {
        size_t semi = params.find(';');
        std::string_view p = params.substr(0, semi);
        params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
        while (!p.empty() && (p.front() == ' ' || p.front() == '\t')) p.remove_prefix(1);
        if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            p.remove_prefix(2);
            // RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
            if (p.empty() || (p[0] != '0' && p[0] != '1')) return -1;
            bool nonzero = p[0] == '1';
            for (size_t i = 1; i < p.size(); ++i) {
                char c = p[i];
                if (i == 1 && c == '.') continue;
                if (c == ' ' || c == '\t') break;
                if (c < '0' || c > '9') return -1;
                if (c != '0') nonzero = true;
            }
            return nonzero ? 1 : 0;
        }
    }
    return 1;
}

}  // namespace

std::optional<std::string> gzip_compress(std::string_view in, int level) {
    if (in.size() > UINT_MAX) return std::nullopt;  // avail_in is a uInt
    z_stream z{};
    if (deflateInit2(&z, level, Z_DEFLATED, kGzipWindowBits, kMemLevel, Z_DEFAULT_STRATEGY) != Z_OK)
        return std::nullopt;
    std::string out(deflateBound(&z, static_cast<uLong>(in.size())), '\0');
    z.next_in = in_ptr(in);
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    // deflateBound promises room for the whole stream, so one Z_FINISH call completes it.
    int rc = deflate(&z, Z_FINISH);
    size_t produced = out.size() - z.avail_out;
    if (deflateEnd(&z) != Z_OK || rc != Z_STREAM_END) return std::nullopt;
    out.resize(produced);
    return out;
}

std::optional<std::string> gzip_decompress(std::string_view in, size_t max_out) {
    if (in.size() > UINT_MAX) return std::nullopt;
    z_stream z{};
    if (inflateInit2(&z, kGzipWindowBits) != Z_OK) return std::nullopt;
    z.next_in = in_ptr(in);
    z.avail_in = static_cast<uInt>(in.size());
    std::string out;
    char chunk[16384];
    int rc = Z_OK;
    while (rc == Z_OK) {
        z.next_out = reinterpret_cast<Bytef*>(chunk);
        z.avail_out = sizeof(chunk);
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) break;
        size_t got = sizeof(chunk) - z.avail_out;
        if (out.size() + got > max_out) {
            rc = Z_BUF_ERROR;
            break;
        }
        out.append(chunk, got);
        if (rc == Z_OK && got == 0 && z.avail_in == 0) {
            rc = Z_DATA_ERROR;  // truncated: no progress and nothing left to read
            break;
        }
    }
    inflateEnd(&z);  // Z_STREAM_ERROR only for a broken stream struct, which ours is not
    if (rc != Z_STREAM_END || z.avail_in != 0) return std::nullopt;  // trailing bytes refused
    return out;
}

bool accepts_gzip(std::string_view value) {
    double gzip = -2, star = -2;  // -2: not mentioned
    while (auto element = next_list_element(value)) {
        std::string_view e = *element;
        size_t semi = e.find(';');
        std::string_view coding = e.substr(0, semi);
        while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
        double q = q_value(semi == std::string_view::npos ? std::string_view{} : e.substr(semi + 1));
        if (ascii_iequals(coding, "gzip") || ascii_iequals(coding, "x-gzip")) gzip = q;
        else if (coding == "*") star = q;
    }
    if (gzip != -2) return gzip > 0;
    return star > 0;
}

}  // namespace epws::ws
