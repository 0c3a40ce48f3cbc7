// Command-line parsing and mode dispatch.
#include "app/cli.hpp"

#include <cstdio>
#include <cstring>

namespace bws::app {

int run(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--version") == 0 || std::strcmp(argv[i], "-V") == 0) {
            std::printf("bws %s\n", BWS_VERSION);
            return 0;
        }
    }
    std::fprintf(stderr, "bws: the command line is being written; only --version works\n");
    return 2;
}

} // namespace bws::app
