// chat/rooms.h: the state every loop shares: rooms (names, ids, presence, the incarnation's
// epoch) and users (connection counts, room-creation buckets). Layer: chat/. Thread-safe; each
// room has its own lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace epws::chat {

// One page of a room's members, in byte order of their names.
struct PresencePage {
    std::vector<std::string> users;  // at most the limit asked for
    size_t count = 0;                // members in the room
    bool more = false;               // members after the last one listed
    uint64_t epoch = 0;              // the room's incarnation (0: no such room)
};

// What a room's members are told about the joins and leaves since its last notice.
struct PresenceChange {
    std::vector<std::string> joined;  // members now, not at the last notice
    std::vector<std::string> left;    // members at the last notice, not now
    size_t omitted = 0;               // names over the cap, in neither list
    size_t count = 0;                 // members now
};

// One room's presence: who is in it, across loops. Its messages, their order and history
// belong to the bus (chat/bus.h), keyed by the room's id. A Room object lives as long as its
// registry; when an empty room expires its slot is given to the next room created, with a new
// epoch (see RoomRegistry).
class Room {
public:
    Room(uint32_t id, std::string name, uint64_t epoch) : id_(id), name_(std::move(name)), epoch_(epoch) {}
    uint32_t id() const { return id_; }
    // The name and the epoch change only while the room is empty, unpinned and not listed by
    // name (RoomRegistry), so a member or pin holder may read them without the lock.
    const std::string& name() const { return name_; }
    uint64_t epoch() const { return epoch_; }

    // Presence: connections of each user in the room, across loops. Joins and leaves are not
    // announced one by one: they are collected, and the next publish_changes() announces them
    // all in one notice numbered 1, 2, ... per room (under the room's lock). *change, if given,
    // gets the number of the last notice published, so a new member can tell the notices its
    // presence reply already covers (number <= it) from the later ones.
    // Returns true if this is the user's first connection in the room. page, if given, gets the
    // first page_limit members after the join, taken under the same lock as *change, so the
    // page and the notices numbered after *change agree.
    bool add_member(const std::string& user, uint64_t* change = nullptr,
                    PresencePage* page = nullptr, size_t page_limit = 0);
    // Returns true if it was the user's last connection in the room.
    bool remove_member(const std::string& user, uint64_t now_ms = 0);
    // Everyone in the room, sorted: this process's members and those other nodes report
    // (set_remote_members), each name once.
    std::vector<std::string> members();
    // This process's members only, sorted (what a node reports to the others).
    std::vector<std::string> local_members();
    // The members other nodes have in the room (a bus across nodes keeps it current); pages
    // and counts include them.
    void set_remote_members(std::vector<std::string> names);
    size_t member_count();
    // Up to limit members with names after `after` (all: empty), in byte order.
    PresencePage page(std::string_view after, size_t limit);

    // Announces what changed since the last notice: fills out with each user whose membership
    // differs from the last notice (at most max_names names; the rest counted in omitted) and
    // calls publish(out, number) under the room's lock, so notices enter the bus in number
    // order. publish returns false when the bus refused the notice: nothing is forgotten, the
    // next call tries again. Returns true while changes are still waiting.
    bool publish_changes(size_t max_names,
                         const std::function<bool(const PresenceChange&, uint64_t)>& publish);

private:
    friend class RoomRegistry;
    PresencePage page_locked(std::string_view after, size_t limit);
    const uint32_t id_;
    std::string name_;
    uint64_t epoch_;
    std::mutex mu_;
    uint64_t presence_changes_ = 0;  // notices published so far (never reset: see RoomRegistry)
    std::map<std::string, uint32_t, std::less<>> members_;
    std::vector<std::string> remote_;  // other nodes' members: sorted, unique
    std::map<std::string, bool, std::less<>> pending_;  // user -> member at the last notice
    uint64_t empty_since_ms_ = 0;    // when the last member left (members_ empty)
    uint32_t pins_ = 0;              // holders that are not members (RoomRegistry::pin)
    bool live_ = true;               // listed by name; false once expired, until reused
};

