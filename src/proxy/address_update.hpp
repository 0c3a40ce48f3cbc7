// What a new lookup of an upstream's host name changes: kept apart from the resolver so the
// keep-the-last-good-addresses rule can be tested without DNS.
#pragma once

#include "net/address.hpp"

#include <optional>
#include <vector>

namespace bws::proxy {

// The addresses to use after a lookup that found `found` (empty: it failed or found none),
// or nullopt to keep `current`: a failed lookup never empties a server, and the same set in
// another order (round-robin DNS) is no change. Duplicates are dropped, at most 8 are kept
// (health_table::max_addresses), in the order found.
std::optional<std::vector<net::ip_address>>
updated_addresses(const std::vector<net::ip_address>& current,
                  const std::vector<net::ip_address>& found);

} // namespace bws::proxy
