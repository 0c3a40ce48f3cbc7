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

    // The address in network order (IPv4 uses the first 4 bytes).
    const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }

    // IPv4 before IPv6, then by bytes: the order listeners are opened and listed in.
    auto operator<=>(const ip_address&) const = default;

private:
    family family_ = family::v4;
    std::array<std::uint8_t, 16> bytes_{}; // network order; IPv4 uses the first 4
};

// An address block ("10.0.0.0/8", "2001:db8::/32", or one address), e.g. of trusted proxies.
struct address_block {
    ip_address network;
    unsigned prefix = 32; // bits that must match

    // "ADDR" or "ADDR/BITS"; nullopt when it is neither (or BITS is out of range).
    static std::optional<address_block> parse(std::string_view text);
    // Whether `a` lies in the block; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as
    // its IPv4 address.
    bool contains(const ip_address& a) const;
};

} // namespace bws::net
