// The keys of a [[sites]] table, and what is checked once the whole table has been read.
#include "config/access_keys.hpp"
#include "config/cache_keys.hpp"
#include "config/compression_keys.hpp"
#include "config/cors_keys.hpp"
#include "config/metrics_keys.hpp"
#include "config/proxy_keys.hpp"
#include "config/rate_limit_keys.hpp"
#include "config/section_keys.hpp"
#include "config/security_keys.hpp"
#include "config/ssl_keys.hpp"
#include "files/path.hpp"
#include "net/rate_limit.hpp"

#include <algorithm>
#include <tuple>

namespace bws::config::detail {
namespace {

namespace fs = std::filesystem;

// A site while its table is read: what the keys set before it is normalised into a site.
struct site_draft : site {
    std::optional<std::string> primary; // `hostname`; empty when given but invalid
    source_pos primary_pos;
    std::vector<std::string> aliases; // `hostnames`
    std::vector<source_pos> alias_pos;
    bool hostnames_given = false;
    bool hostnames_empty = false;
    std::vector<std::tuple<unsigned, std::string, source_pos>> pages; // status, file, where
    std::optional<ssl_draft> ssl;                                     // [sites.ssl], when given
    std::optional<proxy_draft> proxy_table;                           // [sites.proxy], when given
    bool cache_table = false;                                         // [sites.cache] given
    std::optional<source_pos> cache_shorthand; // where the site's own cache_control is
};

bool read_hostname(value_reader& in, const toml::node& v, site_draft& s) {
    s.primary_pos = value_reader::pos(v);
    s.primary = in.hostname(v, "hostname");
    if (!s.primary)
        s.primary = std::string(); // given, but invalid: already reported
    return !s.primary->empty();
}

bool read_hostnames(value_reader& in, const toml::node& v, site_draft& s) {
    s.hostnames_given = true;
    const auto* array = v.as_array();
    if (array == nullptr) {
        in.type_error(v, "hostnames", "an array of strings");
        return false;
    }
    s.hostnames_empty = array->empty();
    for (const auto& element : *array) {
        if (auto name = in.hostname(element, "hostnames")) {
            s.aliases.push_back(*name);
            s.alias_pos.push_back(value_reader::pos(element));
        }
    }
    return true;
}

bool read_headers(value_reader& in, const toml::node& v, site_draft& s) {
    const auto* t = in.table(v, "[sites.headers]");
    if (t == nullptr)
        return false;
    // Headers go out in the order the operator wrote them.
    for (const auto& [k, value] : in_file_order(*t))
        if (auto entry = read_header_entry(in, *k, *value, "headers"))
            s.headers.push_back(std::move(*entry));
    return true;
}

bool read_index_files(value_reader& in, const toml::node& v, site_draft& s) {
    const auto* array = v.as_array();
    if (array == nullptr) {
        in.type_error(v, "index_files", "an array of file names");
        return false;
    }
    std::vector<std::string> files;
    bool ok = true;
    for (const auto& element : *array) {
        auto name = in.string(element, "index_files");
        if (!name) {
            ok = false;
        } else if (name->empty() || *name == "." || *name == ".." ||
                   name->find_first_of(std::string_view("/\0", 2)) != std::string::npos) {
            in.error(element, "index_files", "'" + *name + "' must be a plain file name (no '/')");
            ok = false;
        } else {
            files.push_back(*name);
        }
    }
    // An empty list keeps the defaults, as in the original BWS.
    if (ok && !files.empty())
        s.index_files = std::move(files);
    return ok;
}

// Status -> file; the files are resolved against static_dir once the whole table is read.
bool read_error_pages(value_reader& in, const toml::node& v, site_draft& s) {
    const auto* t = in.table(v, "[sites.error_pages]");
    if (t == nullptr)
        return false;
    for (auto&& [code, page] : *t) {
        const std::string_view c = code.str();
        const bool digits = c.size() == 3 && std::all_of(c.begin(), c.end(), [](char ch) {
                                return ch >= '0' && ch <= '9';
                            });
        const unsigned status = digits ? static_cast<unsigned>(std::stoi(std::string(c))) : 0;
        auto file = in.nonempty_string(page, "error_pages." + std::string(c));
        if (status < 400 || status > 599) {
            in.out().error(value_reader::pos(code), "error_pages: '" + std::string(c) +
                                                        "' is not an HTTP error status (400-599)");
            continue;
        }
        if (file)
            s.pages.emplace_back(status, *file, value_reader::pos(page));
    }
    return true;
}

// The site's cache_control: a shorthand for a [sites.cache] table holding only that key.
bool read_cache_control(value_reader& in, const toml::node& v, site_draft& s) {
    auto header = read_cache_header(in, v, "cache_control");
    if (!header)
        return false;
    s.cache.enabled = true;
    s.cache.cache_control = std::move(*header);
    s.cache_shorthand = value_reader::pos(v);
    return true;
}

// A path beneath static_dir, written as the URL path that would serve it ("/index.html").
bool read_fallback(value_reader& in, const toml::node& v, site_draft& s) {
    auto x = in.nonempty_string(v, "fallback");
    if (!x)
        return false;
    const files::normalized_path path = files::normalize_path(*x);
    if (x->front() != '/' || path.error != files::path_error::none || path.relative.empty() ||
        path.trailing_slash) {
        in.error(v, "fallback",
                 "'" + *x +
                     "' must be the path of a file beneath static_dir, such as "
                     "\"/index.html\"");
        return false;
    }
    if (files::is_hidden_path(path.relative)) {
        in.error(v, "fallback", "'" + *x + "' names a hidden file, which is never served");
        return false;
    }
    s.fallback = path.relative;
    return true;
}

const std::vector<key_entry<site_draft>>& site_keys() {
    using k = keys<site_draft>;
    static const std::vector<key_entry<site_draft>> table{
        k::nonempty_text("name", &site::name).mandatory(),
        k::custom("hostname", read_hostname),
        k::custom("hostnames", read_hostnames),
        k::port("port", &site::port).mandatory(),
        k::address("bind", &site::bind),
        // Required unless api_only (checked once the table is read).
        k::path("static_dir", &site::static_dir),
        k::flag("api_only", &site::api_only),
        k::flag("default", &site::is_default),
        k::custom("headers", read_headers),
        k::custom("security_headers",
                  [](value_reader& in, const toml::node& v, site_draft& s) {
                      return read_security_headers(in, v, s.security_headers.emplace());
                  }),
        k::custom("index_files", read_index_files),
        k::custom("error_pages", read_error_pages),
        k::custom("cache_control", read_cache_control),
        k::log_path("access_log", &site::access_log),
        k::flag("enable_directory_listing", &site::directory_listing),
        k::custom("fallback", read_fallback),
        k::flag("fallback_for_extensions", &site::fallback_for_extensions),
        k::custom("ssl",
                  [](value_reader& in, const toml::node& v, site_draft& s) {
                      if (read_ssl(in, v, s.ssl.emplace()))
                          return true;
                      s.ssl.reset(); // not a table: reported
                      return false;
                  }),
        k::flag("redirect_to_https", &site::redirect_to_https),
        k::custom("proxy",
                  [](value_reader& in, const toml::node& v, site_draft& s) {
                      if (read_proxy(in, v, s.proxy_table.emplace()))
                          return true;
                      s.proxy_table.reset(); // not a table: reported
                      return false;
                  }),
        k::custom("compression",
                  [](value_reader& in, const toml::node& v, site_draft& s) {
                      return read_compression(in, v, s.compression);
                  }),
        k::custom("access_control",
                  [](value_reader& in, const toml::node& v, site_draft& s) {
                      const std::string what =
                          s.name.empty() ? std::string("site") : "site '" + s.name + "'";
                      if (read_cors(in, v, s.cors.emplace(), what))
                          return true;
                      s.cors.reset(); // not a table: reported
                      return false;
                  }),
        k::custom("access",
                  [](value_reader& in, const toml::node& v, site_draft& s) {
                      const std::string what =
                          s.name.empty() ? std::string("site") : "site '" + s.name + "'";
                      if (read_access(in, v, s.access.emplace(), what))
                          return true;
                      s.access.reset(); // not a table: reported
                      return false;
                  }),
        k::custom("rate_limit",
                  [](value_reader& in, const toml::node& v, site_draft& s) {
                      if (read_rate_limit(in, v, s.rate_limit.emplace(), "[sites.rate_limit]"))
                          return true;
                      s.rate_limit.reset(); // not a table: reported
                      return false;
                  }),
        k::custom("cache",
                  [](value_reader& in, const toml::node& v, site_draft& s) {
                      s.cache_table = read_cache(in, v, s.cache);
                      return s.cache_table;
                  }),
        k::custom("metrics",
                  [](value_reader& in, const toml::node& v, site_draft& s) {
                      const std::string what =
                          s.name.empty() ? std::string("site") : "site '" + s.name + "'";
                      return read_site_metrics(in, v, s.metrics, what);
                  }),
    };
    return table;
}

} // namespace

void read_site(value_reader& in, const toml::table& t, snapshot& config, positions& where) {
    site_draft s;
    s.pos = value_reader::pos(t);
    site_positions& at = where.sites.emplace_back();
    const auto missing = read_table(in, t, "[[sites]]", site_keys(), s, &at.keys);

    report& out = in.out();
    const std::string what =
        s.name.empty() ? std::string("[[sites]] entry") : "site '" + s.name + "'";
    auto require = [&](std::string_view key) {
        out.error(s.pos, what + " is missing the required key '" + std::string(key) + "'");
    };
    // Keys are reported in the order a site is usually written: name, hostname, port, dir.
    if (std::find(missing.begin(), missing.end(), "name") != missing.end())
        require("name");
    if (!s.primary && !s.hostnames_given)
        require("hostname");
    if (std::find(missing.begin(), missing.end(), "port") != missing.end())
        require("port");
    if (!s.api_only && !t.contains("static_dir"))
        out.error(s.pos, what + " is missing the required key 'static_dir' (or api_only = true "
                                "for a site that serves no files)");

    if (s.primary && !s.primary->empty()) {
        s.hostnames.push_back(*s.primary);
        at.hostnames.push_back(s.primary_pos);
    }
    s.hostnames.insert(s.hostnames.end(), s.aliases.begin(), s.aliases.end());
    at.hostnames.insert(at.hostnames.end(), s.alias_pos.begin(), s.alias_pos.end());
    if (!s.primary && s.hostnames_empty)
        out.error(s.pos, what + " has an empty hostnames list and no hostname");

    // One place says how the site's files are cached: a table and the shorthand beside it
    // would leave the reader guessing which one wins.
    if (s.cache_table && s.cache_shorthand)
        out.error(*s.cache_shorthand, what + ": cache_control and [sites.cache] are both given; "
                                             "move cache_control into [sites.cache]");

    if (s.ssl) {
        s.tls = finish_ssl(*s.ssl, what, out);
        at.ssl = std::move(s.ssl->where);
    }
    if (s.proxy_table)
        s.proxy = finish_proxy(*s.proxy_table, what, out);

    if (s.api_only) {
        // These only change how static files are served, and an api_only site serves none.
        for (std::string_view key : {"fallback", "enable_directory_listing", "index_files"})
            if (const auto it = at.keys.find(key); it != at.keys.end())
                out.warning(it->second,
                            what + ": " + std::string(key) + " has no effect with api_only = true");
    }
    for (const auto& [status, file, page_pos] : s.pages) {
        const fs::path p(file);
        if (p.is_absolute()) {
            s.error_pages[status] = normal_path(p);
        } else if (!s.static_dir.empty()) {
            s.error_pages[status] = normal_path(s.static_dir / p);
        } else {
            // An api_only site without static_dir (a missing static_dir is reported above).
            if (s.api_only)
                out.error(page_pos, "error_pages." + std::to_string(status) + ": '" + file +
                                        "' is relative, and the site has no static_dir to "
                                        "resolve it against; write an absolute path");
            continue;
        }
        at.error_pages[status] = page_pos;
    }
    if (s.rate_limit)
        s.rate_limit->bucket = net::rate_bucket(s.name);
    config.sites.push_back(static_cast<site&&>(s));
}

} // namespace bws::config::detail
