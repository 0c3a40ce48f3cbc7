// Configuration fixtures for the tests: a snapshot from TOML text, and diagnostic lookup.
#pragma once

#include "config/load.hpp"

#include <string>
#include <vector>

namespace bws::test {

// The snapshot of `toml_text` loaded as "test.toml" without the filesystem checks (static_dir
// need not exist); throws std::runtime_error listing every error when it does not load.
config::snapshot_ptr snapshot_from_toml(const std::string& toml_text);

// Every diagnostic as "FILE:LINE:COL: message", one a line (for failure messages).
std::string all(const std::vector<config::diagnostic>& list);

// The only diagnostic whose message contains `text`; fails the test (non-fatally) if there is
// not exactly one, returning an empty diagnostic then.
config::diagnostic find_one(const std::vector<config::diagnostic>& list, const std::string& text);

} // namespace bws::test
