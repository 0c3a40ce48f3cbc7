// For --config-check: whether every log file the configuration names can be written, without
// creating or changing any of them.
#pragma once

#include "config/model.hpp"
#include "log/environment.hpp"

#include <string>
#include <vector>

namespace bws::log {

// One message per unusable path ("cannot write access log /x/a.log: No such file or
// directory"); empty when all are fine. Checks the server log (when output = "file"), error_log
// and every access log.
std::vector<std::string> check_log_paths(const config::snapshot& config, const environment& env);

} // namespace bws::log
