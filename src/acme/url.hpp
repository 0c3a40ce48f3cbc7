// https:// URLs as ACME servers hand them out (directory, nonce, account, order, challenge,
// certificate), split into what a connection needs. Only https is accepted (RFC 8555 §6.1).
#pragma once

#include "acme/error.hpp"

#include <string>
#include <string_view>

namespace bws::acme {

struct https_url {
    std::string host;   // a name, an IPv4 address or an IPv6 address (without brackets)
    std::string port;   // "443" unless the URL names one
    std::string target; // path and query, "/" at least; the fragment is dropped
    bool host_is_ip = false;

    // The Host header's value: the host (IPv6 in brackets) and ":port" unless it is 443.
    std::string host_header() const;
};

// Fails for another scheme, userinfo, an empty host or an invalid port.
result<https_url> parse_https_url(std::string_view url);

} // namespace bws::acme
