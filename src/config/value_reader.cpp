// The typed value reads of the loader and the wording of their errors.
#include "config/value_reader.hpp"

#include "config/duration.hpp"
#include "config/hostname.hpp"
#include "config/port.hpp"
#include "config/size.hpp"

#include <algorithm>
#include <cctype>
#include <system_error>

namespace bws::config::detail {

namespace fs = std::filesystem;

fs::path normal_path(const fs::path& p) {
    fs::path out = p.lexically_normal();
    if (!out.has_filename() && out.has_parent_path() && out != out.root_path())
        out = out.parent_path();
    return out;
}

const char* type_name(const toml::node& n) {
    switch (n.type()) {
    case toml::node_type::string:
        return "a string";
    case toml::node_type::integer:
        return "an integer";
    case toml::node_type::floating_point:
        return "a float";
    case toml::node_type::boolean:
        return "a boolean";
    case toml::node_type::table:
        return "a table";
    case toml::node_type::array:
        return "an array";
    case toml::node_type::date:
        return "a date";
    case toml::node_type::time:
        return "a time";
    case toml::node_type::date_time:
        return "a date-time";
    default:
        return "nothing";
    }
}

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && u != '\t') || u == 0x7f;
    });
}

std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& t) {
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (auto&& [k, value] : t)
        entries.emplace_back(&k, &value);
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return a.first->source().begin < b.first->source().begin;
    });
    return entries;
}

bool is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

source_pos value_reader::pos(const toml::source_region& r) {
    return {r.path ? *r.path : std::string(), static_cast<int>(r.begin.line),
            static_cast<int>(r.begin.column)};
}

void value_reader::type_error(const toml::node& v, std::string_view key,
                              std::string_view expected) {
    error(v, key, "expected " + std::string(expected) + ", got " + type_name(v));
}

std::optional<std::string> value_reader::string(const toml::node& v, std::string_view key) {
    if (const auto* s = v.as_string())
        return s->get();
    type_error(v, key, "a string");
    return std::nullopt;
}

std::optional<std::string> value_reader::nonempty_string(const toml::node& v,
                                                         std::string_view key) {
    auto s = string(v, key);
    if (s && s->empty()) {
        error(v, key, "must not be empty");
        return std::nullopt;
    }
    return s;
}

std::optional<bool> value_reader::boolean(const toml::node& v, std::string_view key) {
    if (const auto* b = v.as_boolean())
        return b->get();
    type_error(v, key, "a boolean");
    return std::nullopt;
}

std::optional<std::int64_t> value_reader::integer(const toml::node& v, std::string_view key,
                                                  std::int64_t min, std::int64_t max) {
    const auto* i = v.as_integer();
    if (i == nullptr) {
        type_error(v, key, "an integer");
        return std::nullopt;
    }
    const std::int64_t n = i->get();
    if (n < min || n > max) {
        const std::string range =
            max == std::numeric_limits<std::int64_t>::max()
                ? "at least " + std::to_string(min)
                : "between " + std::to_string(min) + " and " + std::to_string(max);
        error(v, key, std::to_string(n) + " is out of range (must be " + range + ")");
        return std::nullopt;
    }
    return n;
}

namespace {

// Runs a text parser (parse_size, parse_duration) and reports its error at `v`.
template <class Parse>
auto parsed(value_reader& in, const toml::node& v, std::string_view key, std::string_view text,
            Parse parse) -> decltype(parse(text, std::declval<std::string&>())) {
    std::string why;
    auto value = parse(text, why);
    if (!value)
        in.error(v, key, why);
    return value;
}

} // namespace

