// Virtual-host lookup.
#include "http/vhost_table.hpp"

#include <algorithm>

namespace bws::http {

void vhost_table::add_name(std::string_view name, std::size_t site) {
    if (name.size() > 2 && name.substr(0, 2) == "*.") {
        wildcards_.emplace_back(std::string(name.substr(1)), site);
        std::stable_sort(wildcards_.begin(), wildcards_.end(), [](const auto& a, const auto& b) {
            return a.first.size() > b.first.size();
        });
        return;
    }
    exact_.emplace(std::string(name), site);
}

std::size_t vhost_table::lookup(std::string_view host) const {
    return find(host).value_or(default_site_);
}

std::optional<std::size_t> vhost_table::find(std::string_view host) const {
    if (host.empty())
        return std::nullopt;
    if (auto it = exact_.find(std::string(host)); it != exact_.end())
        return it->second;
    for (const auto& [suffix, site] : wildcards_) {
        // "*.example.com" matches "a.example.com" and "a.b.example.com", not "example.com".
        if (host.size() > suffix.size() &&
            host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0)
            return site;
    }
    return std::nullopt;
}

} // namespace bws::http
