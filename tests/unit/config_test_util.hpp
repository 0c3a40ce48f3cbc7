// Helpers of the config unit tests, now in tests/support/ (kept here under their old names).
#pragma once

#include "support/config_fixture.hpp"
#include "support/temp_dir.hpp"

namespace bws::config::test {

using bws::test::all;
using bws::test::find_one;
using bws::test::temp_dir;

} // namespace bws::config::test
