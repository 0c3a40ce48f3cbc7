// IP addresses of listeners, parsed once when the configuration is loaded, and their socket
// address form for bind(2) and getsockname(2).
#pragma once

#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace bws::net {

class ip_address {
public:
    enum class family : std::uint8_t { v4, v6 };

    // 0.0.0.0: every IPv4 interface.
    ip_address() = default;

    // An IPv4 ("127.0.0.1") or IPv6 ("::1", also "[::1]") literal; host names are not resolved.
    static std::optional<ip_address> parse(std::string_view text);

    family kind() const { return family_; }
    bool is_v6() const { return family_ == family::v6; }

    // Canonical text without brackets: "127.0.0.1", "::" (for "0:0::0").
    std::string to_string() const;

    // Fills `out` with this address and `port`; returns the length to pass to bind(2).
    socklen_t to_sockaddr(std::uint16_t port, sockaddr_storage& out) const;
    // The address and port of an AF_INET or AF_INET6 socket address; nullopt for other families.
    static std::optional<std::pair<ip_address, std::uint16_t>>
    from_sockaddr(const sockaddr_storage& in);

    // IPv4 before IPv6, then by bytes: the order listeners are opened and listed in.
    auto operator<=>(const ip_address&) const = default;

private:
    family family_ = family::v4;
    std::array<std::uint8_t, 16> bytes_{}; // network order; IPv4 uses the first 4
};

} // namespace bws::net
