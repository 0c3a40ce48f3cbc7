// Command line: parses flags and environment, then runs the chosen mode (serve, config check,
// signal a running master, serve one directory).
#pragma once

namespace bws::app {

// Exit codes: 0 success, 1 failure (bad config, failed reload, ...), 2 usage error.
int run(int argc, char** argv);

} // namespace bws::app
