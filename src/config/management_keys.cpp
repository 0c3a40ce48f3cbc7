// The keys of [management] (the master's HTTP API) and the checks between them and the sites.
#include "config/section_keys.hpp"

#include <sys/un.h>

namespace bws::config::detail {
namespace {

bool is_loopback(const net::ip_address& a) {
    const auto& b = a.bytes();
    if (!a.is_v6())
        return b[0] == 127;
    static const std::array<std::uint8_t, 16> v6_loopback{0, 0, 0, 0, 0, 0, 0, 0,
                                                          0, 0, 0, 0, 0, 0, 0, 1};
    return b == v6_loopback;
}

// Only a loopback address: the API reloads the server and shows its internals, and an API key
// sent in clear text over a network is no protection.
bool read_host(value_reader& in, const toml::node& v, management_section& m) {
    auto a = in.address(v, "host");
    if (!a)
        return false;
    if (!is_loopback(*a)) {
        in.error(v, "host",
                 "'" + a->to_string() +
                     "' is not a loopback address (the management API listens on 127.0.0.0/8 "
                     "or ::1 only)");
        return false;
    }
    m.host = *a;
    return true;
}

bool read_api_key(value_reader& in, const toml::node& v, management_section& m) {
    auto key = in.string(v, "api_key");
    if (!key)
        return false;
    if (has_control(*key) || key->find(' ') != std::string::npos) {
        in.error(v, "api_key", "must not contain spaces or control characters");
        return false;
    }
    m.api_key = *key;
    return true;
}

// A Unix socket path (relative ones from the config file's directory) that fits sun_path.
bool read_socket(value_reader& in, const toml::node& v, management_section& m) {
    auto p = in.path(v, "socket");
    if (!p)
        return false;
    if (p->native().size() >= sizeof(sockaddr_un::sun_path)) {
        in.error(v, "socket",
                 "'" + p->string() + "' is longer than a Unix socket path can be (" +
                     std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes)");
        return false;
    }
    m.socket = *p;
    return true;
}

} // namespace

const std::vector<key_entry<management_section>>& management_keys() {
    using k = keys<management_section>;
    static const std::vector<key_entry<management_section>> table{
        k::flag("enabled", &management_section::enabled),
        k::custom("host", read_host),
        k::port("port", &management_section::port),
        k::custom("api_key", read_api_key),
        k::custom("socket", read_socket),
    };
    return table;
}

void check_management(const snapshot& config, const key_positions& where, report& out) {
    const auto& m = config.management;
    if (!m.enabled)
        return;
    if (!m.socket.empty()) {
        // One listener: a TCP port beside the socket would undo what its permissions give.
        for (std::string_view key : {"host", "port"})
            if (where.contains(key)) {
                out.error(position(where, key, out.at()),
                          "[management] has both 'socket' and '" + std::string(key) +
                              "': the API listens on the socket or on host and port, not both");
                return;
            }
        return;
    }
    for (const auto& site : config.sites) {
        if (site.port == m.port) {
            out.error(position(where, "port", out.at()),
                      "[management] port " + std::to_string(m.port) +
                          " is also the port of site '" + site.name +
                          "' (the management API never shares a site's port)");
            return;
        }
    }
}

} // namespace bws::config::detail
