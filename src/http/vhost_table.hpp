// Virtual-host table of one listener: exact names, then "*.suffix" wildcards (longest suffix
// first), then the listener's default site. Built once per worker generation.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bws::http {

class vhost_table {
public:
    // `site` is an index into the caller's site array.
    void add_name(std::string_view normalized_name, std::size_t site);
    void set_default(std::size_t site) { default_site_ = site; }
    std::size_t default_site() const { return default_site_; }

    // `host` is already normalised (normalize_host); empty means "no Host" (HTTP/1.0).
    std::size_t lookup(std::string_view host) const;
    // The site a name or wildcard of the table names, without the default fallback.
    std::optional<std::size_t> find(std::string_view host) const;

private:
    std::unordered_map<std::string, std::size_t> exact_;
    std::vector<std::pair<std::string, std::size_t>> wildcards_; // ".example.com", longest first
    std::size_t default_site_ = 0;
};

} // namespace bws::http
