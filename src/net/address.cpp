// ip_address: literal parsing (inet_pton), canonical text (inet_ntop), sockaddr conversion.
#include "net/address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace bws::net {

std::optional<ip_address> ip_address::parse(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
        text = text.substr(1, text.size() - 2);
    const std::string literal(text); // inet_pton needs a terminated string
    if (literal.find('\0') != std::string::npos)
        return std::nullopt;
    ip_address a;
    if (::inet_pton(AF_INET, literal.c_str(), a.bytes_.data()) == 1)
        return a;
    a.family_ = family::v6;
    if (::inet_pton(AF_INET6, literal.c_str(), a.bytes_.data()) == 1)
        return a;
    return std::nullopt;
}

std::string ip_address::to_string() const {
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(is_v6() ? AF_INET6 : AF_INET, bytes_.data(), text, sizeof text);
    return text;
}

socklen_t ip_address::to_sockaddr(std::uint16_t port, sockaddr_storage& out) const {
    out = {};
    if (is_v6()) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        std::memcpy(&in6->sin6_addr, bytes_.data(), sizeof in6->sin6_addr);
        return sizeof(sockaddr_in6);
    }
    auto* in4 = reinterpret_cast<sockaddr_in*>(&out);
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    std::memcpy(&in4->sin_addr, bytes_.data(), sizeof in4->sin_addr);
    return sizeof(sockaddr_in);
}

std::optional<std::pair<ip_address, std::uint16_t>>
ip_address::from_sockaddr(const sockaddr_storage& in) {
    ip_address a;
    if (in.ss_family == AF_INET) {
        const auto& in4 = reinterpret_cast<const sockaddr_in&>(in);
        std::memcpy(a.bytes_.data(), &in4.sin_addr, sizeof in4.sin_addr);
        return std::pair{a, ntohs(in4.sin_port)};
    }
    if (in.ss_family == AF_INET6) {
        const auto& in6 = reinterpret_cast<const sockaddr_in6&>(in);
        a.family_ = family::v6;
        std::memcpy(a.bytes_.data(), &in6.sin6_addr, sizeof in6.sin6_addr);
        return std::pair{a, ntohs(in6.sin6_port)};
    }
    return std::nullopt;
}

std::optional<address_block> address_block::parse(std::string_view text) {
    const auto slash = text.find('/');
    auto address = ip_address::parse(text.substr(0, slash));
    if (!address)
        return std::nullopt;
    address_block b;
    b.network = *address;
    const unsigned max = address->is_v6() ? 128 : 32;
    b.prefix = max;
    if (slash != std::string_view::npos) {
        const auto bits = text.substr(slash + 1);
        unsigned n = 0;
        if (bits.empty() || bits.size() > 3)
            return std::nullopt;
        for (char c : bits) {
            if (c < '0' || c > '9')
                return std::nullopt;
            n = n * 10 + static_cast<unsigned>(c - '0');
        }
        if (n > max)
            return std::nullopt;
        b.prefix = n;
    }
    return b;
}

bool address_block::contains(const ip_address& a) const {
    const auto& want = network.bytes();
    const auto* got = a.bytes().data();
    if (a.is_v6() && !network.is_v6()) {
        // ::ffff:a.b.c.d, as a dual-stack listener reports an IPv4 client.
        static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(got, mapped, sizeof mapped) != 0)
            return false;
        got += 12;
    } else if (a.is_v6() != network.is_v6()) {
        return false;
    }
    const unsigned full = prefix / 8;
    if (std::memcmp(got, want.data(), full) != 0)
        return false;
    const unsigned rest = prefix % 8;
    if (rest == 0)
        return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (got[full] & mask) == (want[full] & mask);
}

} // namespace bws::net
