// [sites.compression]: enabled, types, level, min_size, algorithms, precompressed.
#include "config/compression_keys.hpp"

#include "content/codec.hpp"

#include <algorithm>

namespace bws::config::detail {
namespace {

// "type/subtype" or "type/*", tokens only (RFC 9110 §8.3.1), no parameters.
bool valid_media_range(std::string_view t) {
    const auto slash = t.find('/');
    if (slash == 0 || slash == std::string_view::npos || slash + 1 == t.size())
        return false;
    const std::string_view type = t.substr(0, slash);
    const std::string_view sub = t.substr(slash + 1);
    const auto token = [](std::string_view s) { return std::all_of(s.begin(), s.end(), is_tchar); };
    return token(type) && type != "*" && (sub == "*" || token(sub));
}

bool read_types(value_reader& in, const toml::node& v, site_compression& c) {
    const auto* array = v.as_array();
    if (array == nullptr) {
        in.type_error(v, "compression.types", "an array of media types");
        return false;
    }
    std::vector<std::string> types;
    bool ok = true;
    for (const auto& element : *array) {
        auto text = in.string(element, "compression.types");
        if (!text) {
            ok = false;
            continue;
        }
        const std::string type = lower(*text);
        if (!valid_media_range(type)) {
            in.error(element, "compression.types",
                     "'" + *text + "' is not a media type (\"text/html\") or \"type/*\"");
            ok = false;
        } else if (std::find(types.begin(), types.end(), type) == types.end()) {
            types.push_back(type);
        }
    }
    if (ok && types.empty()) {
        in.error(v, "compression.types", "must not be empty (use enabled = false)");
        ok = false;
    }
    if (ok)
        c.types = std::move(types);
    return ok;
}

bool read_algorithms(value_reader& in, const toml::node& v, site_compression& c) {
    const auto* array = v.as_array();
    if (array == nullptr) {
        in.type_error(v, "compression.algorithms", "an array of \"br\", \"zstd\", \"gzip\"");
        return false;
    }
    std::vector<content::coding> order;
    bool ok = true;
    for (const auto& element : *array) {
        auto name = in.string(element, "compression.algorithms");
        if (!name) {
            ok = false;
            continue;
        }
        const auto coding = content::coding_from_token(*name);
        if (!coding || coding == content::coding::identity || *name != lower(*name) ||
            *name == "x-gzip") {
            in.error(element, "compression.algorithms",
                     "'" + *name + "' is not one of \"br\", \"zstd\", \"gzip\"");
            ok = false;
        } else if (std::find(order.begin(), order.end(), *coding) != order.end()) {
            in.error(element, "compression.algorithms", "'" + *name + "' is listed twice");
            ok = false;
        } else {
            order.push_back(*coding);
        }
    }
    if (ok && order.empty()) {
        in.error(v, "compression.algorithms", "must not be empty (use enabled = false)");
        ok = false;
    }
    if (ok)
        c.algorithms = std::move(order);
    return ok;
}

const std::vector<key_entry<site_compression>>& compression_keys() {
    using k = keys<site_compression>;
    static const std::vector<key_entry<site_compression>> table{
        k::flag("enabled", &site_compression::enabled),
        k::custom("types", read_types),
        k::count("level", &site_compression::level, content::min_level, content::max_level),
        k::size("min_size", &site_compression::min_size, 0),
        k::custom("algorithms", read_algorithms),
        k::flag("precompressed", &site_compression::precompressed),
    };
    return table;
}

} // namespace

bool read_compression(value_reader& in, const toml::node& v, site_compression& c) {
    const auto* t = in.table(v, "[sites.compression]");
    if (t == nullptr)
        return false;
    c.enabled = true; // the table's presence asks for compression; enabled = false overrides
    read_table(in, *t, "[sites.compression]", compression_keys(), c);
    return true;
}

} // namespace bws::config::detail
