// The forwarded-header keys of [sites.proxy] (proxy_header_keys.hpp).
#include "config/proxy_header_keys.hpp"

#include "config/security_keys.hpp"

#include <algorithm>

namespace bws::config::detail {
namespace {

// Headers the proxy writes itself or that frame the message: configuring them would break
// the framing or the forwarding rules, so `add` refuses them.
constexpr std::string_view proxy_set_headers[] = {
    "content-length", "transfer-encoding", "connection", "upgrade",         "te",
    "trailer",        "keep-alive",        "host",       "proxy-connection"};

bool read_add_headers(value_reader& in, const toml::node& v, site_proxy& p) {
    const auto* t = in.table(v, "[sites.proxy.headers.add]");
    if (t == nullptr)
        return false;
    // Headers go out in the order the operator wrote them.
    for (const auto& [k, value] : in_file_order(*t))
        if (auto entry = read_header_entry(in, *k, *value, "add", proxy_set_headers, "the proxy"))
            p.headers.add.push_back(std::move(*entry));
    return true;
}

bool read_remove_headers(value_reader& in, const toml::node& v, site_proxy& p) {
    const auto* array = v.as_array();
    if (array == nullptr) {
        in.type_error(v, "remove", "an array of header names");
        return false;
    }
    bool ok = true;
    for (const auto& element : *array) {
        auto name = in.nonempty_string(element, "remove");
        if (!name) {
            ok = false;
            continue;
        }
        if (!valid_header_name(*name)) {
            in.error(element, "remove", "'" + *name + "' is not a valid header name");
            ok = false;
            continue;
        }
        if (lower(*name) == "host") {
            in.error(element, "remove", "'Host' cannot be removed (a request needs one)");
            ok = false;
            continue;
        }
        p.headers.remove.push_back(lower(*name));
    }
    return ok;
}

} // namespace

bool valid_header_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), is_tchar);
}

const std::vector<key_entry<site_proxy>>& proxy_header_keys() {
    using k = keys<site_proxy>;
    static const std::vector<key_entry<site_proxy>> table{
        k::flag(
            "preserve_host", [](site_proxy & p) -> auto& { return p.headers.preserve_host; }),
        k::flag(
            "add_x_forwarded", [](site_proxy & p) -> auto& { return p.headers.add_x_forwarded; }),
        k::flag(
            "add_forwarded", [](site_proxy & p) -> auto& { return p.headers.add_forwarded; }),
        k::custom("add", read_add_headers),
        k::custom("remove", read_remove_headers),
    };
    return table;
}

} // namespace bws::config::detail
