// chat/rooms.h: the state every loop shares: rooms (sequence numbers, history, presence)
// and users (connection counts). Layer: chat/. Thread-safe; each room has its own lock.
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

#include "chat/hub.h"

namespace epws::chat {

// One room. Its lock orders everything that must agree across loops: the next sequence
// number, the ring publication of that message, and the history. Holding it while
// publishing means sequence numbers enter the ring in order, so every loop sees a room's
// messages in sequence order with no gaps.
class Room {
public:
    Room(uint32_t id, std::string name, size_t history) : id_(id), name_(std::move(name)), cap_(history) {}
    ~Room();
    uint32_t id() const { return id_; }
    const std::string& name() const { return name_; }

    // Builds the message with the next sequence number (make(seq) returns a RingEntry with
    // consumers + 1 references, the extra one for the history), publishes it on bus and keeps
    // it in the history. Returns the sequence number, or 0 when the bus refused it (ring
    // full: nothing was published or kept, and make's entry was freed).
    uint64_t publish(Bus& bus, const std::function<RingEntry*(uint64_t seq)>& make);

    // The last sequence number given out (0: none yet).
    uint64_t last_seq();
    // Calls f(entry) for each kept message with seq in [from, to], in order, under the lock.
    struct Span {
        uint64_t oldest;  // the oldest sequence number still kept (last + 1 if none is)
        uint64_t last;    // the last sequence number given out, at the time of the read
    };
    Span read_history(uint64_t from, uint64_t to, const std::function<void(const RingEntry&)>& f);

    // Presence: connections of each user in the room, across loops. Each join or leave to
    // announce is numbered (1, 2, ... per room, under the room's lock): *change, if given, gets
    // the room's latest number after the call, so a new member can tell the notices from before
    // its join (number <= its own join's - 1) from those after.
    // Returns true if this is the user's first connection in the room (a join to announce).
    bool add_member(const std::string& user, uint64_t* change = nullptr);
    // Returns true if it was the user's last connection in the room (a leave to announce).
    bool remove_member(const std::string& user, uint64_t* change = nullptr);
    std::vector<std::string> members();
    size_t member_count();

private:
    const uint32_t id_;
    const std::string name_;
    const size_t cap_;
    std::mutex mu_;
    uint64_t last_seq_ = 0;
    uint64_t presence_changes_ = 0;  // joins and leaves announced so far
    std::vector<RingEntry*> history_;  // circular, cap_ slots; entry seq s at (s - 1) % cap_
    std::map<std::string, uint32_t, std::less<>> members_;
};

// Every room by name and by id. Rooms are created on first join and never deleted, so a
// Room* stays valid for the life of the registry (bounded by max_rooms).
class RoomRegistry {
public:
    RoomRegistry(size_t history, size_t max_rooms) : history_(history), max_rooms_(max_rooms) {}
    // nullptr when the room does not exist and create is false or max_rooms is reached.
    Room* find(std::string_view name, bool create);
    Room* by_id(uint32_t id);
    struct Info {
        std::string name;
        size_t members;
    };
    std::vector<Info> list();

private:
    const size_t history_;
    const size_t max_rooms_;
    std::mutex mu_;
    std::map<std::string, std::unique_ptr<Room>, std::less<>> by_name_;
    std::vector<Room*> by_id_;
};

// Users and how many connections each has open, across loops, for direct messages and the
// per-user connection limit.
class UserRegistry {
public:
    explicit UserRegistry(uint32_t max_connections_per_user) : max_per_user_(max_connections_per_user) {}
    // Counts one more connection for name; returns the user's id, or 0 if the user is at
    // the per-user limit (the connection is then refused).
    uint32_t connect(const std::string& name);
    void disconnect(const std::string& name);
    // The user's id if it has at least one connection open, else 0.
    uint32_t online_id(std::string_view name);

private:
    struct User {
        uint32_t id;
        uint32_t connections;
    };
    const uint32_t max_per_user_;
    std::mutex mu_;
    std::map<std::string, User, std::less<>> users_;
    uint32_t next_id_ = 1;
};

}  // namespace epws::chat