std::optional<std::uint64_t> value_reader::size(const toml::node& v, std::string_view key,
                                                std::uint64_t min) {
    std::optional<std::uint64_t> bytes;
    if (const auto* i = v.as_integer()) {
        if (i->get() < 0) {
            error(v, key, "a size cannot be negative");
            return std::nullopt;
        }
        bytes = static_cast<std::uint64_t>(i->get());
    } else if (const auto* s = v.as_string()) {
        bytes = parsed(*this, v, key, s->get(), parse_size);
        if (!bytes)
            return std::nullopt;
    } else {
        type_error(v, key, "a size (bytes as an integer, or a string like \"100MB\")");
        return std::nullopt;
    }
    if (*bytes < min) {
        error(v, key, "must be at least " + std::to_string(min) + " bytes");
        return std::nullopt;
    }
    return bytes;
}

std::optional<std::chrono::milliseconds>
value_reader::duration(const toml::node& v, std::string_view key, bool allow_zero) {
    std::optional<std::chrono::milliseconds> d;
    if (const auto* i = v.as_integer()) {
        if (i->get() < 0) {
            error(v, key, "a duration cannot be negative");
            return std::nullopt;
        }
        // The same upper bound as parse_duration, via its text form.
        d = parsed(*this, v, key, std::to_string(i->get()) + "s", parse_duration);
    } else if (const auto* s = v.as_string()) {
        d = parsed(*this, v, key, s->get(), parse_duration);
    } else {
        type_error(v, key, "a duration (seconds as an integer, or a string like \"30s\")");
        return std::nullopt;
    }
    if (d && !allow_zero && d->count() == 0) {
        error(v, key, "must be longer than 0");
        return std::nullopt;
    }
    return d;
}

std::optional<std::chrono::seconds> value_reader::max_age(const toml::node& v,
                                                          std::string_view key) {
    if (const auto* i = v.as_integer()) {
        if (i->get() < 0) {
            error(v, key, "a duration cannot be negative");
            return std::nullopt;
        }
        return parsed(*this, v, key, std::to_string(i->get()) + "s", parse_hsts_max_age);
    }
    if (const auto* s = v.as_string())
        return parsed(*this, v, key, s->get(), parse_hsts_max_age);
    type_error(v, key, "a duration (seconds as an integer, or a string like \"365d\")");
    return std::nullopt;
}

std::optional<std::uint16_t> value_reader::port(const toml::node& v, std::string_view key) {
    const auto* i = v.as_integer();
    if (i == nullptr) {
        type_error(v, key, "an integer");
        return std::nullopt;
    }
    std::string why;
    auto port = port_from_integer(i->get(), why);
    if (!port)
        error(v, key, why);
    return port;
}

std::optional<net::ip_address> value_reader::address(const toml::node& v, std::string_view key) {
    auto text = string(v, key);
    if (!text)
        return std::nullopt;
    return parsed(*this, v, key, *text, parse_bind_address);
}

std::optional<std::string> value_reader::hostname(const toml::node& v, std::string_view key) {
    auto text = string(v, key);
    if (!text)
        return std::nullopt;
    return parsed(*this, v, key, *text, normalise_hostname);
}

std::optional<fs::path> value_reader::path(const toml::node& v, std::string_view key) {
    auto s = nonempty_string(v, key);
    if (!s)
        return std::nullopt;
    if (s->find('\0') != std::string::npos) {
        error(v, key, "path contains a NUL character");
        return std::nullopt;
    }
    const fs::path p(*s);
    if (p.is_absolute())
        return normal_path(p);
    const fs::path file(pos(v).file);
    std::error_code ec;
    const fs::path absolute = fs::absolute(file, ec);
    return normal_path((ec ? file : absolute).parent_path() / p);
}

std::optional<fs::path> value_reader::log_path(const toml::node& v, std::string_view key) {
    if (const auto* s = v.as_string(); s != nullptr && s->get() == "off")
        return fs::path();
    return path(v, key);
}

const toml::table* value_reader::table(const toml::node& v, std::string_view label) {
    if (const auto* t = v.as_table())
        return t;
    type_error(v, label, "a table");
    return nullptr;
}

} // namespace bws::config::detail
