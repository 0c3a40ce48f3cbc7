// [sites.access] and the address lists (access_keys.hpp).
#include "config/access_keys.hpp"

#include "files/path.hpp"

namespace bws::config::detail {

namespace {

// [sites.access] while it is read: what the checks between keys need.
struct access_draft {
    site_access* access = nullptr;
    std::optional<source_pos> require_pos;
    std::optional<source_pos> auth_file_pos;
    std::optional<source_pos> auth_paths_pos;
};

bool read_auth_type(value_reader& in, const toml::node& v, access_draft&) {
    auto text = in.string(v, "auth_type");
    if (!text)
        return false;
    if (*text != "basic") {
        in.error(v, "auth_type", "'" + *text + "' is not supported (only \"basic\" is)");
        return false;
    }
    return true;
}

bool read_realm(value_reader& in, const toml::node& v, access_draft& d) {
    auto text = in.nonempty_string(v, "auth_realm");
    if (!text)
        return false;
    // The realm is sent as a quoted-string: refusing what would need escaping keeps every
    // client's parser happy.
    for (const char c : *text) {
        if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            in.error(v, "auth_realm", "must not contain '\"', '\\' or control characters");
            return false;
        }
    }
    d.access->realm = *text;
    return true;
}

bool read_auth_paths(value_reader& in, const toml::node& v, access_draft& d) {
    const auto* array = v.as_array();
    if (array == nullptr) {
        in.type_error(v, "auth_paths", "an array of path prefixes (\"/admin\")");
        return false;
    }
    bool ok = true;
    for (const auto& element : *array) {
        auto text = in.nonempty_string(element, "auth_paths");
        if (!text) {
            ok = false;
            continue;
        }
        const files::normalized_path path = files::normalize_path(*text);
        if (text->front() != '/' || path.error != files::path_error::none) {
            in.error(element, "auth_paths", "'" + *text + "' must be a path starting with '/'");
            ok = false;
            continue;
        }
        d.access->auth_paths.push_back(path.relative);
    }
    d.auth_paths_pos = value_reader::pos(v);
    return ok;
}

const std::vector<key_entry<access_draft>>& access_keys() {
    using k = keys<access_draft>;
    static const std::vector<key_entry<access_draft>> table{
        k::custom("allow_ips",
                  [](value_reader& in, const toml::node& v, access_draft& d) {
                      return read_address_list(in, v, "allow_ips", d.access->allow);
                  }),
        k::custom("deny_ips",
                  [](value_reader& in, const toml::node& v, access_draft& d) {
                      return read_address_list(in, v, "deny_ips", d.access->deny);
                  }),
        k::custom("require_auth",
                  [](value_reader& in, const toml::node& v, access_draft& d) {
                      auto b = in.boolean(v, "require_auth");
                      if (!b)
                          return false;
                      d.access->require_auth = *b;
                      d.require_pos = value_reader::pos(v);
                      return true;
                  }),
        k::custom("auth_type", read_auth_type),
        k::custom("auth_realm", read_realm),
        k::custom("auth_file",
                  [](value_reader& in, const toml::node& v, access_draft& d) {
                      auto p = in.path(v, "auth_file");
                      if (!p)
                          return false;
                      d.access->auth_file = *p;
                      d.access->auth_file_pos = value_reader::pos(v);
                      d.auth_file_pos = d.access->auth_file_pos;
                      return true;
                  }),
        k::custom("auth_paths", read_auth_paths),
    };
    return table;
}

} // namespace

bool read_address_list(value_reader& in, const toml::node& v, std::string_view key,
                       net::address_set& out) {
    const auto* array = v.as_array();
    if (array == nullptr) {
        in.type_error(v, key, "an array of addresses or CIDR blocks");
        return false;
    }
    bool ok = true;
    std::vector<net::address_block> blocks;
    for (const auto& element : *array) {
        auto text = in.nonempty_string(element, key);
        if (!text) {
            ok = false;
            continue;
        }
        auto block = net::address_block::parse(*text);
        if (!block) {
            in.error(element, key,
                     "'" + *text + "' is not an IP address or a CIDR block (10.0.0.0/8)");
            ok = false;
            continue;
        }
        if (net::has_host_bits(*block))
            in.out().warning(value_reader::pos(element),
                             std::string(key) + ": '" + *text +
                                 "' has bits set below its prefix; it means the whole block");
        blocks.push_back(*block);
    }
    out = net::address_set(blocks);
    return ok;
}

bool read_access(value_reader& in, const toml::node& v, site_access& access,
                 const std::string& what) {
    const auto* t = in.table(v, "[sites.access]");
    if (t == nullptr)
        return false;
    access_draft d;
    d.access = &access;
    read_table(in, *t, "[sites.access]", access_keys(), d);
    report& out = in.out();
    if (access.require_auth && !d.auth_file_pos)
        out.error(d.require_pos.value_or(value_reader::pos(*t)),
                  what + ": require_auth needs an auth_file (htpasswd: user:hash lines)");
    if (!access.require_auth && d.auth_file_pos)
        out.warning(*d.auth_file_pos,
                    what + ": auth_file has no effect without require_auth = true");
    if (!access.require_auth && d.auth_paths_pos)
        out.warning(*d.auth_paths_pos,
                    what + ": auth_paths has no effect without require_auth = true");
    return true;
}

} // namespace bws::config::detail