// Every room by name and by id. A room is created on first join and, once empty, expires after
// an idle time (sweep()): its name is free again, the bus forgets its history, and its id (its
// slot) may be reused by a later room, which gets a new epoch. Room objects are never freed
// before the registry (at most max_rooms of them), so a Room* never dangles; whoever uses one
// across a moment when it could expire must be a member of it or hold a pin.
class RoomRegistry {
public:
    explicit RoomRegistry(size_t max_rooms);
    // The room, created if create is set (with a new epoch). nullptr when it does not exist
    // and create is false, or max_rooms is reached. Its Room* may expire once the lock is
    // released: to join it, use join().
    Room* find(std::string_view name, bool create);
    Room* by_id(uint32_t id);

    enum class JoinStatus : uint8_t { kJoined, kFull, kCreateRefused };
    struct Joined {
        JoinStatus status = JoinStatus::kFull;
        Room* room = nullptr;
        bool first = false;       // the user's first connection in the room
        bool created = false;     // this join created the room
        uint64_t change = 0;      // Room::add_member's *change
        PresencePage page;        // the first page of members, the joiner included
    };
    // Finds or creates the room and adds user to it in one step (so it cannot expire in
    // between). may_create: asked only when the room does not exist (a rate limit); false
    // refuses with kCreateRefused. page_limit: names in the reply's page.
    Joined join(std::string_view name, const std::string& user, size_t page_limit,
                const std::function<bool()>& may_create);
    // A page of the room's members (an empty page, epoch 0, for a room that does not exist).
    PresencePage presence(std::string_view name, std::string_view after, size_t limit);

    // Keeps a room from expiring while a non-member uses it (a history read, a message still
    // waiting to be published). Returns the room, or nullptr if it does not exist.
    Room* pin(std::string_view name);
    void unpin(Room* room);

    // Expires every room empty and unpinned for at least ttl_ms, with no notice waiting;
    // forget(id) is called for each (the bus's forget_room), under the registry's lock.
    // Returns how many expired.
    size_t sweep(uint64_t now_ms, uint64_t ttl_ms, const std::function<void(uint32_t)>& forget);

    struct Info {
        std::string name;
        size_t members;
    };
    // The rooms with members.
    std::vector<Info> list();
    size_t size() const;
    // Counters (any thread), for /stats: rooms made, forgotten, and not made for the rate.
    uint64_t created() const;
    uint64_t expired() const;
    uint64_t create_refused() const;

private:
    Room* create_locked(std::string_view name);
    uint64_t next_epoch();

    const size_t max_rooms_;
    mutable std::mutex mu_;
    std::map<std::string, Room*, std::less<>> by_name_;
    std::vector<std::unique_ptr<Room>> slots_;  // by id - 1; never shrinks, never moved
    std::vector<uint32_t> free_ids_;            // expired slots, oldest first
    size_t free_head_ = 0;
    uint64_t epoch_state_;
    uint64_t created_ = 0, expired_ = 0, create_refused_ = 0;
};

// Users and how many connections each has open, across loops, for direct messages, the
// per-user connection limit and the per-user room-creation rate.
class UserRegistry {
public:
    explicit UserRegistry(uint32_t max_connections_per_user) : max_per_user_(max_connections_per_user) {}
    // Counts one more connection for name; returns the user's id, or 0 if the user is at
    // the per-user limit (the connection is then refused).
    uint32_t connect(const std::string& name);
    void disconnect(const std::string& name);
    // The user's id if it has at least one connection open, else 0.
    uint32_t online_id(std::string_view name);
    // Every user with a connection open, sorted (what a node reports to the others).
    std::vector<std::string> names();
    // Takes one token of the user's room-creation bucket (refilled at rate per second, burst
    // tokens at most); false if it is empty. A user without connections keeps a bucket that is
    // not full, so reconnecting does not refill it (sweep() drops it once it is full again).
    bool take_room_token(std::string_view name, uint64_t now_ms, double rate, double burst);
    // Forgets users without connections whose bucket has refilled.
    void sweep(uint64_t now_ms, double rate, double burst);
    size_t size();

private:
    struct User {
        uint32_t id;
        uint32_t connections;
        double room_tokens = -1;      // -1: full (never used)
        uint64_t room_refilled_ms = 0;
    };
    static bool bucket_full(User& u, uint64_t now_ms, double rate, double burst);
    const uint32_t max_per_user_;
    std::mutex mu_;
    std::map<std::string, User, std::less<>> users_;
    uint32_t next_id_ = 1;
};

}  // namespace epws::chat
