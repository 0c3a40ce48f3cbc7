// [sites.cache]: enabled, etag_enabled, last_modified_enabled, expires, max_age_static,
// max_age_dynamic, cache_control and [[sites.cache.rules]] (cache_keys.hpp).
#include "config/cache_keys.hpp"

#include "files/path.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace bws::config::detail {
namespace {

using std::chrono::seconds;

constexpr seconds one_year{31536000};
constexpr seconds one_day{86400};
// RFC 9111 §1.2.2: a delta-seconds too large to represent is sent on as 2^31.
constexpr std::uint64_t delta_seconds_cap = 2147483648U;

bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

// The directives whose argument is a delta-seconds (RFC 9111 §5.2, RFC 5861).
bool takes_seconds(std::string_view name) {
    static constexpr std::array<std::string_view, 4> names{
        "max-age", "s-maxage", "stale-while-revalidate", "stale-if-error"};
    return std::find(names.begin(), names.end(), name) != names.end();
}

// The characters a pattern's literal part may not hold: glob syntax bws does not implement.
bool has_glob(std::string_view s) {
    return s.find_first_of("*?[]{}\\") != std::string_view::npos;
}

// "*.ext" tail of a pattern: the suffix (".ext", lower-case), or nullopt.
std::optional<std::string> suffix_of(std::string_view star) {
    if (star.size() < 3 || star.substr(0, 2) != "*." || has_glob(star.substr(1)) ||
        star.find('/') != std::string_view::npos)
        return std::nullopt;
    return lower(star.substr(1));
}

const char* const pattern_forms =
    "use \"*.ext\", a path \"/dir/\", \"/dir/*.ext\" or \"/\" for every file";

} // namespace

namespace {

// Reads the directive of `text` at `i` (after any OWS) up to its comma or the end, leaving `i`
// there; what is wrong with it (after the quoted value in a message), or "" when it is fine.
std::string read_directive(std::string_view text, std::size_t& i, cache_header& header) {
    while (i < text.size() && is_ows(text[i]))
        ++i;
    const std::size_t start = i;
    while (i < text.size() && is_tchar(text[i]))
        ++i;
    const std::string name = lower(text.substr(start, i - start));
    if (name.empty())
        return i == text.size() || text[i] == ','
                   ? std::string(" has an empty directive")
                   : " has '" + std::string(1, text[i]) + "' where a directive name should be";
    std::string_view argument;
    bool has_argument = false;
    bool quoted_argument = false;
    if (i < text.size() && text[i] == '=') {
        has_argument = true;
        ++i;
        const std::size_t arg_start = i;
        if (i < text.size() && text[i] == '"') {
            quoted_argument = true;
            ++i;
            while (i < text.size() && text[i] != '"')
                i += text[i] == '\\' ? 2 : 1;
            if (i >= text.size())
                return " has an unterminated quoted string";
            ++i;
        } else {
            while (i < text.size() && is_tchar(text[i]))
                ++i;
        }
        argument = text.substr(arg_start, i - arg_start);
        if (argument.empty())
            return ": " + name + "= has no value";
    }
    while (i < text.size() && is_ows(text[i]))
        ++i;
    if (i < text.size() && text[i] != ',')
        return " has '" + std::string(1, text[i]) + "' after the directive " + name +
               " (directives are separated by commas)";
    if (!takes_seconds(name))
        return {};
    const bool digits =
        has_argument && !quoted_argument &&
        std::all_of(argument.begin(), argument.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits)
        return ": " + name + " takes a number of seconds (\"" + name + "=3600\")" +
               (has_argument ? ", not " + std::string(argument) : "");
    if (name == "max-age") {
        if (header.max_age)
            return " gives max-age twice";
        std::uint64_t n = 0;
        for (const char c : argument)
            n = std::min(delta_seconds_cap, n * 10 + static_cast<unsigned>(c - '0'));
        header.max_age = seconds(static_cast<seconds::rep>(n));
    }
    return {};
}

} // namespace

