// The client's address behind trusted proxies ([security] trusted_proxies): the TCP peer, or,
// when the peer is a trusted proxy, the rightmost X-Forwarded-For entry that is not itself
// trusted (nginx's real_ip_recursive on). Pure logic, shared by access rules and rate limits.
#pragma once

#include "net/address.hpp"
#include "net/address_set.hpp"

#include <optional>
#include <string_view>

namespace bws::http {

// `x_forwarded_for`: every X-Forwarded-For field of the request joined with ", " in the order
// received (RFC 9110 §5.3), empty when there is none. Entries may carry a port
// ("192.0.2.1:4711", "[2001:db8::1]:443") or brackets ("[::1]"); the port is ignored.
//
// Walking from the right, each trusted hop vouches for the entry to its left. An entry that
// does not parse ("unknown", garbage) stops the walk: the last trusted hop is then the client,
// since nothing it vouched for can be believed. When every entry is trusted the leftmost is
// the client. An untrusted peer's header is ignored.
net::ip_address resolve_client_address(const net::ip_address& peer,
                                       std::string_view x_forwarded_for,
                                       const net::address_set& trusted);

// One X-Forwarded-For entry without surrounding spaces: "ADDR", "ADDR:PORT" (IPv4),
// "[ADDR]" or "[ADDR]:PORT"; nullopt otherwise.
std::optional<net::ip_address> parse_forwarded_entry(std::string_view entry);

} // namespace bws::http
