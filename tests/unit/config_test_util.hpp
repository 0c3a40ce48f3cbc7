// Helpers of the config unit tests, now in tests/support/ (kept here under their old names).
#pragma once

#include "support/config_fixture.hpp"
#include "support/temp_dir.hpp"

#include "config/model.hpp"
#include "net/address.hpp"

#include <cstdint>

namespace bws::config::test {

using bws::test::all;
using bws::test::find_one;
using bws::test::temp_dir;

// A listener address from a literal the test knows is valid.
inline listen_address listener(const char* ip, std::uint16_t port) {
    return {net::ip_address::parse(ip).value(), port};
}

} // namespace bws::config::test
