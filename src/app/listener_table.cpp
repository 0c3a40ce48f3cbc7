// Listener reuse across reloads.
#include "app/listener_table.hpp"

#include <unistd.h>

#include <algorithm>

namespace bws::app {

listener_table::~listener_table() {
    for (auto& [address, e] : entries_) {
        ::close(e.fd);
    }
}

void listener_table::adopt_activated(const config::listen_address& address, int fd) {
    entries_[address] = entry{fd, true};
}

void listener_table::adopt_inherited(const config::listen_address& address, int fd) {
    entries_[address] = entry{fd, false};
}

std::vector<int> listener_table::fds() const {
    std::vector<int> out;
    for (const auto& [address, e] : entries_)
        out.push_back(e.fd);
    return out;
}

std::optional<std::vector<inherited_listener>>
listener_table::prepare(const std::vector<config::listen_address>& wanted, int backlog,
                        std::string& error) {
    std::vector<inherited_listener> result;
    std::vector<config::listen_address> opened;
    for (const auto& address : wanted) {
        auto it = entries_.find(address);
        if (it != entries_.end()) {
            result.push_back({address, it->second.fd});
            continue;
        }
        std::string why;
        int fd = open_(address, backlog, why);
        if (fd < 0) {
            error = why;
            for (const auto& a : opened) {
                ::close(entries_[a].fd);
                entries_.erase(a);
            }
            return std::nullopt;
        }
        entries_[address] = entry{fd, false};
        opened.push_back(address);
        result.push_back({address, fd});
    }
    return result;
}

void listener_table::commit(const std::vector<config::listen_address>& wanted) {
    for (auto it = entries_.begin(); it != entries_.end();) {
        bool keep = it->second.activated ||
                    std::find(wanted.begin(), wanted.end(), it->first) != wanted.end();
        if (keep) {
            ++it;
        } else {
            ::close(it->second.fd);
            it = entries_.erase(it);
        }
    }
}

void listener_table::close_all() {
    for (auto& [address, e] : entries_) {
        ::close(e.fd);
    }
    entries_.clear();
}

void listener_table::keep_only_for_child(const std::vector<inherited_listener>& keep) {
    for (auto& entry : entries_) {
        int fd = entry.second.fd; // clang 14 cannot capture structured bindings
        bool kept = std::any_of(keep.begin(), keep.end(),
                                [fd](const inherited_listener& l) { return l.fd == fd; });
        if (!kept) {
            ::close(fd);
        }
    }
    entries_.clear();
}

} // namespace bws::app