std::optional<cache_header> parse_cache_control(std::string_view text, std::string& why) {
    if (has_control(text)) {
        why = "contains a line break or control character";
        return std::nullopt;
    }
    while (!text.empty() && is_ows(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_ows(text.back()))
        text.remove_suffix(1);
    if (text.empty()) {
        why = "must not be empty";
        return std::nullopt;
    }
    cache_header header;
    header.value = std::string(text);
    for (std::size_t i = 0;; ++i) { // ++i: past the comma
        const std::string problem = read_directive(text, i, header);
        if (!problem.empty()) {
            why = "'";
            why += text;
            why += "'";
            why += problem;
            return std::nullopt;
        }
        if (i == text.size())
            break;
    }
    return header;
}

std::optional<cache_pattern> parse_cache_pattern(std::string_view text, std::string& why) {
    const std::string quoted = "'" + std::string(text) + "'";
    if (has_control(text) || text.find(' ') != std::string_view::npos) {
        why = quoted + " contains a space or control character";
        return std::nullopt;
    }
    cache_pattern p;
    if (!text.empty() && text.front() == '*') {
        auto suffix = suffix_of(text);
        if (!suffix) {
            why = quoted + " is not a pattern (" + std::string(pattern_forms) + ")";
            return std::nullopt;
        }
        p.suffix = std::move(*suffix);
        return p;
    }
    if (text.empty() || text.front() != '/') {
        why = quoted + " is not a pattern (" + std::string(pattern_forms) + ")";
        return std::nullopt;
    }
    std::string_view path = text;
    const std::size_t star = text.find('*');
    if (star != std::string_view::npos) {
        const std::string_view tail = text.substr(star);
        std::optional<std::string> suffix;
        if (tail != "*")
            suffix = suffix_of(tail);
        if (text[star - 1] != '/' || (tail != "*" && !suffix)) {
            why = quoted + " is not a pattern: '*' stands for a whole file name (" +
                  std::string(pattern_forms) + ")";
            return std::nullopt;
        }
        p.suffix = suffix.value_or("");
        path = text.substr(0, star);
    }
    if (has_glob(path)) {
        why = quoted + " is not a pattern (" + std::string(pattern_forms) + ")";
        return std::nullopt;
    }
    // Written as the decoded, normal URL path it names: "/a/../b", "//a" or "%41" would never
    // equal the path of a file served.
    const files::normalized_path normal = files::normalize_path(path);
    std::string_view bare = path.substr(1);
    if (!bare.empty() && bare.back() == '/')
        bare.remove_suffix(1);
    if (normal.error != files::path_error::none || normal.relative != bare) {
        why = quoted + " is not a normal URL path (no \"//\", \".\", \"..\" or %-escapes)";
        return std::nullopt;
    }
    if (!bare.empty())
        p.prefix = "/" + std::string(bare);
    return p;
}

std::optional<cache_header> read_cache_header(value_reader& in, const toml::node& v,
                                              std::string_view key) {
    auto text = in.string(v, key);
    if (!text)
        return std::nullopt;
    std::string why;
    auto header = parse_cache_control(*text, why);
    if (!header)
        in.error(v, key, why);
    return header;
}

namespace {

// A max-age key of [sites.cache] ("1h", or seconds as an integer); warns above `limit`, as the
// original BWS did, since such values are usually a slip of units.
std::optional<seconds> read_age(value_reader& in, const toml::node& v, std::string_view key,
                                seconds limit, std::string_view limit_name) {
    auto age = in.max_age(v, key);
    if (age && *age > limit)
        in.out().warning(value_reader::pos(v),
                         std::string(key) + ": " + std::to_string(age->count()) +
                             " seconds is more than " + std::string(limit_name) +
                             "; is that what you meant?");
    return age;
}

struct rule_draft {
    cache_rule rule;
    bool match_given = false;
    std::optional<cache_header> cache_control;
    std::optional<seconds> max_age;
};

bool read_match(value_reader& in, const toml::node& v, rule_draft& d) {
    constexpr std::string_view key = "cache.rules.match";
    std::vector<const toml::node*> items;
    if (v.is_string()) {
        items.push_back(&v);
    } else if (const auto* array = v.as_array(); array != nullptr && !array->empty()) {
        for (const auto& element : *array)
            items.push_back(&element);
    } else {
        in.type_error(v, key, "a pattern (\"*.css\", \"/assets/\") or a non-empty array of them");
        return false;
    }
    bool ok = true;
    for (const toml::node* item : items) {
        auto text = in.string(*item, key);
        if (!text) {
            ok = false;
            continue;
        }
        std::string why;
        auto pattern = parse_cache_pattern(*text, why);
        if (!pattern) {
            in.error(*item, key, why);
            ok = false;
        } else {
            d.rule.patterns.push_back(std::move(*pattern));
        }
    }
    d.match_given = ok;
    return ok;
}

const std::vector<key_entry<rule_draft>>& rule_keys() {
    using k = keys<rule_draft>;
    static const std::vector<key_entry<rule_draft>> table{
        k::custom("match", read_match),
        k::custom("cache_control",
                  [](value_reader& in, const toml::node& v, rule_draft& d) {
                      d.cache_control = read_cache_header(in, v, "cache.rules.cache_control");
                      return d.cache_control.has_value();
                  }),
        k::custom("max_age",
                  [](value_reader& in, const toml::node& v, rule_draft& d) {
                      d.max_age = read_age(in, v, "cache.rules.max_age", one_year, "a year");
                      return d.max_age.has_value();
                  }),
    };
    return table;
}

void read_rule(value_reader& in, const toml::table& t, site_cache& c) {
    rule_draft d;
    d.rule.pos = value_reader::pos(t);
    key_positions where;
    read_table(in, t, "[[sites.cache.rules]]", rule_keys(), d, &where);
    report& out = in.out();
    bool ok = d.match_given;
    if (!t.contains("match")) {
        out.error(d.rule.pos, "[[sites.cache.rules]] entry is missing the required key 'match'");
        ok = false;
    }
    if (t.contains("cache_control") && t.contains("max_age")) {
        // Two answers to one question: which one the file gets would be a guess.
        out.error(position(where, "max_age", d.rule.pos),
                  "cache.rules: a rule gives cache_control or max_age, not both (max_age = N "
                  "is cache_control = \"public, max-age=N\")");
        ok = false;
    } else if (!t.contains("cache_control") && !t.contains("max_age")) {
        out.error(d.rule.pos, "[[sites.cache.rules]] entry needs cache_control or max_age");
        ok = false;
    }
    if (!ok || (!d.cache_control && !d.max_age))
        return;
    if (d.cache_control) {
        d.rule.header = std::move(*d.cache_control);
    } else {
        d.rule.header.value = "public, max-age=" + std::to_string(d.max_age->count());
        d.rule.header.max_age = *d.max_age;
    }
    c.rules.push_back(std::move(d.rule));
}

bool read_rules(value_reader& in, const toml::node& v, site_cache& c) {
    const auto* array = v.as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
        in.type_error(v, "cache.rules", "an array of tables ([[sites.cache.rules]])");
        return false;
    }
    for (const auto& element : *array)
        read_rule(in, *element.as_table(), c);
    return true;
}

const std::vector<key_entry<site_cache>>& cache_keys() {
    using k = keys<site_cache>;
    static const std::vector<key_entry<site_cache>> table{
        k::flag("enabled", &site_cache::enabled),
        k::flag("etag_enabled", &site_cache::etag),
        k::flag("last_modified_enabled", &site_cache::last_modified),
        k::flag("expires", &site_cache::expires),
        k::custom("max_age_static",
                  [](value_reader& in, const toml::node& v, site_cache& c) {
                      auto age = read_age(in, v, "cache.max_age_static", one_year, "a year");
                      if (age)
                          c.max_age_static = *age;
                      return age.has_value();
                  }),
        k::custom("max_age_dynamic",
                  [](value_reader& in, const toml::node& v, site_cache& c) {
                      auto age = read_age(in, v, "cache.max_age_dynamic", one_day, "a day");
                      if (age)
                          c.max_age_dynamic = *age;
                      return age.has_value();
                  }),
        k::custom("cache_control",
                  [](value_reader& in, const toml::node& v, site_cache& c) {
                      c.cache_control = read_cache_header(in, v, "cache.cache_control");
                      return c.cache_control.has_value();
                  }),
        k::custom("rules", read_rules),
    };
    return table;
}

} // namespace

bool read_cache(value_reader& in, const toml::node& v, site_cache& c) {
    const auto* t = in.table(v, "[sites.cache]");
    if (t == nullptr)
        return false;
    c.enabled = true; // the table's presence asks for Cache-Control; enabled = false overrides
    key_positions where;
    read_table(in, *t, "[sites.cache]", cache_keys(), c, &where);
    if (t->contains("cache_control")) {
        for (std::string_view key : {"max_age_static", "max_age_dynamic"})
            if (t->contains(key))
                in.out().error(position(where, key, value_reader::pos(*t)),
                               "cache." + std::string(key) +
                                   " would never be used: cache_control replaces the "
                                   "max_age_static/max_age_dynamic default; keep one of them");
    }
    return true;
}

} // namespace bws::config::detail
