// chat/rooms.cc: rooms and users shared by every loop. Layer: chat/.
#include "chat/rooms.h"

#include <iterator>

#include <algorithm>
#include <random>

namespace epws::chat {
namespace {

// Epochs stay below 2^53 (docs/chat-protocol.md: every integer on the wire does).
constexpr uint64_t kEpochMask = (uint64_t{1} << 53) - 1;

}  // namespace

bool Room::add_member(const std::string& user, uint64_t* change, PresencePage* page,
                      size_t page_limit) {
    std::lock_guard<std::mutex> lock(mu_);
    bool first = ++members_[user] == 1;
    // The state at the last notice: not a member, unless it left since (then it was one).
    if (first) pending_.try_emplace(user, false);
    if (change) *change = presence_changes_;
    if (page) *page = page_locked({}, page_limit);
    return first;
}

bool Room::remove_member(const std::string& user, uint64_t now_ms) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = members_.find(user);
    if (it == members_.end()) return false;
    if (--it->second > 0) return false;
    members_.erase(it);
    pending_.try_emplace(user, true);
    if (members_.empty()) empty_since_ms_ = now_ms;
    return true;
}

std::vector<std::string> Room::local_members() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    out.reserve(members_.size());
    for (auto& [name, count] : members_) out.push_back(name);
    return out;
}

std::vector<std::string> Room::members() {
    std::vector<std::string> local = local_members();
    std::lock_guard<std::mutex> lock(mu_);
    if (remote_.empty()) return local;
    std::vector<std::string> out;
    out.reserve(local.size() + remote_.size());
    std::set_union(local.begin(), local.end(), remote_.begin(), remote_.end(), std::back_inserter(out));
    return out;
}

void Room::set_remote_members(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::lock_guard<std::mutex> lock(mu_);
    remote_ = std::move(names);
}

size_t Room::member_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return members_.size();
}

PresencePage Room::page(std::string_view after, size_t limit) {
    std::lock_guard<std::mutex> lock(mu_);
    return page_locked(after, limit);
}

PresencePage Room::page_locked(std::string_view after, size_t limit) {
    PresencePage p;
    p.epoch = epoch_;
    if (!remote_.empty()) {
        // Other nodes' members too (a bus across nodes): merged, each name once.
        std::vector<std::string> all;
        all.reserve(members_.size() + remote_.size());
        for (auto& [name, count] : members_) all.push_back(name);
        std::vector<std::string> merged;
        std::set_union(all.begin(), all.end(), remote_.begin(), remote_.end(), std::back_inserter(merged));
        p.count = merged.size();
        auto it = after.empty() ? merged.begin() : std::upper_bound(merged.begin(), merged.end(), after);
        for (; it != merged.end() && p.users.size() < limit; ++it) p.users.push_back(*it);
        p.more = it != merged.end();
        return p;
    }
    p.count = members_.size();
    // O(log n + limit): a join into a room of any size costs the same reply.
    auto it = after.empty() ? members_.begin() : members_.upper_bound(after);
    for (; it != members_.end() && p.users.size() < limit; ++it) p.users.push_back(it->first);
    p.more = it != members_.end();
    return p;
}

bool Room::publish_changes(size_t max_names,
                           const std::function<bool(const PresenceChange&, uint64_t)>& publish) {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.empty()) return false;
    PresenceChange c;
    for (auto& [user, was] : pending_) {
        bool is = members_.count(user) != 0;
        if (is == was) continue;  // joined and left again (or the reverse) since the last notice
        if (c.joined.size() + c.left.size() >= max_names) {
            ++c.omitted;
            continue;
        }
        (is ? c.joined : c.left).push_back(user);
    }
    c.count = members_.size();
    if (c.joined.empty() && c.left.empty() && c.omitted == 0) {
        pending_.clear();
        return false;
    }
    if (!publish(c, presence_changes_ + 1)) return true;  // kept for the next try
    ++presence_changes_;
    pending_.clear();
    return false;
}

RoomRegistry::RoomRegistry(size_t max_rooms) : max_rooms_(max_rooms) {
    // A random start, so a room's epoch after a restart differs from the one before it.
    std::random_device rd;
    epoch_state_ = (uint64_t{rd()} << 32) ^ rd();
}

uint64_t RoomRegistry::next_epoch() {
    // splitmix64: distinct, unguessable-enough values from a counter, never 0.
    uint64_t z = (epoch_state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z = (z ^ (z >> 31)) & kEpochMask;
    return z == 0 ? 1 : z;
}

Room* RoomRegistry::create_locked(std::string_view name) {
    Room* room = nullptr;
    if (free_head_ < free_ids_.size()) {
        // Reuse the slot that expired first. Its presence numbering goes on from where it
        // stopped (a notice of the old room still on its way is numbered below every new
        // member's join, so it is skipped); the bus restarted the message numbers.
        room = slots_[free_ids_[free_head_++] - 1].get();
        if (free_head_ == free_ids_.size()) {
            free_ids_.clear();
            free_head_ = 0;
        }
        std::lock_guard<std::mutex> lock(room->mu_);
        room->name_ = std::string(name);
        room->epoch_ = next_epoch();
        room->live_ = true;
    } else if (slots_.size() < max_rooms_) {
        auto id = static_cast<uint32_t>(slots_.size() + 1);
        slots_.push_back(std::make_unique<Room>(id, std::string(name), next_epoch()));
        room = slots_.back().get();
    } else {
        return nullptr;
    }
    by_name_.emplace(std::string(name), room);
    ++created_;
    return room;
}

Room* RoomRegistry::find(std::string_view name, bool create) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_name_.find(name);
    if (it != by_name_.end()) return it->second;
    return create ? create_locked(name) : nullptr;
}

