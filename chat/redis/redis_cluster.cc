// chat/redis/redis_cluster.cc: key slots, the slot map, redirections and seeds. Layer: chat/.
#include "chat/redis/redis_cluster.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>

namespace epws::chat {

uint16_t crc16_xmodem(std::string_view data) {
    uint16_t crc = 0;
    for (char ch : data) {
        crc = static_cast<uint16_t>(crc ^ (static_cast<uint8_t>(ch) << 8));
        for (int bit = 0; bit < 8; ++bit)
            crc = static_cast<uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

uint16_t key_slot(std::string_view key) {
    size_t open = key.find('{');
    if (open != std::string_view::npos) {
        size_t close = key.find('}', open + 1);
        // "{}" is no tag: the whole key is hashed (the specification's rule).
        if (close != std::string_view::npos && close > open + 1)
            key = key.substr(open + 1, close - open - 1);
    }
    return static_cast<uint16_t>(crc16_xmodem(key) % kClusterSlots);
}

bool SlotMap::complete() const {
    return owner.size() == kClusterSlots &&
           std::none_of(owner.begin(), owner.end(), [](uint16_t o) { return o == kNoOwner; });
}

uint16_t SlotMap::add(const ClusterNode& node) {
    auto it = std::find(masters.begin(), masters.end(), node);
    if (it != masters.end()) return static_cast<uint16_t>(it - masters.begin());
    masters.push_back(node);
    return static_cast<uint16_t>(masters.size() - 1);
}

namespace {

bool parse_port(std::string_view s, uint16_t& port) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v == 0 || v > 65535)
        return false;
    port = static_cast<uint16_t>(v);
    return true;
}

bool is_slot(const redisReply* r) {
    return r != nullptr && r->type == REDIS_REPLY_INTEGER && r->integer >= 0 &&
           r->integer < kClusterSlots;
}

} // namespace

bool parse_cluster_slots(const redisReply* r, std::string_view asked_host, SlotMap& out,
                         std::string& err) {
    out = SlotMap{};
    out.owner.assign(kClusterSlots, SlotMap::kNoOwner);
    if (r == nullptr) return err = "no reply", false;
    if (r->type == REDIS_REPLY_ERROR) return err = "Redis: " + std::string(r->str, r->len), false;
    if (r->type != REDIS_REPLY_ARRAY) return err = "not an array", false;
    if (r->elements > kClusterSlots) return err = "more ranges than slots", false;
    for (size_t i = 0; i < r->elements; ++i) {
        const redisReply* range = r->element[i];
        if (range == nullptr || range->type != REDIS_REPLY_ARRAY || range->elements < 3)
            return err = "a range is not [start, end, master, ...]", false;
        if (!is_slot(range->element[0]) || !is_slot(range->element[1]) ||
            range->element[0]->integer > range->element[1]->integer)
            return err = "a bad slot range", false;
        const redisReply* m = range->element[2];
        if (m == nullptr || m->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
            m->element[0]->type != REDIS_REPLY_STRING ||
            m->element[1]->type != REDIS_REPLY_INTEGER || m->element[1]->integer <= 0 ||
            m->element[1]->integer > 65535)
            return err = "a bad master [host, port]", false;
        ClusterNode node{std::string(m->element[0]->str, m->element[0]->len),
                         static_cast<uint16_t>(m->element[1]->integer)};
        // Redis writes "" (or "?" before 7) for "the address you reached me at".
        if (node.host.empty() || node.host == "?") node.host = std::string(asked_host);
        if (out.masters.size() >= kClusterSlots) return err = "too many masters", false;
        uint16_t index = out.add(node);
        for (long long s = range->element[0]->integer; s <= range->element[1]->integer; ++s)
            out.owner[static_cast<size_t>(s)] = index;
    }
    return true;
}

bool parse_redirect(std::string_view e, Redirect& out) {
    if (e.starts_with("MOVED ")) {
        out.kind = Redirect::Kind::kMoved;
        e.remove_prefix(6);
    } else if (e.starts_with("ASK ")) {
        out.kind = Redirect::Kind::kAsk;
        e.remove_prefix(4);
    } else {
        return false;
    }
    size_t space = e.find(' ');
    if (space == std::string_view::npos) return false;
    unsigned slot = 0;
    auto [end, ec] = std::from_chars(e.data(), e.data() + space, slot);
    if (space == 0 || ec != std::errc() || end != e.data() + space || slot >= kClusterSlots)
        return false;
    out.slot = static_cast<uint16_t>(slot);
    std::string_view where = e.substr(space + 1);
    size_t colon = where.rfind(':'); // an IPv6 address holds colons too: the port is after the last
    if (colon == std::string_view::npos || !parse_port(where.substr(colon + 1), out.node.port))
        return false;
    out.node.host = std::string(where.substr(0, colon));
    if (out.node.host.size() > 255 || out.node.host.find_first_of(" \r\n") != std::string::npos)
        return false;
    return true;
}

bool parse_cluster_seeds(std::string_view text, std::vector<RedisUrl>& seeds, std::string& err) {
    seeds.clear();
    if (text.empty()) return err = "no seed node", false;
    while (true) {
        size_t comma = text.find(',');
        std::string one(text.substr(0, comma));
        if (one.find("://") == std::string::npos) one = "redis://" + one;
        RedisUrl u;
        std::string e;
        if (!parse_redis_url(one, u, e))
            return err = "seed " + std::to_string(seeds.size() + 1) + ": " + e, false;
        if (u.db != 0) return err = "a cluster has only database 0", false;
        if (seeds.size() >= 64) return err = "at most 64 seed nodes", false;
        if (!seeds.empty()) {
            u.user = seeds.front().user; // one set of credentials for the whole cluster
            u.password = seeds.front().password;
        }
        seeds.push_back(std::move(u));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return true;
}

} // namespace epws::chat
