// ws/http/static_files.h: the browser client's files, served from a web root over plain HTTP:
// content types, ETag/Last-Modified revalidation (304), gzip, and paths that never leave the
// root. Layer: ws/. Pure apart from reading the files: a request in, an HttpReply out.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ws/http/request.h"
#include "ws/http/response.h"

namespace epws::ws {

struct StaticLimits {
    size_t max_file_bytes = 8u << 20;  // larger files are not served (500): this is no CDN
    size_t cache_bytes = 16u << 20;    // file contents (and their gzip) kept per thread
};

// Answers a GET or HEAD (the caller answers other methods) for req.path under web_root:
//  - the path is percent-decoded (not '+'), and refused with 404 if it holds NUL or a
//    backslash, or a segment that is empty-after-decoding-a-slash, ".", "..", or starts
//    with "." (no dotfiles); "/" is index.html, a directory its index.html, and a path
//    without an extension may name NAME.html ("/inspect");
//  - the file is resolved with realpath() and must lie inside realpath(web_root), so a
//    symlink that points out of the root is 404 too;
//  - 200 with Content-Type, ETag (size and mtime), Last-Modified, Cache-Control: no-cache
//    (always revalidate: file names carry no version), X-Content-Type-Options: nosniff and,
//    for HTML, a Content-Security-Policy allowing only same-origin scripts, styles and
//    connections; 304 when If-None-Match (or, without it, If-Modified-Since) matches;
//  - the body gzip-encoded (Content-Encoding: gzip, Vary: Accept-Encoding) when the client
//    accepts gzip, the type is textual and compressing saves bytes.
// The caller (the server) sends headers only for HEAD with the GET's Content-Length.
// Contents are cached per calling thread (each loop its own, no locks), bounded by
// limits.cache_bytes, and re-read when a file's size or mtime changes. Thread-safe.
void serve_static(std::string_view web_root, const ws::HttpRequest& req, ws::HttpReply& reply,
                  const StaticLimits& limits = {});

// The request path made safe, relative to the root ("" for the root itself, "css/app.css"),
// or nullopt when it is refused (see serve_static). Pure.
std::optional<std::string> safe_relative_path(std::string_view raw_path);

// The Content-Type for a file name's extension ("application/octet-stream" if unknown).
std::string_view content_type_for(std::string_view name);

}  // namespace epws::ws
