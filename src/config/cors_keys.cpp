// [sites.access_control]: origins, methods, headers, credentials and max_age (cors_keys.hpp).
#include "config/cors_keys.hpp"

#include <algorithm>

namespace bws::config::detail {
namespace {

struct cors_draft {
    cors_policy policy;
    bool origins_given = false;
};

// "scheme://host[:port]" as a browser sends it in Origin, or "*" / "scheme://*.domain[:port]".
bool read_origins(value_reader& in, const toml::node& v, cors_draft& d) {
    d.origins_given = true;
    const auto* array = v.as_array();
    if (array == nullptr) {
        in.type_error(v, "allow_origins", "an array of origins");
        return false;
    }
    bool ok = true;
    for (const auto& element : *array) {
        auto text = in.nonempty_string(element, "allow_origins");
        if (!text) {
            ok = false;
            continue;
        }
        if (*text == "*") {
            d.policy.any_origin = true;
            continue;
        }
        const std::string origin = lower(*text);
        const auto sep = origin.find("://");
        const std::string_view scheme =
            sep == std::string::npos ? std::string_view() : std::string_view(origin).substr(0, sep);
        const std::string_view rest = sep == std::string::npos
                                          ? std::string_view()
                                          : std::string_view(origin).substr(sep + 3);
        const bool scheme_ok =
            !scheme.empty() && std::all_of(scheme.begin(), scheme.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
                       c == '.';
            });
        const bool rest_ok =
            !rest.empty() && rest.find_first_of("/?#@ \t") == std::string_view::npos &&
            !has_control(rest) &&
            rest.find('*', rest.starts_with("*.") ? 1 : 0) == std::string_view::npos;
        if (origin == "null") {
            in.error(element, "allow_origins",
                     "'null' is the origin of sandboxed and file: documents, which anyone can "
                     "create; it cannot be allowed");
            ok = false;
        } else if (!scheme_ok || !rest_ok || rest == "*." || rest.starts_with(":")) {
            in.error(element, "allow_origins",
                     "'" + *text +
                         "' is not an origin: write \"*\", \"https://example.com\" (no path, "
                         "no trailing '/'; a port when it is not the scheme's), or "
                         "\"https://*.example.com\"");
            ok = false;
        } else if (rest.starts_with("*.")) {
            d.policy.origin_suffixes.push_back(
                {std::string(scheme), std::string(rest.substr(1))}); // ".example.com[:port]"
        } else {
            d.policy.origins.push_back(origin);
        }
    }
    return ok;
}

// A list of HTTP tokens (methods, header names); `star`: "*" is allowed on its own.
bool read_tokens(value_reader& in, const toml::node& v, std::string_view key,
                 std::vector<std::string>& out, bool star) {
    const auto* array = v.as_array();
    if (array == nullptr) {
        in.type_error(v, key, "an array of strings");
        return false;
    }
    std::vector<std::string> items;
    bool ok = true;
    for (const auto& element : *array) {
        auto text = in.nonempty_string(element, key);
        if (!text) {
            ok = false;
        } else if (*text == "*" && !star) {
            // "*" is a token character, but no method is called "*": list the methods.
            in.error(element, key, "'*' is not allowed here: list the methods");
            ok = false;
        } else if (*text != "*" && !std::all_of(text->begin(), text->end(), is_tchar)) {
            in.error(element, key, "'" + *text + "' is not a valid token");
            ok = false;
        } else {
            items.push_back(*text); // a token, or "*" where it may stand
        }
    }
    if (ok)
        out = std::move(items);
    return ok;
}

const std::vector<key_entry<cors_draft>>& cors_keys() {
    using k = keys<cors_draft>;
    static const std::vector<key_entry<cors_draft>> table{
        k::custom("allow_origins", read_origins),
        k::custom("allow_methods",
                  [](value_reader& in, const toml::node& v, cors_draft& d) {
                      // Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET.
                      return read_tokens(in, v, "allow_methods", d.policy.allow_methods, false);
                  }),
        k::custom("allow_headers",
                  [](value_reader& in, const toml::node& v, cors_draft& d) {
                      return read_tokens(in, v, "allow_headers", d.policy.allow_headers, true);
                  }),
        k::custom("expose_headers",
                  [](value_reader& in, const toml::node& v, cors_draft& d) {
                      return read_tokens(in, v, "expose_headers", d.policy.expose_headers, true);
                  }),
        k::custom("allow_credentials",
                  [](value_reader& in, const toml::node& v, cors_draft& d) {
                      auto b = in.boolean(v, "allow_credentials");
                      if (b)
                          d.policy.allow_credentials = *b;
                      return b.has_value();
                  }),
        k::custom("max_age",
                  [](value_reader& in, const toml::node& v, cors_draft& d) {
                      d.policy.max_age = in.max_age(v, "max_age");
                      return d.policy.max_age.has_value();
                  }),
        k::refused("enabled", "'enabled' is not used: [sites.access_control] is on when it is "
                              "given; remove the table to turn CORS off"),
    };
    return table;
}

} // namespace

bool read_cors(value_reader& in, const toml::node& v, cors_policy& policy,
               const std::string& what) {
    const auto* t = in.table(v, "[sites.access_control]");
    if (t == nullptr)
        return false;
    cors_draft d;
    key_positions where;
    read_table(in, *t, "[sites.access_control]", cors_keys(), d, &where);
    const source_pos at = value_reader::pos(*t);
    auto pos_of = [&](std::string_view key) {
        const auto found = where.find(std::string(key));
        return found != where.end() ? found->second : at;
    };
    if (!d.origins_given)
        in.out().error(at, what + ": [sites.access_control] needs allow_origins");
    // The Fetch standard refuses "*" with credentials; a server that echoed any origin instead
    // would hand every site on the web the user's cookies.
    if (d.policy.any_origin && d.policy.allow_credentials)
        in.out().error(pos_of("allow_credentials"),
                       what + ": allow_credentials cannot be combined with allow_origins \"*\"; "
                              "list the origins");
    const auto star = [](const std::vector<std::string>& list) {
        return std::find(list.begin(), list.end(), "*") != list.end();
    };
    if (d.policy.allow_credentials && star(d.policy.allow_headers))
        in.out().error(pos_of("allow_headers"),
                       what + ": allow_headers \"*\" is a literal header name for credentialed "
                              "requests; list the headers");
    if ((star(d.policy.allow_headers) && d.policy.allow_headers.size() > 1) ||
        (star(d.policy.expose_headers) && d.policy.expose_headers.size() > 1))
        in.out().error(at, what + ": \"*\" in allow_headers or expose_headers must stand alone");
    policy = std::move(d.policy);
    return true;
}

} // namespace bws::config::detail
