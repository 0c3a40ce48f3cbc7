// The master's listening sockets, keyed by address so that an address that stays configured
// across a reload keeps its socket (the port never closes) and only added or removed
// addresses are opened or closed. Sockets passed by systemd are never closed.
#pragma once

#include "app/worker.hpp"
#include "config/model.hpp"

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bws::app {

class listener_table {
public:
    // Opens a listening socket; returns -1 and sets `error` on failure.
    using opener = std::function<int(const config::listen_address&, int backlog, std::string&)>;

    explicit listener_table(opener open) : open_(std::move(open)) {}
    listener_table(const listener_table&) = delete;
    listener_table& operator=(const listener_table&) = delete;
    ~listener_table(); // closes every socket it still owns

    // Sockets from socket activation; kept until exit whatever the configuration says.
    void adopt_activated(const config::listen_address& address, int fd);
    // A socket the previous image of this process opened (binary upgrade): owned like one
    // this process opened.
    void adopt_inherited(const config::listen_address& address, int fd);
    // Every socket held, for a binary upgrade to hand over.
    std::vector<int> fds() const;

    // The sockets for `wanted`: existing ones reused, missing ones opened. On failure nothing
    // newly opened is kept and the reason names the address.
    std::optional<std::vector<inherited_listener>>
    prepare(const std::vector<config::listen_address>& wanted, int backlog, std::string& error);

    // `wanted` is now the configuration: closes the sockets of other addresses (except
    // activated ones). The workers that used them hold their own copies.
    void commit(const std::vector<config::listen_address>& wanted);

    // Stop: closes every socket (activated included; the process is exiting).
    void close_all();

    // In a freshly forked worker: forget (without closing) the sockets it inherits, close the
    // others.
    void keep_only_for_child(const std::vector<inherited_listener>& keep);

    std::size_t size() const { return entries_.size(); }

private:
    struct entry {
        int fd = -1;
        bool activated = false;
    };
    opener open_;
    std::map<config::listen_address, entry> entries_;
};

} // namespace bws::app
