// Upstream URLs and their addresses (see upstream_url.hpp).
#include "config/upstream_url.hpp"

#include "config/hostname.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace bws::config::detail {

// "http://host[:port][/]": the scheme, host and port of an upstream. Any other path is an
// error, not silently dropped (the original BWS dropped it): a route's rewrite_target says
// where requests go.
namespace {

// "unix:/path/to.sock": an absolute path that fits sockaddr_un.
bool parse_unix_url(std::string_view url, upstream_server& out, std::string& error) {
    const std::string path(url.substr(5));
    if (path.empty() || path.front() != '/') {
        error =
            "'" + std::string(url) + "': a Unix socket is an absolute path (unix:/run/app.sock)";
        return false;
    }
    if (path.find('\0') != std::string::npos) {
        error = "'" + std::string(url) + "': the path contains a NUL character";
        return false;
    }
    // sun_path holds 108 bytes with the terminating NUL.
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
        error = "'" + std::string(url) + "': a Unix socket path is at most " +
                std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes";
        return false;
    }
    out.url = std::string(url);
    out.transport = upstream_transport::unix_socket;
    out.unix_path = std::filesystem::path(path).lexically_normal();
    out.host.clear();
    out.port = 0;
    // What the upstream sees as Host when the client's is not preserved.
    out.authority = "localhost";
    return true;
}

} // namespace

// "http://host[:port][/]", "https://host[:port][/]" or "unix:/path": the transport, host and
// port of an upstream. Any other path is an error, not silently dropped (the original BWS
// dropped it): a route's rewrite_target says where requests go.
bool parse_upstream_url(std::string_view url, upstream_server& out, std::string& error) {
    if (url.rfind("unix:", 0) == 0)
        return parse_unix_url(url, out, error);
    std::string_view scheme = "http://";
    unsigned default_port = 80;
    out.transport = upstream_transport::tcp;
    if (url.rfind("https://", 0) == 0) {
        scheme = "https://";
        default_port = 443;
        out.transport = upstream_transport::tls;
    } else if (url.rfind(scheme, 0) != 0) {
        error = "'" + std::string(url) + "' is not an http://, https:// or unix: URL";
        return false;
    }
    std::string_view rest = url.substr(scheme.size());
    const auto slash = rest.find('/');
    if (slash != std::string_view::npos) {
        if (rest.substr(slash) != "/") {
            error = "an upstream URL has no path or query (use the route's rewrite_target)";
            return false;
        }
        rest = rest.substr(0, slash);
    }
    if (rest.find_first_of("?#@") != std::string_view::npos) {
        error = "an upstream URL is http(s)://host:port, without user, query or fragment";
        return false;
    }
    std::string_view host = rest;
    std::string_view port_text;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) {
            error = "'" + std::string(url) + "': unclosed '[' in the host";
            return false;
        }
        host = rest.substr(0, close + 1);
        if (close + 1 < rest.size()) {
            if (rest[close + 1] != ':') {
                error = "'" + std::string(url) + "': unexpected text after the host";
                return false;
            }
            port_text = rest.substr(close + 2);
        }
    } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        port_text = rest.substr(colon + 1);
    }
    unsigned port = default_port;
    if (!port_text.empty() || host.size() != rest.size()) {
        const auto* end = port_text.data() + port_text.size();
        auto [p, ec] = std::from_chars(port_text.data(), end, port);
        if (port_text.empty() || ec != std::errc() || p != end || port == 0 || port > 65535) {
            error = "'" + std::string(url) + "': the port must be 1-65535";
            return false;
        }
    }
    std::string why;
    auto name = normalise_hostname(host, why);
    if (!name || name->rfind("*.", 0) == 0) {
        error = "'" + std::string(url) + "': " + (name ? "a wildcard is not a host" : why);
        return false;
    }
    out.url = std::string(url);
    out.port = static_cast<std::uint16_t>(port);
    out.authority = *name + (port == default_port ? "" : ":" + std::to_string(port));
    // The literal without brackets, as getaddrinfo and ip_address::parse take it.
    out.host = name->front() == '[' ? name->substr(1, name->size() - 2) : *name;
    if (auto literal = net::ip_address::parse(out.host))
        out.addresses.push_back(*literal);
    return true;
}

void resolve_upstreams(snapshot& config, report& out) {
    for (auto& site : config.sites) {
        if (!site.proxy)
            continue;
        for (auto& pool : site.proxy->pools) {
            for (auto& server : pool.servers) {
                if (!server.addresses.empty() ||
                    server.transport == upstream_transport::unix_socket)
                    continue; // an IP literal, or no address to look up
                addrinfo hints{};
                hints.ai_socktype = SOCK_STREAM;
                hints.ai_flags = AI_ADDRCONFIG;
                addrinfo* found = nullptr;
                const int rc = ::getaddrinfo(server.host.c_str(), nullptr, &hints, &found);
                if (rc != 0) {
                    out.error(server.pos,
                              "url: cannot resolve '" + server.host + "': " + ::gai_strerror(rc));
                    continue;
                }
                for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
                    sockaddr_storage storage{};
                    std::memcpy(&storage, a->ai_addr,
                                std::min<std::size_t>(a->ai_addrlen, sizeof storage));
                    auto address = net::ip_address::from_sockaddr(storage);
                    if (address && std::find(server.addresses.begin(), server.addresses.end(),
                                             address->first) == server.addresses.end())
                        server.addresses.push_back(address->first);
                }
                ::freeaddrinfo(found);
                if (server.addresses.empty())
                    out.error(server.pos, "url: '" + server.host + "' has no IPv4 or IPv6 address");
            }
        }
    }
}

} // namespace bws::config::detail
