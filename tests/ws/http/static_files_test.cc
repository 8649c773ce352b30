// tests/ws/http/static_files_test.cc: the browser client's files: safe paths, types, validators
// (304), gzip, and a symlink out of the root, against a temporary web root.
#include "ws/http/static_files.h"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "ws/http/gzip.h"

using namespace epws;
using namespace epws::ws;

namespace {

// A temporary tree: ROOT/web/{index.html, app.js, sub/index.html, big.css, out -> ../secret},
// ROOT/secret.txt. Removed at the end.
struct Tree {
    std::string base, web;
    Tree() {
        char tmpl[] = "/tmp/epws-static-XXXXXX";
        base = mkdtemp(tmpl);
        web = base + "/web";
        mkdir(web.c_str(), 0755);
        mkdir((web + "/sub").c_str(), 0755);
        write(web + "/index.html", "<!doctype html><title>hi</title>");
        write(web + "/app.js", "export const x = 1;\n");
        write(web + "/inspect.html", "inspect");
        write(web + "/sub/index.html", "sub index");
        write(web + "/.env", "SECRET=1");
        std::string css;
        for (int i = 0; i < 300; ++i) css += ".msg { color: #123456; }\n";
        write(web + "/big.css", css);
        write(base + "/secret.txt", "top secret");
        REQUIRE(symlink("../secret.txt", (web + "/out.txt").c_str()) == 0);
        REQUIRE(symlink("/etc", (web + "/etc").c_str()) == 0);
        REQUIRE(symlink("app.js", (web + "/alias.js").c_str()) == 0);  // inside: fine
    }
    ~Tree() {
        std::string cmd = "rm -rf '" + base + "'";
        CHECK(std::system(cmd.c_str()) == 0);
    }
    static void write(const std::string& path, const std::string& body) {
        std::ofstream(path, std::ios::binary) << body;
    }
};

struct Req {
    ws::HttpRequest req;
    explicit Req(std::string_view path) {
        req.method = "GET";
        req.path = path;
        req.target = path;
    }
    Req& header(std::string_view name, std::string_view value) {
        req.headers.push_back({name, value});
        return *this;
    }
};

// The reply, with a file's shared body copied into body for the checks (a 200 must come by
// reference: the cached bytes, never a copy per reply).
ws::HttpReply get(const Tree& t, Req r) {
    ws::HttpReply reply;
    serve_static(t.web, r.req, reply);
    if (reply.status == 200) {
        CHECK(reply.body.empty());
        CHECK(static_cast<bool>(reply.shared_body));
        auto b = reply.shared_body.bytes();
        reply.body.assign(reinterpret_cast<const char*>(b.data()), b.size());
    }
    return reply;
}

std::string header_value(const ws::HttpReply& r, std::string_view name) {
    std::string key = std::string(name) + ": ";
    size_t at = r.extra_headers.find(key);
    if (at == std::string::npos) return {};
    size_t end = r.extra_headers.find("\r\n", at);
    return r.extra_headers.substr(at + key.size(), end - at - key.size());
}

}  // namespace

