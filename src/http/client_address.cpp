// The client address behind trusted proxies (client_address.hpp).
#include "http/client_address.hpp"

#include "http/header_text.hpp"

namespace bws::http {

namespace {

bool all_digits(std::string_view s) {
    if (s.empty() || s.size() > 5)
        return false;
    for (char c : s)
        if (c < '0' || c > '9')
            return false;
    return true;
}

} // namespace

std::optional<net::ip_address> parse_forwarded_entry(std::string_view entry) {
    if (entry.empty())
        return std::nullopt;
    if (entry.front() == '[') {
        const auto close = entry.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        const auto rest = entry.substr(close + 1);
        if (!rest.empty() && (rest.front() != ':' || !all_digits(rest.substr(1))))
            return std::nullopt;
        auto a = net::ip_address::parse(entry.substr(1, close - 1));
        if (!a || !a->is_v6())
            return std::nullopt;
        return a;
    }
    const auto colon = entry.find(':');
    if (colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
        // One colon: IPv4 with a port.
        if (!all_digits(entry.substr(colon + 1)))
            return std::nullopt;
        auto a = net::ip_address::parse(entry.substr(0, colon));
        if (!a || a->is_v6())
            return std::nullopt;
        return a;
    }
    return net::ip_address::parse(entry); // IPv4, or bare IPv6 (several colons)
}

net::ip_address resolve_client_address(const net::ip_address& peer,
                                       std::string_view x_forwarded_for,
                                       const net::address_set& trusted) {
    if (trusted.empty() || !trusted.contains(peer))
        return peer;
    net::ip_address client = peer;
    std::string_view rest = x_forwarded_for;
    while (!rest.empty()) {
        const auto comma = rest.rfind(',');
        const auto entry =
            trim_ows(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
        if (entry.empty())
            continue; // "a, , b": an empty list element (RFC 9110 §5.6.1)
        auto a = parse_forwarded_entry(entry);
        if (!a)
            return client;
        client = *a;
        if (!trusted.contains(client))
            return client;
    }
    return client;
}

} // namespace bws::http
