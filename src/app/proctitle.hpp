// Process titles: rewrites the argv area so /proc/PID/cmdline (and ps, pgrep -f) show
// "bws: master process ..." and "bws: worker process", as the manual's pgrep commands expect.
#pragma once

#include <string>
#include <string_view>

namespace bws::app {

// Must be called once with main()'s argc/argv, after the command line has been parsed (the
// argument strings are overwritten by set_proctitle) and before anything keeps pointers into
// the environment: environ is copied to the heap so its original space can hold the title.
void proctitle_init(int argc, char** argv);

// The command line as it was before any rewrite, arguments joined by spaces.
const std::string& original_command_line();

// Writes `title` over the argv (and environ) area, truncated to the space available, and sets
// the thread name (PR_SET_NAME, 15 bytes) to its beginning. No-op before proctitle_init.
void set_proctitle(std::string_view title);

} // namespace bws::app
