// chat/rooms.h: the state every loop shares: rooms (names, ids, presence) and users (connection
// counts). Layer: chat/. Thread-safe; each room has its own lock.
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

// One room's presence: who is in it, across loops. Its messages, their order and history
// belong to the bus (chat/bus.h), keyed by the room's id.
class Room {
public:
    Room(uint32_t id, std::string name) : id_(id), name_(std::move(name)) {}
    uint32_t id() const { return id_; }
    const std::string& name() const { return name_; }

    // Presence: connections of each user in the room, across loops. Each join or leave to
    // announce is numbered (1, 2, ... per room, under the room's lock): *change, if given, gets
    // the room's latest number after the call, so a new member can tell the notices from before
    // its join (number <= its own join's - 1) from those after.
    // Returns true if this is the user's first connection in the room (a join to announce).
    bool add_member(const std::string& user, uint64_t* change = nullptr);
    // Returns true if it was the user's last connection in the room (a leave to announce).
    bool remove_member(const std::string& user, uint64_t* change = nullptr);
    // Everyone in the room, sorted: this process's members and those other nodes report
    // (set_remote_members), each name once.
    std::vector<std::string> members();
    // This process's members only, sorted (what a node reports to the others).
    std::vector<std::string> local_members();
    // The members other nodes have in the room (a bus across nodes keeps it current).
    void set_remote_members(std::vector<std::string> names);
    size_t member_count();

private:
    const uint32_t id_;
    const std::string name_;
    std::mutex mu_;
    uint64_t presence_changes_ = 0;  // joins and leaves announced so far
    std::map<std::string, uint32_t, std::less<>> members_;
    std::vector<std::string> remote_;  // sorted, unique
};

// Every room by name and by id. Rooms are created on first join and never deleted, so a
// Room* stays valid for the life of the registry (bounded by max_rooms).
class RoomRegistry {
public:
    explicit RoomRegistry(size_t max_rooms) : max_rooms_(max_rooms) {}
    // nullptr when the room does not exist and create is false or max_rooms is reached.
    Room* find(std::string_view name, bool create);
    Room* by_id(uint32_t id);
    struct Info {
        std::string name;
        size_t members;
    };
    std::vector<Info> list();

private:
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
    // Every user with a connection open, sorted (what a node reports to the others).
    std::vector<std::string> names();

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
