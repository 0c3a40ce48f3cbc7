// The key tables of the loader: each configuration key is described once — its name, its type
// and checks (through value_reader), where it is stored in the model — and read_table() walks a
// TOML table through them, so unknown, unsupported and missing keys are reported in one place.
// Defaults are the initialisers in model.hpp. Internal to bws::config.
#pragma once

#include "config/value_reader.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace bws::config::detail {

template <class T>
struct key_entry {
    std::string_view name;
    // Converts and checks the value, stores it in the target; false when it reported an error.
    std::function<bool(value_reader&, const toml::node&, T&)> read;
    std::string refusal; // not empty: a known key of a feature bws does not have; the error
    bool required = false;

    static key_entry make(std::string_view name,
                          std::function<bool(value_reader&, const toml::node&, T&)> read) {
        key_entry e;
        e.name = name;
        e.read = std::move(read);
        return e;
    }
    key_entry mandatory() && {
        required = true;
        return std::move(*this);
    }
};

// Reads every key of `t` through `keys` into `target`: unknown keys and refused keys are errors
// at the key, values are read by their entry, and the position of every value read is kept in
// `where` (when given). Returns the required keys that are absent.
template <class T>
std::vector<std::string_view>
read_table(value_reader& in, const toml::table& t, std::string_view label,
           const std::vector<key_entry<T>>& keys, T& target, key_positions* where = nullptr) {
    for (auto&& item : t) {
        // Named references, not a structured binding: clang 14 cannot capture those in lambdas.
        const toml::key& k = item.first;
        const toml::node& v = item.second;
        const auto entry = std::find_if(keys.begin(), keys.end(),
                                        [&](const key_entry<T>& e) { return e.name == k.str(); });
        if (entry == keys.end()) {
            const bool is_table = v.is_table() || v.is_array_of_tables();
            in.out().error(value_reader::pos(k),
                           std::string(is_table ? "unknown table '" : "unknown key '") +
                               std::string(k.str()) + "' in " + std::string(label));
        } else if (!entry->refusal.empty()) {
            in.out().error(value_reader::pos(k), entry->refusal);
        } else if (entry->read(in, v, target) && where != nullptr) {
            where->insert_or_assign(std::string(k.str()), value_reader::pos(v));
        }
    }
    std::vector<std::string_view> missing;
    for (const auto& e : keys)
        if (e.required && !t.contains(e.name))
            missing.push_back(e.name);
    return missing;
}

// Entry makers for the key tables of target type T. `field` is a member pointer (of T or of a
// base of T) or a callable returning a reference into T.
template <class T>
struct keys {
    using entry = key_entry<T>;

    template <class Field>
    using value_type = std::remove_cvref_t<std::invoke_result_t<Field, T&>>;

    // Reads with `get(in, value, key)` (an optional) and stores the result in `field`.
    template <class Field, class Get>
    static entry value(std::string_view name, Field field, Get get) {
        return entry::make(name, [=](value_reader& in, const toml::node& v, T& target) {
            auto x = get(in, v, name);
            if (!x)
                return false;
            std::invoke(field, target) = static_cast<value_type<Field>>(*x);
            return true;
        });
    }
    template <class Field>
    static entry text(std::string_view name, Field field) {
        return value(name, field, [](value_reader& in, const toml::node& v, std::string_view k) {
            return in.string(v, k);
        });
    }
    template <class Field>
    static entry nonempty_text(std::string_view name, Field field) {
        return value(name, field, [](value_reader& in, const toml::node& v, std::string_view k) {
            return in.nonempty_string(v, k);
        });
    }
    template <class Field>
    static entry flag(std::string_view name, Field field) {
        return value(name, field, [](value_reader& in, const toml::node& v, std::string_view k) {
            return in.boolean(v, k);
        });
    }
    template <class Field>
    static entry count(std::string_view name, Field field, std::int64_t min,
                       std::int64_t max = std::numeric_limits<std::int64_t>::max()) {
        return value(name, field, [=](value_reader& in, const toml::node& v, std::string_view k) {
            return in.integer(v, k, min, max);
        });
    }
    template <class Field>
    static entry size(std::string_view name, Field field, std::uint64_t min) {
        return value(name, field, [=](value_reader& in, const toml::node& v, std::string_view k) {
            return in.size(v, k, min);
        });
    }
    template <class Field>
    static entry duration(std::string_view name, Field field, bool allow_zero) {
        return value(name, field, [=](value_reader& in, const toml::node& v, std::string_view k) {
            return in.duration(v, k, allow_zero);
        });
    }
    template <class Field>
    static entry max_age(std::string_view name, Field field) {
        return value(name, field, [](value_reader& in, const toml::node& v, std::string_view k) {
            return in.max_age(v, k);
        });
    }
    template <class Field>
    static entry port(std::string_view name, Field field) {
        return value(name, field, [](value_reader& in, const toml::node& v, std::string_view k) {
            return in.port(v, k);
        });
    }
    template <class Field>
    static entry address(std::string_view name, Field field) {
        return value(name, field, [](value_reader& in, const toml::node& v, std::string_view k) {
            return in.address(v, k);
        });
    }
    template <class Field>
    static entry path(std::string_view name, Field field) {
        return value(name, field, [](value_reader& in, const toml::node& v, std::string_view k) {
            return in.path(v, k);
        });
    }
    template <class Field>
    static entry log_path(std::string_view name, Field field) {
        return value(name, field, [](value_reader& in, const toml::node& v, std::string_view k) {
            return in.log_path(v, k);
        });
    }
    template <class Field, class E = value_type<Field>>
    static entry choice(std::string_view name, Field field,
                        std::vector<std::pair<std::string_view, E>> choices) {
        return value(name, field,
                     [choices = std::move(choices)](value_reader& in, const toml::node& v,
                                                    std::string_view k) {
                         return in.choice(v, k, choices);
                     });
    }
    // A sub-table ("[server.limits]") read through its own key table; `where` gives the map
    // that keeps the positions of its values, if any.
    template <class Field, class Sub = value_type<Field>>
    static entry table(std::string_view name, std::string_view label, Field field,
                       const std::vector<key_entry<Sub>>& sub,
                       key_positions* (*where)(T&) = nullptr) {
        return entry::make(name, [=, &sub](value_reader& in, const toml::node& v, T& target) {
            const auto* t = in.table(v, label);
            if (t != nullptr)
                read_table(in, *t, label, sub, std::invoke(field, target),
                           where != nullptr ? where(target) : nullptr);
            return false; // the table's own position is not needed
        });
    }
    // A key with its own reading code.
    static entry custom(std::string_view name,
                        std::function<bool(value_reader&, const toml::node&, T&)> read) {
        return entry::make(name, std::move(read));
    }
    // A key of the original BWS that bws refuses with `message`.
    static entry refused(std::string_view name, const std::string& message) {
        entry e = entry::make(name, {});
        e.refusal = message;
        return e;
    }
    // "WHAT is not supported yet (DETAIL)": a feature that later versions will add.
    static entry not_yet(std::string_view name, std::string_view what, std::string_view detail) {
        return refused(name,
                       std::string(what) + " is not supported yet (" + std::string(detail) + ")");
    }
};

} // namespace bws::config::detail
