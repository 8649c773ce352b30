// chat/static_files.cc: the browser client's files over plain HTTP, safely. Layer: chat/.
#include "ws/http/static_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <unordered_map>

#include "ws/http/gzip.h"

namespace epws::ws {
namespace {

constexpr size_t kMinGzipBytes = 256;  // below this, the gzip header and trailer eat the gain

struct TypeEntry {
    std::string_view ext, type;
    bool text;  // worth compressing
};
constexpr TypeEntry kTypes[] = {
    {"html", "text/html; charset=utf-8", true},
    {"js", "text/javascript; charset=utf-8", true},  // RFC 9239: text/javascript
    {"mjs", "text/javascript; charset=utf-8", true},
    {"css", "text/css; charset=utf-8", true},
    {"json", "application/json", true},
    {"map", "application/json", true},
    {"webmanifest", "application/manifest+json", true},
    {"txt", "text/plain; charset=utf-8", true},
    {"md", "text/markdown; charset=utf-8", true},
    {"svg", "image/svg+xml", true},
    {"png", "image/png", false},
    {"jpg", "image/jpeg", false},
    {"jpeg", "image/jpeg", false},
    {"gif", "image/gif", false},
    {"webp", "image/webp", false},
    {"ico", "image/x-icon", false},
    {"woff2", "font/woff2", false},
    {"wasm", "application/wasm", false},
};

const TypeEntry* type_of(std::string_view name) {
    size_t slash = name.rfind('/');
    std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
    size_t dot = base.rfind('.');
    if (dot == std::string_view::npos) return nullptr;
    std::string_view ext = base.substr(dot + 1);
    for (const TypeEntry& t : kTypes)
        if (ws::ascii_iequals(t.ext, ext)) return &t;
    return nullptr;
}

std::span<const std::byte> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// RFC 9110 §5.6.7: IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", in any locale.
std::string http_date(time_t t) {
    static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                  tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

std::string hex(uint64_t v) {
    char buf[20];
    int n = std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(v));
    return std::string(buf, static_cast<size_t>(n));
}

// A file as last read, with its validators and (made on first need) its gzip encoding.
struct CachedFile {
    uint64_t size = 0, mtime_ns = 0, inode = 0;
    SharedBufferRef body;  // shared with every reply still sending it
    std::string etag;           // "size-mtime"; the gzip variant adds -gz
    std::string last_modified;  // IMF-fixdate
    bool gzip_tried = false;
    SharedBufferRef gzip;  // none: compressing did not help (or was not tried)
};

// One per thread (each event loop has its own): no locks, and bounded.
struct Cache {
    std::string root;       // the web_root given
    std::string root_real;  // its realpath, "" when it does not resolve
    std::unordered_map<std::string, CachedFile> files;
    size_t bytes = 0;
};
thread_local Cache t_cache;

std::string real_path(const std::string& p) {
    char buf[PATH_MAX];
    return ::realpath(p.c_str(), buf) ? std::string(buf) : std::string();
}

bool inside(const std::string& path, const std::string& root) {
    // The root itself is a directory, never a file to serve; so require "root/...".
    return path.size() > root.size() + 1 && path.compare(0, root.size(), root) == 0 &&
           (path[root.size()] == '/' || root == "/");
}

void not_found(ws::HttpReply& reply) {
    reply.status = 404;
    reply.content_type = "text/plain; charset=utf-8";
    reply.body = "not found\n";
}

// Resolves rel under root_real, following symlinks, to a regular file inside the root;
// "" when there is none.
std::string resolve(const std::string& root_real, const std::string& rel) {
    std::string candidate = rel.empty() ? root_real : root_real + "/" + rel;
    std::string real = real_path(candidate);
    if (real.empty() && errno == ENOENT && !rel.empty() &&
        rel.find('.', rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/')) == std::string::npos)
        real = real_path(candidate + ".html");  // "/inspect" is inspect.html
    if (real.empty()) return {};
    struct stat st {};
    if (::stat(real.c_str(), &st) != 0) return {};
    if (S_ISDIR(st.st_mode)) {
        // The directory must be the root or inside it before its index is looked at.
        if (real != root_real && !inside(real, root_real)) return {};
        real = real_path(real + "/index.html");
        if (real.empty()) return {};
    }
    return inside(real, root_real) ? real : std::string();
}

// Reads the whole file at path (already resolved) into the cache, or finds it there.
// nullptr on failure, with reply filled.
CachedFile* load(const std::string& path, const StaticLimits& limits, ws::HttpReply& reply) {
    // O_NOFOLLOW: path is a realpath(), so a symlink here means it was swapped since.
    // O_NONBLOCK: a FIFO or device in the root must not block the loop in open(); fstat below
    // then refuses anything but a regular file (for which O_NONBLOCK changes nothing).
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        not_found(reply);
        return nullptr;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        not_found(reply);
        return nullptr;
    }
    auto size = static_cast<uint64_t>(st.st_size);
    uint64_t mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull +
                        static_cast<uint64_t>(st.st_mtim.tv_nsec);
    auto it = t_cache.files.find(path);
    if (it != t_cache.files.end() && it->second.size == size && it->second.mtime_ns == mtime_ns &&
        it->second.inode == st.st_ino) {
        ::close(fd);
        return &it->second;
    }
    if (size > limits.max_file_bytes) {
        ::close(fd);
        reply.status = 500;
        reply.body = "file too large to serve\n";
        return nullptr;
    }
    CachedFile f;
    f.size = size;
    f.mtime_ns = mtime_ns;
    f.inode = st.st_ino;
    std::string data(size, '\0');
    size_t got = 0;
    while (got < size) {
        ssize_t n = ::read(fd, data.data() + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
    }
    ::close(fd);
    if (got != size) {  // shrank while read, or an I/O error: better no answer than a torn one
        reply.status = 500;
        reply.body = "could not read the file\n";
        return nullptr;
    }
    f.body = SharedBufferRef(SharedBuffer::make(as_bytes(data)));
    if (!f.body) {
        reply.status = 500;
        reply.body = "out of memory\n";
        return nullptr;
    }
    f.etag = "\"" + hex(size) + "-" + hex(mtime_ns) + "\"";
    f.last_modified = http_date(st.st_mtim.tv_sec);
    if (it != t_cache.files.end()) {
        t_cache.bytes -= it->second.body.size() + it->second.gzip.size();  // replies keep theirs
        t_cache.files.erase(it);
    }
    // Bounded: past the budget, start over (files are few and small; a full LRU is not worth it).
    if (t_cache.bytes + 2 * size > limits.cache_bytes) {
        t_cache.files.clear();
        t_cache.bytes = 0;
    }
    t_cache.bytes += size;
    return &(t_cache.files[path] = std::move(f));
}

// RFC 9110 §13.1.2: If-None-Match with the weak comparison; "*" matches any current file.
bool etag_matches(std::string_view header, std::string_view etag) {
    std::string_view rest = header;
    while (auto e = ws::next_list_element(rest)) {
        std::string_view tag = *e;
        if (tag == "*") return true;
        if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
        if (tag == etag) return true;
    }
    return false;
}

}  // namespace

std::string_view content_type_for(std::string_view name) {
    const TypeEntry* t = type_of(name);
    return t ? t->type : "application/octet-stream";
}

std::optional<std::string> safe_relative_path(std::string_view raw) {
    if (raw.empty() || raw[0] != '/') return std::nullopt;  // absolute-form targets included
    std::string decoded;
    for (size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '%') {
            int hi = i + 2 < raw.size() ? hex_digit(raw[i + 1]) : -1;
            int lo = i + 2 < raw.size() ? hex_digit(raw[i + 2]) : -1;
            if (hi < 0 || lo < 0) return std::nullopt;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || c == '\\') return std::nullopt;
        decoded += c;
    }
    // Segments after decoding, so "%2e%2e" and "..%2f" are seen for what they are.
    std::string out;
    size_t pos = 0;
    while (pos <= decoded.size()) {
        size_t slash = decoded.find('/', pos);
        if (slash == std::string::npos) slash = decoded.size();
        std::string_view seg(decoded.data() + pos, slash - pos);
        pos = slash + 1;
        if (seg.empty()) continue;  // "//" collapses; the path stays under the root
        if (seg[0] == '.') return std::nullopt;  // ".", "..", and dotfiles (.git, .env)
        if (!out.empty()) out += '/';
        out += seg;
    }
    return out;
}

void serve_static(std::string_view web_root, const ws::HttpRequest& req, ws::HttpReply& reply,
                  const StaticLimits& limits) {
    if (t_cache.root != web_root) {
        t_cache = Cache{};
        t_cache.root = std::string(web_root);
        t_cache.root_real = real_path(t_cache.root);
    }
    auto rel = safe_relative_path(req.path);
    if (!rel || t_cache.root_real.empty()) return not_found(reply);
    std::string path = resolve(t_cache.root_real, *rel);
    if (path.empty()) return not_found(reply);
    CachedFile* f = load(path, limits, reply);
    if (f == nullptr) return;

    const TypeEntry* type = type_of(path);
    reply.content_type = type ? type->type : "application/octet-stream";
    const std::string_view* ae = req.find("Accept-Encoding");
    bool gzip = false;
    if (type && type->text && f->body.size() >= kMinGzipBytes && ae && ws::accepts_gzip(*ae)) {
        if (!f->gzip_tried) {
            f->gzip_tried = true;
            auto plain = f->body.bytes();
            auto z = ws::gzip_compress({reinterpret_cast<const char*>(plain.data()), plain.size()});
            if (z && z->size() < f->body.size() && t_cache.bytes + z->size() <= limits.cache_bytes) {
                f->gzip = SharedBufferRef(SharedBuffer::make(as_bytes(*z)));
                t_cache.bytes += f->gzip.size();
            }
        }
        gzip = static_cast<bool>(f->gzip);
    }
    // A different encoding is a different representation, with its own validator.
    std::string etag = gzip ? f->etag.substr(0, f->etag.size() - 1) + "-gz\"" : f->etag;
    std::string& h = reply.extra_headers;
    h += "ETag: " + etag + "\r\n";
    h += "Last-Modified: " + f->last_modified + "\r\n";
    h += "Cache-Control: no-cache\r\n";
    if (type && type->text) h += "Vary: Accept-Encoding\r\n";
    h += "X-Content-Type-Options: nosniff\r\n";
    if (type && type->ext == "html") {
        h += "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
             "img-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; "
             "base-uri 'none'; frame-ancestors 'none'\r\n";
    }
    const std::string_view* inm = req.find("If-None-Match");
    const std::string_view* ims = req.find("If-Modified-Since");
    // RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only without it (exact match,
    // as nginx does by default: our dates are our own).
    bool fresh = inm ? etag_matches(*inm, etag) : (ims && *ims == f->last_modified);
    if (fresh) {
        reply.status = 304;
        reply.content_type.clear();
        reply.body.clear();
        return;
    }
    if (gzip) h += "Content-Encoding: gzip\r\n";
    reply.status = 200;
    reply.shared_body = gzip ? f->gzip : f->body;  // by reference: no copy per reply
}

}  // namespace epws::ws
