// The keys of [sites.proxy] and its sub-tables: name, type and checks, field; and the rules
// between them once the table is read.
#include "config/proxy_keys.hpp"

#include "config/access_keys.hpp"
#include "config/proxy_header_keys.hpp"

#include "config/hostname.hpp"
#include "config/upstream_url.hpp"

#include <algorithm>
#include <functional>
#include <set>

namespace bws::config::detail {
namespace {

// The balancer keeps the servers a request tried in a 64-bit set.
constexpr std::size_t max_pool_servers = 64;

struct upstream_draft {
    std::string name;
    upstream_server server;
    bool url_ok = false;
    key_positions where;
};

const std::vector<key_entry<upstream_draft>>& upstream_keys() {
    using k = keys<upstream_draft>;
    static const std::vector<key_entry<upstream_draft>> table{
        k::nonempty_text("name", &upstream_draft::name).mandatory(),
        k::custom("url",
                  [](value_reader& in, const toml::node& v, upstream_draft& d) {
                      auto text = in.nonempty_string(v, "url");
                      if (!text)
                          return false;
                      std::string error;
                      d.server.pos = value_reader::pos(v);
                      d.url_ok = parse_upstream_url(*text, d.server, error);
                      if (!d.url_ok)
                          in.error(v, "url", error);
                      return d.url_ok;
                  })
            .mandatory(),
        k::count(
            "weight", [](upstream_draft & d) -> auto& { return d.server.weight; }, 1, 1000),
        k::count(
            "max_conns", [](upstream_draft & d) -> auto& { return d.server.max_conns; }, 0, 65535),
        k::custom("tls_server_name",
                  [](value_reader& in, const toml::node& v, upstream_draft& d) {
                      auto text = in.nonempty_string(v, "tls_server_name");
                      if (!text)
                          return false;
                      std::string why;
                      auto name = normalise_hostname(*text, why);
                      if (!name || name->front() == '[' || name->rfind("*.", 0) == 0) {
                          in.error(v, "tls_server_name",
                                   "'" + *text + "' is not a host name" +
                                       (name ? std::string() : " (" + why + ")"));
                          return false;
                      }
                      d.server.tls_server_name = *name;
                      return true;
                  }),
    };
    return table;
}

bool read_upstreams(value_reader& in, const toml::node& v, proxy_draft& d) {
    d.upstreams_given = true;
    const auto* array = v.as_array();
    if (array == nullptr) {
        in.type_error(v, "upstreams", "an array of tables ([[sites.proxy.upstreams]])");
        return false;
    }
    for (const auto& element : *array) {
        const auto* t = element.as_table();
        if (t == nullptr) {
            in.type_error(element, "upstreams", "a table");
            continue;
        }
        upstream_draft u;
        const auto missing =
            read_table(in, *t, "[[sites.proxy.upstreams]]", upstream_keys(), u, &u.where);
        for (std::string_view key : missing)
            in.out().error(value_reader::pos(*t),
                           "[[sites.proxy.upstreams]] entry is missing the required key '" +
                               std::string(key) + "'");
        if (u.name.empty() || !u.url_ok)
            continue; // reported
        if (!u.server.tls_server_name.empty() && u.server.transport != upstream_transport::tls) {
            in.out().error(position(u.where, "tls_server_name", u.server.pos),
                           "tls_server_name: only an https:// upstream has a TLS server name");
            continue;
        }
        auto& pools = d.proxy.pools;
        auto pool = std::find_if(pools.begin(), pools.end(),
                                 [&](const upstream_pool& p) { return p.name == u.name; });
        if (pool == pools.end())
            pool = pools.insert(pools.end(), upstream_pool{u.name, {}});
        if (pool->servers.size() >= max_pool_servers) {
            in.out().error(value_reader::pos(*t),
                           "[[sites.proxy.upstreams]]: pool '" + u.name + "' has more than " +
                               std::to_string(max_pool_servers) + " servers");
            continue;
        }
        pool->servers.push_back(std::move(u.server));
    }
    return true;
}

// "/api", "/api/" -> "/api"; "/" stays. False when it is not an absolute path of printable
// characters.
bool normal_route_path(std::string& path) {
    if (path.empty() || path.front() != '/' || std::any_of(path.begin(), path.end(), [](char c) {
            return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '?' || c == '#';
        }))
        return false;
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    return true;
}

using route_draft = proxy_draft::route_draft;

const std::vector<key_entry<route_draft>>& route_keys() {
    using k = keys<route_draft>;
    static const std::vector<key_entry<route_draft>> table{
        k::custom("path",
                  [](value_reader& in, const toml::node& v, route_draft& r) {
                      auto text = in.nonempty_string(v, "path");
                      if (!text)
                          return false;
                      if (!normal_route_path(*text)) {
                          in.error(v, "path",
                                   "'" + *text +
                                       "' is not a path starting with '/' (no spaces, "
                                       "query or fragment)");
                          return false;
                      }
                      r.route.path = *text;
                      r.route.pos = value_reader::pos(v);
                      return true;
                  })
            .mandatory(),
        k::custom("upstream",
                  [](value_reader& in, const toml::node& v, route_draft& r) {
                      auto text = in.nonempty_string(v, "upstream");
                      if (!text)
                          return false;
                      r.upstream = *text;
                      r.upstream_pos = value_reader::pos(v);
                      return true;
                  })
            .mandatory(),
        k::flag(
            "strip_prefix", [](route_draft & r) -> auto& { return r.route.strip_prefix; }),
        k::custom("rewrite_target",
                  [](value_reader& in, const toml::node& v, route_draft& r) {
                      auto text = in.nonempty_string(v, "rewrite_target");
                      if (!text)
                          return false;
                      if (!normal_route_path(*text)) {
                          in.error(v, "rewrite_target",
                                   "'" + *text +
                                       "' is not a path starting with '/' (no spaces, "
                                       "query or fragment)");
                          return false;
                      }
                      r.route.rewrite_target = *text;
                      return true;
                  }),
        k::flag(
            "websocket", [](route_draft & r) -> auto& { return r.route.websocket; }),
    };
    return table;
}

bool read_routes(value_reader& in, const toml::node& v, proxy_draft& d) {
    const auto* array = v.as_array();
    if (array == nullptr) {
        in.type_error(v, "routes", "an array of tables ([[sites.proxy.routes]])");
        return false;
    }
    for (const auto& element : *array) {
        const auto* t = element.as_table();
        if (t == nullptr) {
            in.type_error(element, "routes", "a table");
            continue;
        }
        route_draft r;
        const auto missing = read_table(in, *t, "[[sites.proxy.routes]]", route_keys(), r);
        for (std::string_view key : missing)
            in.out().error(value_reader::pos(*t),
                           "[[sites.proxy.routes]] entry is missing the required key '" +
                               std::string(key) + "'");
        if (r.route.strip_prefix && r.route.rewrite_target)
            in.out().error(value_reader::pos(*t),
                           "[[sites.proxy.routes]]: strip_prefix and rewrite_target both replace "
                           "the matched prefix; set one of them");
        if (!r.route.path.empty() && !r.upstream.empty())
            d.routes.push_back(std::move(r));
    }
    return true;
}

template <class Field>
auto in_proxy(Field field) {
    return [field](proxy_draft & d) -> auto& {
        return std::invoke(field, d.proxy);
    };
}

const std::vector<key_entry<site_proxy>>& balancing_keys() {
    using k = keys<site_proxy>;
    static const std::vector<key_entry<site_proxy>> table{
        k::choice("method", &site_proxy::method,
                  std::vector<std::pair<std::string_view, balance_method>>{
                      {"round_robin", balance_method::round_robin},
                      {"weighted", balance_method::weighted},
                      {"least_connections", balance_method::least_connections},
                      {"consistent_hash", balance_method::consistent_hash},
                  }),
        k::custom("hash_header",
                  [](value_reader& in, const toml::node& v, site_proxy& p) {
                      auto name = in.nonempty_string(v, "hash_header");
                      if (!name)
                          return false;
                      if (!valid_header_name(*name)) {
                          in.error(v, "hash_header", "'" + *name + "' is not a header name");
                          return false;
                      }
                      p.hash_header = *name;
                      return true;
                  }),
        k::custom("sticky_sessions",
                  [](value_reader& in, const toml::node& v, site_proxy&) {
                      auto on = in.boolean(v, "sticky_sessions");
                      if (on && *on)
                          in.error(v, "sticky_sessions",
                                   "use method = \"consistent_hash\" (on the client's address, "
                                   "or on hash_header) to keep a client on one server");
                      return on.has_value() && !*on;
                  }),
    };
    return table;
}

const std::vector<key_entry<site_proxy>>& timeout_keys() {
    using k = keys<site_proxy>;
    static const std::vector<key_entry<site_proxy>> table{
        k::duration("connect", &site_proxy::connect_timeout, false),
        k::duration("read", &site_proxy::read_timeout, false),
        k::duration("write", &site_proxy::write_timeout, false),
        k::duration("tunnel_idle", &site_proxy::tunnel_idle_timeout, false),
    };
    return table;
}

const std::vector<key_entry<active_health_check>>& health_check_keys() {
    using k = keys<active_health_check>;
    static const std::vector<key_entry<active_health_check>> table{
        k::flag("enabled", &active_health_check::enabled),
        k::custom("path",
                  [](value_reader& in, const toml::node& v, active_health_check& h) {
                      auto text = in.nonempty_string(v, "path");
                      if (!text)
                          return false;
                      if (text->front() != '/' ||
                          std::any_of(text->begin(), text->end(), [](char c) {
                              return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#';
                          })) {
                          in.error(v, "path",
                                   "'" + *text +
                                       "' is not a request target starting with '/' (no "
                                       "spaces or fragment)");
                          return false;
                      }
                      h.path = *text;
                      return true;
                  }),
        k::duration("interval", &active_health_check::interval, false),
        k::custom("timeout",
                  [](value_reader& in, const toml::node& v, active_health_check& h) {
                      auto d = in.duration(v, "timeout", false);
                      if (!d)
                          return false;
                      h.timeout = *d;
                      h.timeout_pos = value_reader::pos(v);
                      return true;
                  }),
        k::count(
            "retries", [](active_health_check & h) -> auto& { return h.retries; }, 1, 100),
        k::custom("expect_status",
                  [](value_reader& in, const toml::node& v, active_health_check& h) {
                      auto status = in.integer(v, "expect_status", 100, 599);
                      if (!status)
                          return false;
                      h.expect_min = h.expect_max = static_cast<unsigned>(*status);
                      return true;
                  }),
    };
    return table;
}

const std::vector<key_entry<proxy_draft>>& proxy_keys() {
    using k = keys<proxy_draft>;
    static const std::vector<key_entry<proxy_draft>> table{
        k::flag("enabled", &proxy_draft::enabled),
        k::custom("upstreams", read_upstreams),
        k::custom("routes", read_routes),
        k::table("load_balancing", "[sites.proxy.load_balancing]", in_proxy(std::identity{}),
                 balancing_keys()),
        k::table("timeout", "[sites.proxy.timeout]", in_proxy(std::identity{}), timeout_keys()),
        k::table("headers", "[sites.proxy.headers]", in_proxy(std::identity{}),
                 proxy_header_keys()),
        k::count(
            "retries", [](proxy_draft & d) -> auto& { return d.proxy.retries; }, 0, 10),
        k::count(
            "keepalive", [](proxy_draft & d) -> auto& { return d.proxy.keepalive; }, 0, 10000),
        k::table("health_check", "[sites.proxy.health_check]", in_proxy(&site_proxy::health_check),
                 health_check_keys()),
        k::duration(
            "resolve_interval", [](proxy_draft & d) -> auto& { return d.proxy.resolve_interval; },
            true),
        k::custom("trusted_proxies",
                  [](value_reader& in, const toml::node& v, proxy_draft& d) {
                      return read_address_list(in, v, "trusted_proxies",
                                               d.proxy.headers.trusted_proxies);
                  }),
        k::custom("tls_verify",
                  [](value_reader& in, const toml::node& v, proxy_draft& d) {
                      auto on = in.boolean(v, "tls_verify");
                      if (!on)
                          return false;
                      d.proxy.tls.verify = *on;
                      d.proxy.tls.verify_pos = value_reader::pos(v);
                      return true;
                  }),
        k::custom("ca_file",
                  [](value_reader& in, const toml::node& v, proxy_draft& d) {
                      auto path = in.path(v, "ca_file");
                      if (!path)
                          return false;
                      d.proxy.tls.ca_file = *path;
                      d.proxy.tls.ca_pos = value_reader::pos(v);
                      return true;
                  }),
    };
    return table;
}

} // namespace

bool read_proxy(value_reader& in, const toml::node& v, proxy_draft& d) {
    const auto* t = in.table(v, "[sites.proxy]");
    if (t == nullptr)
        return false;
    d.pos = value_reader::pos(*t);
    read_table(in, *t, "[sites.proxy]", proxy_keys(), d);
    return true;
}

std::optional<site_proxy> finish_proxy(proxy_draft& d, const std::string& what, report& out) {
    if (!d.enabled)
        return std::nullopt;
    if (d.proxy.pools.empty()) {
        if (!d.upstreams_given)
            out.error(d.pos, what + ": [sites.proxy] is enabled without [[sites.proxy.upstreams]]");
        return std::nullopt; // a refused entry was reported already
    }
    std::set<std::string> paths;
    for (auto& r : d.routes) {
        const auto& pools = d.proxy.pools;
        auto pool = std::find_if(pools.begin(), pools.end(),
                                 [&](const upstream_pool& p) { return p.name == r.upstream; });
        if (pool == pools.end()) {
            std::string names;
            for (const auto& p : pools)
                names += (names.empty() ? "'" : ", '") + p.name + "'";
            out.error(r.upstream_pos, "upstream: no [[sites.proxy.upstreams]] is named '" +
                                          r.upstream + "' (there are " + names + ")");
            continue;
        }
        if (!paths.insert(r.route.path).second) {
            out.error(r.route.pos, "path: '" + r.route.path + "' has a route already");
            continue;
        }
        r.route.pool = static_cast<std::size_t>(pool - pools.begin());
        d.proxy.routes.push_back(std::move(r.route));
    }
    auto& check = d.proxy.health_check;
    // The default timeout shrinks to half a short interval; a written one is the operator's.
    if (check.timeout_pos.line == 0 && check.timeout >= check.interval)
        check.timeout = check.interval / 2;
    if (check.enabled && check.timeout >= check.interval)
        out.error(check.timeout_pos, "timeout: a health check's timeout (" +
                                         std::to_string(check.timeout.count()) +
                                         " ms) must be shorter than its interval (" +
                                         std::to_string(check.interval.count()) + " ms)");
    const bool any_tls = std::any_of(d.proxy.pools.begin(), d.proxy.pools.end(), [](const auto& p) {
        return std::any_of(p.servers.begin(), p.servers.end(), [](const upstream_server& s) {
            return s.transport == upstream_transport::tls;
        });
    });
    if (any_tls && !d.proxy.tls.verify)
        out.warning(d.proxy.tls.verify_pos,
                    what + ": tls_verify = false: the certificates of https:// upstreams are not "
                           "checked, so anyone on the path can impersonate them");
    if (d.routes.empty())
        out.warning(d.pos, what + ": [sites.proxy] has no [[sites.proxy.routes]], so nothing is "
                                  "proxied");
    // The longest prefix wins: the matcher takes the first route that matches.
    std::stable_sort(
        d.proxy.routes.begin(), d.proxy.routes.end(),
        [](const proxy_route& a, const proxy_route& b) { return a.path.size() > b.path.size(); });
    return std::move(d.proxy);
}

} // namespace bws::config::detail
