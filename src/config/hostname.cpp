// Host name and listener address validation for [[sites]] hostname, hostnames and bind.
#include "config/hostname.hpp"

#include <cctype>

namespace bws::config {
namespace {

bool label_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Checks a dot-separated DNS name already in lower case; returns an empty string when valid.
std::string check_dns_name(std::string_view name) {
    if (name.size() > 253)
        return "is longer than 253 characters";
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = name.find('.', start);
        const std::string_view label = name.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty())
            return "has an empty label";
        if (label.size() > 63)
            return "has a label longer than 63 characters";
        for (char c : label) {
            if (c == '*')
                return "has a '*' that is not the whole first label (use \"*.example.com\")";
            if (static_cast<unsigned char>(c) >= 0x80)
                return "has non-ASCII characters (use the xn-- form of the name)";
            if (!label_char(c))
                return std::string("has the invalid character '") + c + "'";
        }
        if (label.front() == '-' || label.back() == '-')
            return "has a label that starts or ends with '-'";
        if (dot == std::string_view::npos)
            return {};
        start = dot + 1;
    }
}

} // namespace

std::optional<std::string> normalise_hostname(std::string_view text, std::string& error) {
    const std::string quoted = "'" + std::string(text) + "'";
    if (text.empty()) {
        error = "hostname is empty";
        return std::nullopt;
    }
    if (text.front() == '[') {
        if (text.back() != ']') {
            error = "hostname " + quoted + " has '[' without a closing ']'";
            return std::nullopt;
        }
        const std::string_view inner = text.substr(1, text.size() - 2);
        const auto address = inner.starts_with('[') ? std::nullopt : net::ip_address::parse(inner);
        if (!address || !address->is_v6()) {
            error = "hostname " + quoted + " is not a valid IPv6 address";
            return std::nullopt;
        }
        return "[" + address->to_string() + "]";
    }
    std::string name(text);
    for (char& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name.size() > 1 && name.back() == '.')
        name.pop_back();
    if (name.find(':') != std::string::npos) {
        error = "hostname " + quoted +
                " contains ':' (the port goes in 'port'; IPv6 addresses need brackets)";
        return std::nullopt;
    }
    if (auto v4 = net::ip_address::parse(name); v4 && !v4->is_v6())
        return v4->to_string();
    std::string_view check = name;
    if (check.starts_with("*.")) {
        check.remove_prefix(2);
        if (check.empty()) {
            error = "hostname " + quoted + " is a wildcard without a domain";
            return std::nullopt;
        }
    }
    if (std::string reason = check_dns_name(check); !reason.empty()) {
        error = "hostname " + quoted + " " + reason;
        return std::nullopt;
    }
    return name;
}

std::optional<net::ip_address> parse_bind_address(std::string_view text, std::string& error) {
    if (auto address = net::ip_address::parse(text))
        return address;
    error = "bind address '" + std::string(text) +
            "' is not an IPv4 or IPv6 address literal (host names are not resolved)";
    return std::nullopt;
}

} // namespace bws::config
