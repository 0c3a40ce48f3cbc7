// Typed reads of TOML values for the loader: every type error, range error and value-syntax error
// of the configuration is worded here, with the value's FILE:LINE:COL. Internal to bws::config.
#pragma once

#include "config/validate.hpp"

#include <toml++/toml.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bws::config::detail {

// Lexically normal, without a trailing separator, so paths compare reliably.
std::filesystem::path normal_path(const std::filesystem::path& p);

// The name of a node's type in messages ("an integer", "a table").
const char* type_name(const toml::node& n);

// Control characters other than tab would split or corrupt a response header.
bool has_control(std::string_view s);

// The entries of a table in the order they were written (toml++ keeps keys sorted).
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& t);

// RFC 9110 token characters, the only ones allowed in a header field name.
bool is_tchar(char c);

// `s` with ASCII letters lower-cased.
std::string lower(std::string_view s);

class value_reader {
public:
    explicit value_reader(report& out) : out_(out) {}

    report& out() { return out_; }

    // Where a node or key was written: the file it was parsed from (an included file names
    // itself), line and column.
    static source_pos pos(const toml::source_region& r);
    static source_pos pos(const toml::node& n) { return pos(n.source()); }
    static source_pos pos(const toml::key& k) { return pos(k.source()); }

    void error(const toml::node& at, std::string_view key, const std::string& message) {
        out_.error(pos(at), std::string(key) + ": " + message);
    }
    void type_error(const toml::node& v, std::string_view key, std::string_view expected);

    std::optional<std::string> string(const toml::node& v, std::string_view key);
    std::optional<std::string> nonempty_string(const toml::node& v, std::string_view key);
    std::optional<bool> boolean(const toml::node& v, std::string_view key);
    std::optional<std::int64_t>
    integer(const toml::node& v, std::string_view key, std::int64_t min,
            std::int64_t max = std::numeric_limits<std::int64_t>::max());
    // Bytes as an integer, or text for parse_size ("100MB").
    std::optional<std::uint64_t> size(const toml::node& v, std::string_view key, std::uint64_t min);
    // Seconds as an integer, or text for parse_duration ("1m30s").
    std::optional<std::chrono::milliseconds> duration(const toml::node& v, std::string_view key,
                                                      bool allow_zero);
    // An HSTS max-age: seconds as an integer, or text for parse_hsts_max_age ("365d").
    std::optional<std::chrono::seconds> max_age(const toml::node& v, std::string_view key);
    std::optional<std::uint16_t> port(const toml::node& v, std::string_view key);
    std::optional<net::ip_address> address(const toml::node& v, std::string_view key);
    std::optional<std::string> hostname(const toml::node& v, std::string_view key);
    // Relative paths are taken from the directory of the file the value is written in, never
    // from the current directory, so a config means the same however bws is started.
    std::optional<std::filesystem::path> path(const toml::node& v, std::string_view key);
    // A path, or "off" (returned as an empty path).
    std::optional<std::filesystem::path> log_path(const toml::node& v, std::string_view key);
    const toml::table* table(const toml::node& v, std::string_view label);

    template <typename E>
    std::optional<E> choice(const toml::node& v, std::string_view key,
                            const std::vector<std::pair<std::string_view, E>>& choices) {
        auto s = string(v, key);
        if (!s)
            return std::nullopt;
        std::string list;
        for (const auto& [name, value] : choices) {
            if (*s == name)
                return value;
            list += (list.empty() ? "" : ", ") + std::string(name);
        }
        error(v, key, "'" + *s + "' is not one of " + list);
        return std::nullopt;
    }

private:
    report& out_;
};

} // namespace bws::config::detail
