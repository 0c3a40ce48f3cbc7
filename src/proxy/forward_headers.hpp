// The head of the request a proxy sends upstream, re-serialised from what the front parser
// accepted (never the client's bytes passed through): hop-by-hop headers and those the client's
// Connection lists are dropped, inbound X-Forwarded-*/Forwarded/X-Real-IP are replaced by our
// own (bws trusts no proxy in front of it), the operator's add/remove apply, and the framing is
// the proxy's. Also the filter for the response headers passed back to the client.
#pragma once

#include "config/model.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bws::proxy {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct forward_request {
    std::string_view method;
    std::string_view target;             // origin-form, already rewritten for the upstream
    const header_list* fields = nullptr; // the client's header fields, in order
    std::string_view host;               // the client's Host (empty when it sent none)
    std::string_view client_ip;          // the peer's address
    // The peer is one of trusted_proxies: its forwarding headers are kept and extended.
    bool trusted_peer = false;
    bool https = false; // the client connection is TLS
    // The body's framing upstream: a known length, chunked, or none.
    std::optional<std::uint64_t> content_length;
    bool chunked = false;
    // An upgrade the route allows (the client's Upgrade value): sent with Connection: Upgrade.
    std::string_view upgrade;
};

// Whether `client_ip` (the peer's address as text) is in `trusted`.
bool is_trusted(std::string_view client_ip, const net::address_set& trusted);

// Replaces `out` with the request line and headers, ending in the blank line.
void build_request_head(std::string& out, const forward_request& r,
                        const config::upstream_server& server,
                        const config::proxy_headers& headers);

// Whether a header of a message is hop-by-hop for this connection: the RFC 9110 §7.6.1 set
// (Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade) or one
// the message's Connection header lists (`connection_tokens`, lower-case).
bool is_hop_by_hop(std::string_view name, const std::vector<std::string>& connection_tokens);

// The lower-case tokens of every Connection header in `fields`.
std::vector<std::string> connection_tokens(const header_list& fields);

} // namespace bws::proxy