Room* RoomRegistry::by_id(uint32_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    return id >= 1 && id <= slots_.size() ? slots_[id - 1].get() : nullptr;
}

RoomRegistry::Joined RoomRegistry::join(std::string_view name, const std::string& user,
                                        size_t page_limit, const std::function<bool()>& may_create) {
    std::lock_guard<std::mutex> lock(mu_);
    Joined j;
    auto it = by_name_.find(name);
    if (it != by_name_.end()) {
        j.room = it->second;
    } else {
        if (by_name_.size() >= max_rooms_) return j;  // kFull, before a token is taken
        if (may_create && !may_create()) {
            ++create_refused_;
            j.status = JoinStatus::kCreateRefused;
            return j;
        }
        j.room = create_locked(name);
        if (j.room == nullptr) return j;
        j.created = true;
    }
    j.status = JoinStatus::kJoined;
    // Under the registry's lock, so sweep() cannot expire the room before it has a member.
    j.first = j.room->add_member(user, &j.change, &j.page, page_limit);
    return j;
}

PresencePage RoomRegistry::presence(std::string_view name, std::string_view after, size_t limit) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return {};
    return it->second->page(after, limit);
}

Room* RoomRegistry::pin(std::string_view name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return nullptr;
    std::lock_guard<std::mutex> room_lock(it->second->mu_);
    ++it->second->pins_;
    return it->second;
}

void RoomRegistry::unpin(Room* room) {
    std::lock_guard<std::mutex> lock(room->mu_);
    --room->pins_;
}

size_t RoomRegistry::sweep(uint64_t now_ms, uint64_t ttl_ms,
                           const std::function<void(uint32_t)>& forget) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (auto it = by_name_.begin(); it != by_name_.end();) {
        Room& r = *it->second;
        std::unique_lock<std::mutex> room_lock(r.mu_);
        bool idle = r.members_.empty() && r.pins_ == 0 && r.pending_.empty() &&
                    now_ms >= r.empty_since_ms_ && now_ms - r.empty_since_ms_ >= ttl_ms;
        if (!idle) {
            ++it;
            continue;
        }
        r.live_ = false;
        room_lock.unlock();
        forget(r.id());
        free_ids_.push_back(r.id());
        it = by_name_.erase(it);
        ++expired_;
        ++n;
    }
    return n;
}

std::vector<RoomRegistry::Info> RoomRegistry::list() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Info> out;
    for (auto& [name, room] : by_name_) {
        size_t members = room->member_count();
        if (members > 0) out.push_back({name, members});  // docs: the rooms that have members
    }
    return out;
}

uint64_t RoomRegistry::create_refused() const {
    std::lock_guard<std::mutex> lock(mu_);
    return create_refused_;
}

size_t RoomRegistry::size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return by_name_.size();
}

uint64_t RoomRegistry::created() const {
    std::lock_guard<std::mutex> lock(mu_);
    return created_;
}

uint64_t RoomRegistry::expired() const {
    std::lock_guard<std::mutex> lock(mu_);
    return expired_;
}

uint32_t UserRegistry::connect(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, fresh] = users_.try_emplace(name, User{0, 0});
    if (fresh) it->second.id = next_id_++;
    if (it->second.connections >= max_per_user_) return 0;
    ++it->second.connections;
    return it->second.id;
}

void UserRegistry::disconnect(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = users_.find(name);
    if (it == users_.end() || it->second.connections == 0) return;
    // Forget a user with no connection left, so names seen once do not pile up; ids are never
    // reused, so a direct message still in flight to the old id reaches nobody. One that created
    // rooms lately is kept (with no connection: offline) until its bucket refills (sweep()).
    if (--it->second.connections == 0 && it->second.room_tokens < 0) users_.erase(it);
}

std::vector<std::string> UserRegistry::names() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    out.reserve(users_.size());
    for (auto& [name, u] : users_)
        if (u.connections > 0) out.push_back(name);
    return out;
}

uint32_t UserRegistry::online_id(std::string_view name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = users_.find(name);
    return it != users_.end() && it->second.connections > 0 ? it->second.id : 0;
}

bool UserRegistry::bucket_full(User& u, uint64_t now_ms, double rate, double burst) {
    if (u.room_tokens < 0) return true;
    double refill = static_cast<double>(now_ms - std::min(now_ms, u.room_refilled_ms)) * rate / 1000.0;
    u.room_tokens = std::min(burst, u.room_tokens + refill);
    u.room_refilled_ms = now_ms;
    return u.room_tokens >= burst;
}

bool UserRegistry::take_room_token(std::string_view name, uint64_t now_ms, double rate, double burst) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = users_.find(name);
    if (it == users_.end()) return false;  // not connected: nobody to create for
    User& u = it->second;
    if (u.room_tokens < 0) {
        u.room_tokens = burst;
        u.room_refilled_ms = now_ms;
    }
    bucket_full(u, now_ms, rate, burst);
    if (u.room_tokens < 1.0) return false;
    u.room_tokens -= 1.0;
    return true;
}

void UserRegistry::sweep(uint64_t now_ms, double rate, double burst) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = users_.begin(); it != users_.end();) {
        if (it->second.connections == 0 && bucket_full(it->second, now_ms, rate, burst))
            it = users_.erase(it);
        else
            ++it;
    }
}

size_t UserRegistry::size() {
    std::lock_guard<std::mutex> lock(mu_);
    return users_.size();
}

}  // namespace epws::chat
