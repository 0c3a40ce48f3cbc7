// Include patterns expanded with glob(3), in byte order so the order of sites never depends on
// the locale; config file reading shared by the main file and included files.
#include "config/include.hpp"

#include <glob.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace bws::config::detail {

namespace fs = std::filesystem;

bool is_glob(const std::string& pattern) {
    return pattern.find_first_of("*?[") != std::string::npos;
}

bool expand_include(const std::string& pattern, const fs::path& base_dir,
                    std::vector<fs::path>& files, std::string& error) {
    const fs::path p(pattern);
    const fs::path full = (p.is_absolute() ? p : base_dir / p).lexically_normal();
    if (!is_glob(pattern)) {
        std::error_code ec;
        if (!fs::exists(full, ec)) {
            error = "'" + full.string() + "' does not exist";
            return false;
        }
        files.push_back(full);
        return true;
    }
    glob_t found{};
    const int rc = ::glob(full.c_str(), GLOB_NOSORT, nullptr, &found);
    if (rc == 0) {
        std::vector<fs::path> matches(found.gl_pathv, found.gl_pathv + found.gl_pathc);
        std::sort(matches.begin(), matches.end(),
                  [](const fs::path& a, const fs::path& b) { return a.native() < b.native(); });
        files.insert(files.end(), matches.begin(), matches.end());
    }
    ::globfree(&found);
    if (rc == 0 || rc == GLOB_NOMATCH)
        return true;
    error = rc == GLOB_NOSPACE ? "out of memory expanding '" + full.string() + "'"
                               : "cannot read the directories of '" + full.string() + "'";
    return false;
}

bool read_config_text(const fs::path& file, std::string& text, std::string& error) {
    std::error_code ec;
    if (fs::is_directory(file, ec)) {
        error = "is a directory, not a config file";
        return false;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        error = std::string("cannot open: ") + std::strerror(errno);
        return false;
    }
    std::ostringstream out;
    out << in.rdbuf();
    if (in.bad()) {
        error = "cannot read the file";
        return false;
    }
    text = out.str();
    return true;
}

} // namespace bws::config::detail
