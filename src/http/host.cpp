// Host header parsing: strict enough to reject what nginx >= 1.29.4 rejects, lenient enough
// to accept every name a configured site can have.
#include "http/host.hpp"

#include <algorithm>

namespace bws::http {
namespace {

bool is_host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

bool valid_port(std::string_view port) {
    if (port.empty() || port.size() > 5)
        return false;
    unsigned value = 0;
    for (char c : port) {
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value <= 65535;
}

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

} // namespace

std::optional<std::string> normalize_host(std::string_view authority) {
    if (authority.empty())
        return std::nullopt;
    std::string_view host = authority;
    std::string_view port;
    if (authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        host = authority.substr(0, close + 1);
        auto rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':' || !valid_port(rest.substr(1)))
                return std::nullopt;
        }
        auto inside = host.substr(1, host.size() - 2);
        if (inside.empty())
            return std::nullopt;
        for (char c : inside) {
            bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
            if (!hex && c != ':' && c != '.')
                return std::nullopt;
        }
        std::string out(host);
        std::transform(out.begin(), out.end(), out.begin(), lower);
        return out;
    }
    auto colon = authority.find(':');
    if (colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
        if (!valid_port(port))
            return std::nullopt;
    }
    if (!host.empty() && host.back() == '.')
        host.remove_suffix(1);
    // One trailing dot is the root label; a second one ("a..") is an empty label.
    if (host.empty() || host.front() == '.' || host.back() == '.')
        return std::nullopt;
    char previous = 0;
    for (char c : host) {
        if (!is_host_char(c))
            return std::nullopt;
        if (c == '.' && previous == '.')
            return std::nullopt;
        previous = c;
    }
    std::string out(host);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}

bool split_absolute_target(std::string_view target, std::string_view& authority,
                           std::string_view& origin_form) {
    std::string_view rest;
    auto starts_with_ci = [&](std::string_view prefix) {
        if (target.size() < prefix.size())
            return false;
        for (std::size_t i = 0; i < prefix.size(); ++i)
            if (lower(target[i]) != prefix[i])
                return false;
        return true;
    };
    if (starts_with_ci("http://"))
        rest = target.substr(7);
    else if (starts_with_ci("https://"))
        rest = target.substr(8);
    else
        return false;
    auto end = rest.find_first_of("/?");
    authority = rest.substr(0, end);
    origin_form = end == std::string_view::npos ? std::string_view("/") : rest.substr(end);
    return true;
}

} // namespace bws::http
