// What a reload cannot apply: the keys whose change only takes effect after a restart.
#pragma once

#include "config/model.hpp"

#include <string>
#include <vector>

namespace bws::config {

// The keys that differ between the running and the newly loaded configuration and that a
// reload leaves as they were, named as the file spells them ("[daemon] pid_file"), in a fixed
// order; empty when the reload applies everything. Everything else is applied live: the new
// generation of workers is forked with the new snapshot, user and working directory included.
std::vector<std::string> restart_required_changes(const snapshot& running, const snapshot& loaded);

} // namespace bws::config
