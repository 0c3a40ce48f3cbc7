// The classic argv/environ overwrite (as nginx and PostgreSQL do it) plus PR_SET_NAME.
#include "app/proctitle.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <vector>

extern char** environ;

namespace bws::app {

namespace {

// Never destroyed: the strings must stay valid (and reachable) until the process ends.
std::vector<char*>& moved_environment() {
    static auto* strings = new std::vector<char*>();
    return *strings;
}

char* area_begin = nullptr;
char* area_end = nullptr; // one past the last usable byte
std::string original;

} // namespace

void proctitle_init(int argc, char** argv) {
    if (area_begin != nullptr || argc <= 0 || argv == nullptr || argv[0] == nullptr) {
        return;
    }
    for (int i = 0; i < argc; ++i) {
        if (i > 0) {
            original += ' ';
        }
        original += argv[i];
    }
    // The usable area is every contiguous string from argv[0] on: the arguments, then the
    // environment strings that the kernel placed right after them.
    char* end = argv[0] + std::strlen(argv[0]) + 1;
    for (int i = 1; i < argc; ++i) {
        if (argv[i] != end) {
            break;
        }
        end = argv[i] + std::strlen(argv[i]) + 1;
    }
    std::size_t env_count = 0;
    while (environ != nullptr && environ[env_count] != nullptr) {
        ++env_count;
    }
    bool env_moved = false;
    if (env_count > 0) {
        // Move the environment to the heap first: after the rewrite its old bytes are ours.
        auto** copy = static_cast<char**>(std::calloc(env_count + 1, sizeof(char*)));
        if (copy != nullptr) {
            for (std::size_t i = 0; i < env_count; ++i) {
                if (environ[i] == end) {
                    end = environ[i] + std::strlen(environ[i]) + 1;
                }
                copy[i] = strdup(environ[i]);
                // Kept reachable for the life of the process, also once unsetenv() drops an
                // entry from environ (e.g. LISTEN_FDS), as the kernel's copy would have been.
                moved_environment().push_back(copy[i]);
            }
            environ = copy;
            env_moved = true;
        }
    }
    if (!env_moved) {
        // Only the argument strings are ours to overwrite.
        end = argv[argc - 1] + std::strlen(argv[argc - 1]) + 1;
    }
    area_begin = argv[0];
    area_end = end;
}

const std::string& original_command_line() {
    return original;
}

void set_proctitle(std::string_view title) {
    std::string name(title.substr(0, 15));
    prctl(PR_SET_NAME, name.c_str(), 0, 0, 0);
    if (area_begin == nullptr) {
        return;
    }
    std::size_t space = static_cast<std::size_t>(area_end - area_begin);
    std::size_t n = std::min(title.size(), space - 1);
    std::memcpy(area_begin, title.data(), n);
    // Zero the rest so no old argument or variable leaks into ps output.
    std::memset(area_begin + n, 0, space - n);
}

} // namespace bws::app
