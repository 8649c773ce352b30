// chat/rooms.cc: rooms and users shared by every loop. Layer: chat/.
#include "chat/rooms.h"

#include <algorithm>
#include <iterator>

namespace epws::chat {

bool Room::add_member(const std::string& user, uint64_t* change) {
    std::lock_guard<std::mutex> lock(mu_);
    bool first = ++members_[user] == 1;
    if (first) ++presence_changes_;
    if (change) *change = presence_changes_;
    return first;
}

bool Room::remove_member(const std::string& user, uint64_t* change) {
    std::lock_guard<std::mutex> lock(mu_);
    if (change) *change = presence_changes_;
    auto it = members_.find(user);
    if (it == members_.end()) return false;
    if (--it->second > 0) return false;
    members_.erase(it);
    if (change) *change = ++presence_changes_;
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

Room* RoomRegistry::find(std::string_view name, bool create) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_name_.find(name);
    if (it != by_name_.end()) return it->second.get();
    if (!create || by_name_.size() >= max_rooms_) return nullptr;
    auto id = static_cast<uint32_t>(by_id_.size() + 1);
    auto room = std::make_unique<Room>(id, std::string(name));
    Room* raw = room.get();
    by_name_.emplace(std::string(name), std::move(room));
    by_id_.push_back(raw);
    return raw;
}

Room* RoomRegistry::by_id(uint32_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    return id >= 1 && id <= by_id_.size() ? by_id_[id - 1] : nullptr;
}

std::vector<RoomRegistry::Info> RoomRegistry::list() {
    std::vector<Room*> rooms;
    {
        std::lock_guard<std::mutex> lock(mu_);
        rooms = by_id_;
    }
    std::vector<Info> out;
    out.reserve(rooms.size());
    for (Room* r : rooms) out.push_back({r->name(), r->member_count()});
    return out;
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
    if (it == users_.end()) return;
    // Forget a user with no connection left, so names seen once do not pile up; ids are never
    // reused, so a direct message still in flight to the old id reaches nobody.
    if (--it->second.connections == 0) users_.erase(it);
}

uint32_t UserRegistry::online_id(std::string_view name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = users_.find(name);
    return it != users_.end() && it->second.connections > 0 ? it->second.id : 0;
}

std::vector<std::string> UserRegistry::names() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    out.reserve(users_.size());
    for (auto& [name, u] : users_)
        if (u.connections > 0) out.push_back(name);
    return out;
}

}  // namespace epws::chat
