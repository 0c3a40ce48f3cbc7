// [security.rate_limiting] and [sites.rate_limit] (rate_limit_keys.hpp).
#include "config/rate_limit_keys.hpp"

#include "config/access_keys.hpp"
#include "net/rate_limit.hpp"

#include <algorithm>

namespace bws::config::detail {
namespace {

// Bounds that keep the shared table's arithmetic exact (net/rate_limit.hpp): at most one
// request per 60 us, and a burst that fits in 48 bits of ticks even at 1 request a minute.
constexpr std::int64_t max_requests_per_minute = 1'000'000;
constexpr std::int64_t max_burst_size = 100'000;

const std::vector<key_entry<rate_limit>>& rate_limit_keys() {
    using k = keys<rate_limit>;
    static const std::vector<key_entry<rate_limit>> table{
        k::flag("enabled", &rate_limit::enabled),
        k::count("requests_per_minute", &rate_limit::requests_per_minute, 1,
                 max_requests_per_minute),
        k::count("burst_size", &rate_limit::burst_size, 1, max_burst_size),
        k::custom("whitelist",
                  [](value_reader& in, const toml::node& v, rate_limit& limit) {
                      limit.whitelist_given = true;
                      return read_address_list(in, v, "whitelist", limit.whitelist);
                  }),
    };
    return table;
}

} // namespace

bool read_rate_limit(value_reader& in, const toml::node& v, rate_limit& limit,
                     std::string_view label) {
    const auto* t = in.table(v, label);
    if (t == nullptr)
        return false;
    read_table(in, *t, label, rate_limit_keys(), limit);
    if (!limit.enabled)
        return true;
    for (std::string_view key : {"requests_per_minute", "burst_size"})
        if (!t->contains(key))
            in.out().error(value_reader::pos(*t), std::string(label) +
                                                      " is missing the required key '" +
                                                      std::string(key) + "'");
    return true;
}

} // namespace bws::config::detail
