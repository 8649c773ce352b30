// chat/endpoints/chat_delivery.cc: room and user entries from the bus to this loop's members:
// one write per member per round, each member's entries checked against what it already has,
// and slow members skipped with a gap to follow. Layer: chat/.
#include <algorithm>

#include "chat/endpoints/chat_endpoint.h"
#include "net/log.h"
#include "ws/server_connection.h"

namespace epws::chat {

void ChatEndpoint::deliver(Group& group) {
    auto& map = group.topic() == Topic::kRoom ? room_members_ : user_slots_;
    auto it = map.find(group.target());
    if (it == map.end()) return;
    std::vector<uint32_t>& to = it->second;
    // Backwards: a member whose socket fails is closed at once and leaves this list, which
    // moves the ones after it down; none is skipped or served twice. The list itself stays in
    // the map meanwhile (leave() and on_close() see delivering_), even if it empties.
    delivering_ = &to;
    for (size_t i = to.size(); i-- > 0;) {
        if (i >= to.size()) continue;
        ws::ServerConnection* conn = clients_[to[i]].conn;
        if (conn != nullptr && conn->is_open()) deliver_to_member(*conn, group);
    }
    delivering_ = nullptr;
    if (to.empty()) map.erase(it);
}

// Whether a member is to get a room entry: not what it already has, a message replayed from
// history when it joined with since, or a message or presence notice from before its join
// (published before it, but drained by this loop after: the presence reply covered it).
bool ChatEndpoint::wanted(const RingEntry& e, const Membership& m) {
    if (e.room_seq != 0) return e.room_seq > m.delivered;
    return e.presence == 0 || e.presence > m.presence;
}

void ChatEndpoint::deliver_to_member(ws::ServerConnection& to, Group& group) {
    if (group.topic() != Topic::kRoom) {
        group.send_from(to, 0);  // a direct message: every entry, to every connection of the user
        return;
    }
    Membership* m = membership(client_of(to), group.target());
    if (m == nullptr || m->pending) return;
    const Membership before = *m;
    size_t first = 0;
    while (first < group.size() && !wanted(group.entry(first), before)) ++first;
    if (first == group.size()) return;
    // One pass: whether any later entry is unwanted too, and the newest numbered message of
    // the group (presence notices carry no number and may come last).
    bool all = true;
    uint64_t last = 0;
    for (size_t i = first; i < group.size(); ++i) {
        all = all && wanted(group.entry(i), before);
        last = std::max(last, group.entry(i).room_seq);
    }
    if (to.queued_bytes() > shared_.config.slow_consumer_bytes) {
        // A slow consumer gets no more room messages queued; it is told what it missed (a gap
        // event) once its output drains.
        ++stats_.slow_skips;
        if (last != 0) {
            if (m->gap_from == 0 && net::log_enabled(net::LogLevel::kInfo)) {
                std::string queued = std::to_string(to.queued_bytes());
                net::log_limited(net::LogLevel::kInfo, "cut_slow_consumer",
                                 {{"user", client_of(to).user}, {"queued_bytes", queued}});
            }
            if (m->gap_from == 0) m->gap_from = std::max<uint64_t>(m->delivered + 1, 1);
            m->gap_to = last;
            m->delivered = last;
        }
        // Presence notices still go (at most one per room and round, and nothing would tell
        // the member what it missed of them); the output cap bounds a member that never reads.
        wanted_.clear();
        for (size_t i = first; i < group.size(); ++i)
            if (group.entry(i).room_seq == 0 && wanted(group.entry(i), before))
                wanted_.push_back(static_cast<uint32_t>(i));
        if (!wanted_.empty()) group.send_some(to, wanted_);
        return;
    }
    if (last != 0) m->delivered = last;
    if (all) {
        group.send_from(to, first);
        return;
    }
    // Rare (an entry from before a join drained after one that follows it): this member's own
    // selection, in a scratch vector reused across rounds.
    wanted_.clear();
    for (size_t i = first; i < group.size(); ++i)
        if (wanted(group.entry(i), before)) wanted_.push_back(static_cast<uint32_t>(i));
    group.send_some(to, wanted_);
}

}  // namespace epws::chat