TEST_SUITE("ws/http/static_files") {
    TEST_CASE("a FIFO in the root is refused at once, never opened for a blocking read") {
        Tree t;
        std::string fifo = t.web + "/pipe.txt";
        REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
        CHECK(get(t, Req("/pipe.txt")).status == 404);  // would hang in open() without O_NONBLOCK
    }

    TEST_CASE("two replies of one cached file share its bytes") {
        Tree t;
        ws::HttpReply a, b;
        serve_static(t.web, Req("/index.html").req, a);
        serve_static(t.web, Req("/index.html").req, b);
        REQUIRE(a.shared_body);
        CHECK(a.shared_body.get() == b.shared_body.get());
    }


TEST_CASE("safe_relative_path refuses dot segments however they are spelled") {
    CHECK(safe_relative_path("/") == std::string());
    CHECK(safe_relative_path("/app.js") == std::string("app.js"));
    CHECK(safe_relative_path("//a///b.js") == std::string("a/b.js"));
    CHECK(safe_relative_path("/caf%C3%A9.txt") == std::string("café.txt"));
    for (const char* bad : {"", "app.js", "http://x/app.js", "/..", "/../x", "/a/../../x",
                            "/%2e%2e/x", "/%2E%2e/x", "/a/%2e%2e%2f%2e%2e%2fx", "/..%2fx",
                            "/.", "/./x", "/.env", "/a/.git/config", "/%00", "/a%00.js",
                            "/a\\..\\x", "/%5c..%5cx", "/%", "/%2", "/%zz"}) {
        CAPTURE(bad);
        CHECK_FALSE(safe_relative_path(bad));
    }
}

TEST_CASE("files are served with their type, validators and security headers") {
    Tree t;
    auto r = get(t, Req("/"));
    CHECK(r.status == 200);
    CHECK(r.body == "<!doctype html><title>hi</title>");
    CHECK(r.content_type == "text/html; charset=utf-8");
    CHECK(header_value(r, "ETag").size() > 4);
    CHECK(header_value(r, "Last-Modified").find(" GMT") != std::string::npos);
    CHECK(header_value(r, "Cache-Control") == "no-cache");
    CHECK(header_value(r, "X-Content-Type-Options") == "nosniff");
    CHECK(header_value(r, "Content-Security-Policy").find("script-src 'self'") != std::string::npos);
    auto js = get(t, Req("/app.js"));
    CHECK(js.content_type == "text/javascript; charset=utf-8");
    CHECK(header_value(js, "Content-Security-Policy").empty());
    CHECK(get(t, Req("/inspect")).body == "inspect");  // NAME.html without the extension
    CHECK(get(t, Req("/sub/")).body == "sub index");
    CHECK(get(t, Req("/sub")).body == "sub index");
    CHECK(get(t, Req("/alias.js")).body == "export const x = 1;\n");  // a symlink inside the root
    CHECK(content_type_for("a.PNG") == "image/png");
    CHECK(content_type_for("README") == "application/octet-stream");
}

TEST_CASE("nothing outside the root is ever served") {
    Tree t;
    for (const char* p : {"/missing.js", "/../secret.txt", "/%2e%2e/secret.txt", "/out.txt",
                          "/etc/passwd", "/etc/hostname", "/.env", "/sub/../../secret.txt",
                          "/%2fetc%2fpasswd"}) {
        CAPTURE(p);
        auto r = get(t, Req(p));
        CHECK(r.status == 404);
        CHECK(r.body.find("secret") == std::string::npos);
    }
    // "//etc/passwd" collapses to "etc/passwd" inside the root: that is the symlink, refused.
    CHECK(get(t, Req("//etc/passwd")).status == 404);
    // A missing root serves nothing.
    ws::HttpReply r;
    serve_static("/nonexistent/epws/web", Req("/").req, r);
    CHECK(r.status == 404);
}

TEST_CASE("If-None-Match and If-Modified-Since answer 304; a changed file does not") {
    Tree t;
    auto first = get(t, Req("/app.js"));
    std::string etag = header_value(first, "ETag");
    std::string date = header_value(first, "Last-Modified");
    auto again = get(t, Req("/app.js").header("If-None-Match", etag));
    CHECK(again.status == 304);
    CHECK(again.body.empty());
    CHECK(header_value(again, "ETag") == etag);
    CHECK(get(t, Req("/app.js").header("If-None-Match", "\"x\", W/" + etag)).status == 304);
    CHECK(get(t, Req("/app.js").header("If-None-Match", "*")).status == 304);
    CHECK(get(t, Req("/app.js").header("If-None-Match", "\"other\"")).status == 200);
    CHECK(get(t, Req("/app.js").header("If-Modified-Since", date)).status == 304);
    // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    CHECK(get(t, Req("/app.js").header("If-None-Match", "\"other\"").header("If-Modified-Since", date))
              .status == 200);
    Tree::write(t.web + "/app.js", "export const x = 22;\n");  // size changes: a new ETag
    auto changed = get(t, Req("/app.js").header("If-None-Match", etag));
    CHECK(changed.status == 200);
    CHECK(changed.body == "export const x = 22;\n");
}

TEST_CASE("gzip when accepted and worth it, with its own ETag") {
    Tree t;
    auto plain = get(t, Req("/big.css"));
    auto z = get(t, Req("/big.css").header("Accept-Encoding", "gzip, deflate, br"));
    CHECK(header_value(z, "Content-Encoding") == "gzip");
    CHECK(header_value(z, "Vary") == "Accept-Encoding");
    CHECK(z.body.size() < plain.body.size() / 4);
    CHECK(ws::gzip_decompress(z.body, 1 << 20) == plain.body);
    CHECK(header_value(z, "ETag") != header_value(plain, "ETag"));
    CHECK(get(t, Req("/big.css").header("Accept-Encoding", "gzip").header("If-None-Match",
                                                                          header_value(z, "ETag")))
              .status == 304);
    CHECK(header_value(get(t, Req("/big.css").header("Accept-Encoding", "gzip;q=0")),
                       "Content-Encoding").empty());
    // Too small to gain.
    CHECK(header_value(get(t, Req("/app.js").header("Accept-Encoding", "gzip")), "Content-Encoding")
              .empty());
}

}  // TEST_SUITE
