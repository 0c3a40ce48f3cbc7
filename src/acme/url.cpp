// https URL parsing (see url.hpp).
#include "acme/url.hpp"

#include <boost/asio/ip/address.hpp>

#include <cctype>
#include <charconv>

namespace bws::acme {

namespace {

acme::error bad(std::string_view url, const char* why) {
    return acme::error{"URL '" + std::string(url) + "': " + why, 0, {}, {}};
}

bool valid_host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

} // namespace

std::string https_url::host_header() const {
    std::string text = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != "443")
        text += ":" + port;
    return text;
}

result<https_url> parse_https_url(std::string_view url) {
    constexpr std::string_view scheme = "https://";
    if (url.size() < scheme.size())
        return bad(url, "not an https URL");
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(url[i])) != scheme[i])
            return bad(url, "not an https URL");
    std::string_view rest = url.substr(scheme.size());
    const std::size_t end = rest.find_first_of("/?#");
    const std::string_view authority = rest.substr(0, end);
    std::string_view target = end == std::string_view::npos ? "" : rest.substr(end);
    if (const std::size_t hash = target.find('#'); hash != std::string_view::npos)
        target = target.substr(0, hash);
    if (authority.find('@') != std::string_view::npos)
        return bad(url, "userinfo is not allowed");

    https_url out;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos)
            return bad(url, "unterminated IPv6 address");
        out.host = std::string(authority.substr(1, close - 1));
        boost::system::error_code ec;
        const auto address = boost::asio::ip::make_address_v6(out.host, ec);
        if (ec)
            return bad(url, "invalid IPv6 address");
        (void)address;
        out.host_is_ip = true;
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':')
                return bad(url, "junk after the IPv6 address");
            port = after.substr(1);
        }
    } else {
        const std::size_t colon = authority.find(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos)
            port = authority.substr(colon + 1);
        for (const char c : out.host)
            if (!valid_host_char(c))
                return bad(url, "invalid host");
        boost::system::error_code ec;
        const auto address = boost::asio::ip::make_address_v4(out.host, ec);
        (void)address;
        out.host_is_ip = !ec;
    }
    if (out.host.empty())
        return bad(url, "no host");
    if (port.empty()) {
        out.port = "443";
    } else {
        unsigned value = 0;
        const auto [ptr, err] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (err != std::errc{} || ptr != port.data() + port.size() || value == 0 || value > 65535)
            return bad(url, "invalid port");
        out.port = std::to_string(value);
    }
    out.target =
        target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);
    return out;
}

} // namespace bws::acme
