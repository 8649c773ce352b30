// chat/app.cc: one loop's application: routing, /echo, /broadcast, HTTP routes, and the
// delivery of ring entries (one write per recipient per round). Layer: chat/.
#include "chat/app.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>

#include "chat/static_files.h"
#include "chat/stats.h"
#include "chat/web_api.h"

namespace epws::chat {
namespace {

constexpr size_t kDrainBatch = 512;     // ring entries delivered per round before polling I/O
constexpr size_t kMaxPending = 65536;   // refused publications kept for retry, per loop
constexpr int kMaxIov = 1024;           // IOV_MAX on Linux

uint64_t group_key(const RingEntry& e) {
    return (static_cast<uint64_t>(e.topic) << 32) | e.target;
}

}  // namespace

App::App(Shared& shared, size_t loop_index)
    : shared_(shared), loop_(loop_index), parser_(shared.config.protocol) {}

App::~App() {
    for (RingEntry* e : batch_) e->release();
}

// app_tag(): 0 for /echo (it needs no state at all), kBroadcastTag | index into broadcast_
// for /broadcast, else index + 1 into clients_ for /chat. So an idle /echo or /broadcast
// connection costs the application nothing beyond, for /broadcast, one pointer.
constexpr uint32_t kBroadcastTag = 0x80000000u;

App::Client* App::client_of(ws::ServerConnection& ws) {
    uint32_t tag = ws.app_tag();
    return tag == 0 || (tag & kBroadcastTag) ? nullptr : &clients_[tag - 1];
}

uint32_t App::add_client(ws::ServerConnection& ws) {
    uint32_t slot;
    if (!free_slots_.empty()) {
        slot = free_slots_.back();
        free_slots_.pop_back();
    } else {
        slot = static_cast<uint32_t>(clients_.size());
        clients_.emplace_back();
    }
    Client& c = clients_[slot];
    c = Client{};
    c.ws = &ws;
    ws.set_app_tag(slot + 1);
    return slot;
}

void App::on_http(const ws::HttpRequest& req, ws::HttpReply& reply) {
    if (req.method != "GET" && req.method != "HEAD") {
        reply.status = 405;
        reply.body = "only GET and HEAD are served here\n";
        reply.extra_headers = "Allow: GET, HEAD\r\n";
        return;
    }
    if (req.path == "/healthz") {
        reply.body = "ok\n";
    } else if (req.path == "/stats") {
        reply.content_type = "application/json";
        reply.body = stats_json(shared_.stats, shared_.hub);
    } else if (req.path == "/echo") {
        // The tutorial's plain-HTTP form: GET /echo?message=hello answers hello.
        auto raw = ws::query_param(req.query, "message");
        if (!raw) {
            reply.status = 426;
            reply.body = "/echo speaks WebSocket; for plain HTTP use /echo?message=TEXT\n";
            reply.extra_headers = "Upgrade: websocket\r\n";
        } else if (!ws::percent_decode(*raw, reply.body)) {
            reply.status = 400;
            reply.body = "message is not valid percent-encoding\n";
        }
    } else if (req.path == "/api/whoami") {
        whoami(shared_.config, req.query, reply);
    } else if (req.path == "/api/connections") {
        // Every loop's /chat connections, through the shared registry (?id=N: one of them).
        static const ws::ServerConfig kDefaults;
        api_connections(req.query, loop_, server_ ? server_->config() : kDefaults,
                        shared_.config, shared_.stats, shared_.registry, reply);
    } else {
        serve_static(shared_.config.web_root, req, reply);  // the browser client, or 404
    }
}

void App::on_open(ws::ServerConnection& ws, const ws::HttpRequest& req) {
    if (req.path == "/echo") {
        return;  // tag 0
    } else if (req.path == "/broadcast") {
        ws.set_app_tag(kBroadcastTag | static_cast<uint32_t>(broadcast_.size()));
        broadcast_.push_back(&ws);
    } else {
        uint32_t slot = add_client(ws);
        open_chat(ws, clients_[slot]);
    }
}

void App::on_message(ws::ServerConnection& ws, ws::Opcode op, std::span<const std::byte> payload) {
    uint32_t tag = ws.app_tag();
    if (tag == 0) {
        ws.send_message(op, payload);  // /echo, from the receive buffer, no copy
        return;
    }
    if (tag & kBroadcastTag) {
        std::string_view body(reinterpret_cast<const char*>(payload.data()), payload.size());
        if (!publish_or_keep(Topic::kBroadcast, 0, static_cast<uint8_t>(op), body)) {
            // Nowhere to keep it: tell the sender instead of losing it silently.
            ws.close_websocket(1013, "server busy, try again later");
        }
        return;
    }
    // /chat: JSON text only (RFC 6455 §7.4.1: 1003, data it cannot accept).
    if (op != ws::Opcode::kText) return ws.close_websocket(1003, "the chat protocol is JSON text");
    on_chat(ws, clients_[tag - 1], payload);
}

void App::on_close(ws::ServerConnection& ws, uint16_t) {
    uint32_t tag = ws.app_tag();
    if (tag == 0) return;
    ws.set_app_tag(0);
    if (tag & kBroadcastTag) {
        // Swap-remove: the last subscriber takes the leaving one's place and index.
        uint32_t pos = tag & ~kBroadcastTag;
        ws::ServerConnection* moved = broadcast_.back();
        broadcast_[pos] = moved;
        moved->set_app_tag(kBroadcastTag | pos);
        broadcast_.pop_back();
        return;
    }
    uint32_t slot = tag - 1;
    Client& c = clients_[slot];
    // Detach the counters before the registry frees them (ConnectionRegistry explains why no
    // other loop can be reading them then).
    ws.set_stats(nullptr);
    shared_.registry.remove(c.conn_id);
    while (!c.rooms.empty()) leave(c, c.rooms.back().room, true);
    auto it = user_slots_.find(c.user_id);
    if (it != user_slots_.end()) {
        std::erase(it->second, slot);
        if (it->second.empty()) user_slots_.erase(it);
    }
    shared_.users.disconnect(c.user);
    c = Client{};
    free_slots_.push_back(slot);
}

bool App::publish_frame(Topic topic, uint32_t target, uint8_t opcode, std::string_view payload,
                        uint64_t room_seq, uint64_t presence) {
    std::byte header[ws::kMaxFrameHeader];
    size_t h = ws::encode_frame_header(header, static_cast<ws::Opcode>(opcode), payload.size());
    auto loops = static_cast<uint32_t>(shared_.hub.loops());
    RingEntry* e = RingEntry::make(topic, static_cast<uint32_t>(h + payload.size()), loops);
    if (e == nullptr) return false;
    std::memcpy(e->data(), header, h);
    std::memcpy(e->data() + h, payload.data(), payload.size());
    e->payload_offset = static_cast<uint32_t>(h);
    e->opcode = opcode;
    e->target = target;
    e->room_seq = room_seq;
    e->presence = presence;
    e->origin = static_cast<uint32_t>(loop_);
    if (shared_.hub.publish(e)) return true;
    for (uint32_t i = 0; i < loops; ++i) e->release();  // never published: free it
    return false;
}

int App::before_wait() {
    shared_.hub.awake(loop_);
    if (shared_.stopping.load(std::memory_order_acquire) && !stopping_) {  // set by main
        stopping_ = true;
        if (server_) server_->shutdown();
    }
    size_t drained = drain_ring();
    retry_pending();
    uint64_t now = server_ ? server_->loop().now_ms() : 0;
    if (shared_.config.ping_interval_ms && now >= next_ping_ms_) {
        if (next_ping_ms_ != 0) send_pings();
        next_ping_ms_ = now + shared_.config.ping_interval_ms;
    }
    if (drained == kDrainBatch) return 0;  // more may be waiting
    if (!pending_.empty()) return 1;       // retry the refused publications soon
    return shared_.hub.prepare_to_sleep(loop_) ? -1 : 0;
}

size_t App::drain_ring() {
    size_t n = shared_.hub.drain(loop_, [&](RingEntry* e) { batch_.push_back(e); }, kDrainBatch);
    if (n == 0) return 0;
    // One group per recipient set (the broadcast, a room, a user), each in ring order, so
    // every recipient gets one write per round whatever the number of messages.
    std::stable_sort(batch_.begin(), batch_.end(), [](const RingEntry* a, const RingEntry* b) {
        return group_key(*a) < group_key(*b);
    });
    for (size_t begin = 0; begin < batch_.size();) {
        size_t end = begin + 1;
        while (end < batch_.size() && group_key(*batch_[end]) == group_key(*batch_[begin])) ++end;
        deliver_group(begin, end);
        begin = end;
    }
    for (RingEntry* e : batch_) e->release();
    batch_.clear();
    return n;
}

std::vector<uint32_t>* App::recipients(const RingEntry& e) {
    auto& map = e.topic == Topic::kRoom ? room_members_ : user_slots_;
    auto it = map.find(e.target);
    return it == map.end() ? nullptr : &it->second;
}

void App::deliver_group(size_t begin, size_t end) {
    bool broadcast = batch_[begin]->topic == Topic::kBroadcast;
    std::vector<uint32_t>* to = broadcast ? nullptr : recipients(*batch_[begin]);
    size_t count = broadcast ? broadcast_.size() : to ? to->size() : 0;
    if (count == 0) return;
    iov_.clear();
    for (size_t i = begin; i < end; ++i) {
        auto f = batch_[i]->frame();
        iov_.push_back({const_cast<std::byte*>(f.data()), f.size()});
    }
    bcast_.clear();
    bcast_.resize(end - begin);  // compressed variants, made on first need
    bool room = batch_[begin]->topic == Topic::kRoom;
    // Backwards: a recipient whose socket fails is closed at once and swap-removed, which
    // moves an already served one into its place; none is skipped or served twice.
    for (size_t i = count; i-- > 0;) {
        size_t now = broadcast ? broadcast_.size() : to->size();
        if (i >= now) continue;
        ws::ServerConnection* ws = broadcast ? broadcast_[i] : clients_[(*to)[i]].ws;
        if (ws != nullptr && ws->is_open()) send_batch(*ws, begin, end, room);
    }
}

// Whether a member is to get a room entry: not what it already has, a message replayed from
// history when it joined with since, or a message or presence notice from before its join
// (published before it, but drained by this loop after: the presence reply covered it).
bool App::wanted(const RingEntry& e, const Membership& m) {
    if (e.room_seq != 0) return e.room_seq > m.delivered;
    return e.presence == 0 || e.presence > m.presence;
}

void App::send_batch(ws::ServerConnection& to, size_t begin, size_t end, bool room) {
    Membership* m = room ? membership(*client_of(to), batch_[begin]->target) : nullptr;
    size_t first = begin;
    bool all = true;  // every entry in [first, end) is wanted
    Membership before;
    if (m != nullptr) {
        before = *m;
        while (first < end && !wanted(*batch_[first], before)) ++first;
        if (first == end) return;
        // One pass: whether any later entry is unwanted too, and the newest numbered message
        // of the group (presence notices carry no number and may come last).
        uint64_t last = 0;
        for (size_t i = first; i < end; ++i) {
            all = all && wanted(*batch_[i], before);
            last = std::max(last, batch_[i]->room_seq);
        }
        if (to.queued_bytes() > shared_.config.slow_consumer_bytes) {
            // A slow consumer gets no more room messages queued; it is told what it missed
            // (a gap event) once its output drains.
            if (last != 0) {
                if (m->gap_from == 0) m->gap_from = std::max<uint64_t>(m->delivered + 1, 1);
                m->gap_to = last;
                m->delivered = last;
            }
            return;
        }
        if (last != 0) m->delivered = last;
    }
    if (to.deflate_params().enabled) {
        // Compressed recipients go frame by frame through ws::Broadcast, which compresses
        // each message once per window size for all shared-mode recipients of this loop.
        for (size_t i = first; i < end; ++i) {
            if (!all && !wanted(*batch_[i], before)) continue;
            auto& b = bcast_[i - begin];
            if (!b) {
                const RingEntry& e = *batch_[i];
                b = std::make_unique<ws::Broadcast>(static_cast<ws::Opcode>(e.opcode), e.payload());
            }
            if (b->send_to(to) == net::SendStatus::kDropped) return;
        }
        return;
    }
    const iovec* frames = iov_.data() + (first - begin);
    size_t count = end - first;
    if (!all) {
        // Rare (an entry from before a join drained after one that follows it): this
        // recipient's own list, in a scratch vector reused across rounds.
        some_.clear();
        for (size_t i = first; i < end; ++i)
            if (wanted(*batch_[i], before)) some_.push_back(iov_[i - begin]);
        frames = some_.data();
        count = some_.size();
    }
    for (size_t i = 0; i < count; i += kMaxIov) {
        int n = static_cast<int>(std::min<size_t>(kMaxIov, count - i));
        if (to.send_frames(frames + i, n) == net::SendStatus::kDropped) return;
    }
}

bool App::publish_or_keep(Topic topic, uint32_t target, uint8_t opcode, std::string_view body,
                          uint64_t presence) {
    // Only when the ring refuses is the message copied (to be retried in order).
    if (pending_.empty() && publish_frame(topic, target, opcode, body, 0, presence)) return true;
    return keep({topic, target, opcode, false, std::string(body), {}, {}, presence});
}

bool App::keep(Pending p) {
    if (pending_.size() >= kMaxPending) return false;
    pending_.push_back(std::move(p));  // after the others: publication order is kept
    return true;
}

void App::retry_pending() {
    while (!pending_.empty()) {
        Pending& p = pending_.front();
        bool ok = p.say ? publish_say(p.room, p.from, p.body)
                        : publish_frame(p.topic, p.target, p.opcode, p.body, 0, p.presence);
        if (!ok) return;
        pending_.pop_front();
    }
}

void App::send_pings() {
    // RFC 6455 §5.5.2: a ping the browser answers by itself, keeping proxies and the idle
    // timeout from closing a quiet but live /chat connection; its pong gives the round trip
    // that GET /api/connections shows.
    for (Client& c : clients_)
        if (c.ws != nullptr && c.ws->is_open())  // clients_ holds /chat connections only
            c.ws->send_ping();
}

}  // namespace epws::chat
