// chat/program/config_file.cc: the config file's lines into the flag table. Layer: chat/program/.
#include "chat/program/config_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

namespace epws::chat {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

bool is_key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// A quoted value: the text between the quotes with \" and \\ resolved; after the closing quote
// only blanks or a comment. "" or what is wrong.
std::string unquote(std::string_view v, std::string& out) {
    out.clear();
    for (size_t i = 1; i < v.size(); ++i) {
        char c = v[i];
        if (c == '\\') {
            if (i + 1 >= v.size() || (v[i + 1] != '"' && v[i + 1] != '\\'))
                return "only \\\" and \\\\ may follow a backslash";
            out += v[++i];
        } else if (c == '"') {
            std::string_view rest = trim(v.substr(i + 1));
            if (!rest.empty() && rest.front() != '#') return "text after the closing quote";
            return "";
        } else {
            out += c;
        }
    }
    return "no closing quote";
}

}  // namespace

std::string apply_config_text(std::string_view name, std::string_view text, Options& config) {
    std::set<std::string, std::less<>> seen;
    size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        size_t nl = text.find('\n');
        std::string_view line = trim(text.substr(0, nl));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        auto where = [&] { return std::string(name) + ":" + std::to_string(line_no) + ": "; };
        if (line.empty() || line.front() == '#') continue;
        size_t eq = line.find('=');
        if (eq == std::string_view::npos) return where() + "expected 'key = value'";
        std::string_view key = trim(line.substr(0, eq));
        std::string_view raw = trim(line.substr(eq + 1));
        if (key.empty()) return where() + "a key is missing before '='";
        for (char c : key)
            if (!is_key_char(c)) return where() + "'" + std::string(key) + "' is not a key";
        std::string key_s(key);
        for (char& c : key_s)
            if (c == '_') c = '-';  // max_message_bytes is max-message-bytes
        if (key_s == "config" || key_s == "check-config" || key_s == "help")
            return where() + "'" + key_s + "' is for the command line only";
        if (!seen.insert(key_s).second) return where() + "'" + key_s + "' is set twice";
        std::string value;
        if (!raw.empty() && raw.front() == '"') {
            if (std::string e = unquote(raw, value); !e.empty()) return where() + key_s + ": " + e;
        } else {
            // A bare value ends at a comment (" #": a '#' inside a word is kept).
            size_t hash = raw.find(" #");
            value = std::string(trim(raw.substr(0, hash)));
            if (value.empty()) return where() + key_s + ": a value is missing after '='";
        }
        if (std::string e = set_option(key_s, value, config); !e.empty())
            return where() + key_s + " = '" + value + "': " + e;
    }
    return "";
}

std::string load_config_file(const std::string& path, Options& config) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return path + ": cannot read: " + std::strerror(errno);
    std::string text(kMaxFileBytes + 1, '\0');
    size_t n = std::fread(text.data(), 1, text.size(), f);
    bool failed = std::ferror(f) != 0;
    std::fclose(f);
    if (failed) return path + ": cannot read";
    if (n > kMaxFileBytes) return path + ": larger than 1 MiB";
    text.resize(n);
    return apply_config_text(path, text, config);
}

}  // namespace epws::chat
