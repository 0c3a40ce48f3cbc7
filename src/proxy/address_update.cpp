// Applying a lookup's result (see address_update.hpp).
#include "proxy/address_update.hpp"

#include "proxy/health_table.hpp"

#include <algorithm>

namespace bws::proxy {

std::optional<std::vector<net::ip_address>>
updated_addresses(const std::vector<net::ip_address>& current,
                  const std::vector<net::ip_address>& found) {
    std::vector<net::ip_address> next;
    for (const auto& a : found)
        if (next.size() < health_table::max_addresses &&
            std::find(next.begin(), next.end(), a) == next.end())
            next.push_back(a);
    if (next.empty())
        return std::nullopt;
    auto a = current;
    auto b = next;
    std::sort(a.begin(), a.end());
    a.erase(std::unique(a.begin(), a.end()), a.end());
    std::sort(b.begin(), b.end());
    if (a == b)
        return std::nullopt;
    return next;
}

} // namespace bws::proxy
