// [sites.metrics] (metrics_keys.hpp).
#include "config/metrics_keys.hpp"

#include "config/access_keys.hpp"
#include "files/path.hpp"

#include <algorithm>

namespace bws::config::detail {
namespace {

// [sites.metrics] while it is read.
struct metrics_draft {
    bool enabled = true; // the table's presence asks for the endpoint; enabled = false overrides
    site_metrics metrics;
    bool allow_given = false;
};

bool read_path(value_reader& in, const toml::node& v, metrics_draft& d) {
    auto text = in.nonempty_string(v, "path");
    if (!text)
        return false;
    // Compared byte for byte with the request's path, so only a normal path can ever match.
    const files::normalized_path normal = files::normalize_path(*text);
    const bool plain = std::none_of(text->begin(), text->end(), [](char c) {
        return c == '%' || c == '?' || c == '#' || c == ' ' ||
               static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (text->front() != '/' || !plain || normal.error != files::path_error::none ||
        normal.relative.empty() || normal.trailing_slash || "/" + normal.relative != *text) {
        in.error(v, "path",
                 "'" + *text +
                     "' must be a normal path starting with '/' (no '.' or '..' segments, no "
                     "'//', no trailing '/', no '%', '?', '#' or spaces), such as \"/metrics\"");
        return false;
    }
    d.metrics.path = *text;
    d.metrics.pos = value_reader::pos(v);
    return true;
}

const std::vector<key_entry<metrics_draft>>& metrics_keys() {
    using k = keys<metrics_draft>;
    static const std::vector<key_entry<metrics_draft>> table{
        k::flag("enabled", &metrics_draft::enabled),
        k::custom("path", read_path),
        k::custom("allow_ips",
                  [](value_reader& in, const toml::node& v, metrics_draft& d) {
                      d.allow_given = true;
                      return read_address_list(in, v, "allow_ips", d.metrics.allow);
                  }),
    };
    return table;
}

net::address_set loopback() {
    return net::address_set(
        {*net::address_block::parse("127.0.0.0/8"), *net::address_block::parse("::1")});
}

} // namespace

bool read_site_metrics(value_reader& in, const toml::node& v, std::optional<site_metrics>& metrics,
                       const std::string& what) {
    const auto* t = in.table(v, "[sites.metrics]");
    if (t == nullptr)
        return false;
    metrics_draft d;
    d.metrics.pos = value_reader::pos(*t);
    read_table(in, *t, "[sites.metrics]", metrics_keys(), d);
    if (!d.allow_given)
        d.metrics.allow = loopback();
    else if (d.metrics.allow.empty())
        in.out().warning(value_reader::pos(*t),
                         what + ": [sites.metrics] allow_ips is empty, so every client gets 403");
    if (d.enabled)
        metrics = std::move(d.metrics);
    return true;
}

void check_metrics_paths(const snapshot& config, report& out) {
    const std::string& health = config.server.health_path;
    for (const site& s : config.sites) {
        if (!s.metrics)
            continue;
        const std::string& path = s.metrics->path;
        std::string message = "site '" + s.name + "': [sites.metrics] path '" + path + "'";
        if (!health.empty() &&
            (path == health || path == health + "/" || path == health + "/detailed")) {
            message += " is a path of the health endpoint (server.health_path = '";
            message += health;
            message += "'); choose another path";
            out.error(s.metrics->pos, std::move(message));
            continue;
        }
        if (!s.proxy)
            continue;
        // The routes are sorted longest first: the first that takes the path is the one that
        // would answer it.
        const auto takes = [&path](const proxy_route& r) {
            return r.path == "/" || path == r.path ||
                   (path.size() > r.path.size() && path.compare(0, r.path.size(), r.path) == 0 &&
                    path[r.path.size()] == '/');
        };
        const auto r = std::find_if(s.proxy->routes.begin(), s.proxy->routes.end(), takes);
        if (r == s.proxy->routes.end())
            continue;
        if (r->path == path) {
            message += " is also the path of a [[sites.proxy.routes]] entry";
            message += line_of(r->pos, s.metrics->pos);
            message += "; choose another path";
            out.error(s.metrics->pos, std::move(message));
        } else {
            message += " lies beneath the proxy route '";
            message += r->path;
            message += "'";
            message += line_of(r->pos, s.metrics->pos);
            message += ": the metrics endpoint answers it, the upstream never sees it";
            out.warning(s.metrics->pos, std::move(message));
        }
    }
}

} // namespace bws::config::detail
