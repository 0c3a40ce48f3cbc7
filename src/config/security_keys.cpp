// [security] and security_headers (security_keys.hpp).
#include "config/security_keys.hpp"

#include "config/access_keys.hpp"
#include "config/rate_limit_keys.hpp"

#include <algorithm>

namespace bws::config::detail {

std::optional<std::pair<std::string, std::string>>
read_header_entry(value_reader& in, const toml::key& k, const toml::node& value,
                  std::string_view label, std::span<const std::string_view> reserved,
                  std::string_view setter) {
    const std::string name(k.str());
    const std::string where = std::string(label) + ": '" + name + "'";
    auto text = in.string(value, std::string(label) + "." + name);
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_tchar)) {
        in.out().error(value_reader::pos(k), where + " is not a valid header name");
        return std::nullopt;
    }
    const std::string low = lower(name);
    if (std::find(reserved.begin(), reserved.end(), low) != reserved.end()) {
        in.out().error(value_reader::pos(k),
                       where + " is set by " + std::string(setter) + " and cannot be configured");
        return std::nullopt;
    }
    if (!text)
        return std::nullopt;
    if (has_control(*text)) {
        in.error(value, label,
                 "the value of '" + name + "' contains a line break or control character");
        return std::nullopt;
    }
    return std::make_pair(name, *text);
}

// Safe for any site: none of them breaks pages that work today. The CSP restricts only what
// is never legitimate on an ordinary site (plugins, <base> hijacking, framing by others), not
// scripts or styles, which a site-specific policy must list.
const header_list& default_security_headers() {
    static const header_list list{
        {"X-Content-Type-Options", "nosniff"},
        {"X-Frame-Options", "SAMEORIGIN"},
        {"Referrer-Policy", "strict-origin-when-cross-origin"},
        {"Content-Security-Policy", "object-src 'none'; base-uri 'self'; frame-ancestors 'self'"},
        {"Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"},
    };
    return list;
}

bool read_security_headers(value_reader& in, const toml::node& v, header_list& out) {
    if (const auto* b = v.as_boolean()) {
        out = b->get() ? default_security_headers() : header_list{};
        return true;
    }
    const auto* t = v.as_table();
    if (t == nullptr) {
        in.type_error(v, "security_headers", "true, false or a table of headers");
        return false;
    }
    header_list list = default_security_headers();
    for (const auto& [k, value] : in_file_order(*t)) {
        auto entry = read_header_entry(in, *k, *value, "security_headers");
        if (!entry)
            continue;
        const auto same = std::find_if(list.begin(), list.end(), [&](const auto& h) {
            return lower(h.first) == lower(entry->first);
        });
        if (entry->second.empty()) {
            if (same != list.end())
                list.erase(same);
        } else if (same != list.end()) {
            same->second = std::move(entry->second);
        } else {
            list.push_back(std::move(*entry));
        }
    }
    out = std::move(list);
    return true;
}

const std::vector<key_entry<security_section>>& security_keys() {
    using k = keys<security_section>;
    static const std::vector<key_entry<security_section>> table{
        k::flag("hide_server_header", &security_section::hide_server_header),
        k::custom("security_headers",
                  [](value_reader& in, const toml::node& v, security_section& s) {
                      return read_security_headers(in, v, s.headers);
                  }),
        k::custom("trusted_proxies",
                  [](value_reader& in, const toml::node& v, security_section& s) {
                      return read_address_list(in, v, "trusted_proxies", s.trusted_proxies);
                  }),
        k::custom("rate_limiting",
                  [](value_reader& in, const toml::node& v, security_section& s) {
                      if (read_rate_limit(in, v, s.rate_limiting.emplace(),
                                          "[security.rate_limiting]"))
                          return true;
                      s.rate_limiting.reset(); // not a table: reported
                      return false;
                  }),
        k::refused("max_request_size",
                   "'max_request_size' is not used: set max_body_size in [server.limits]"),
        k::refused("allowed_origins",
                   "'allowed_origins' is not used: set allow_origins in a site's "
                   "[sites.access_control]"),
    };
    return table;
}

} // namespace bws::config::detail
