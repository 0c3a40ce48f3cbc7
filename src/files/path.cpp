// Percent-decoding and lexical normalisation of request paths (see path.hpp).
#include "files/path.hpp"

#include <vector>

namespace bws::files {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Decodes one raw segment (no '/' inside) into `out`; rejects what must never reach a filename.
path_error decode_segment(std::string_view raw, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '%') {
            if (i + 2 >= raw.size()) // fewer than two characters follow
                return path_error::bad_escape;
            int hi = hex_value(raw[i + 1]);
            int lo = hex_value(raw[i + 2]);
            if (hi < 0 || lo < 0)
                return path_error::bad_escape;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
            if (c == '/')
                return path_error::encoded_slash;
        }
        if (c == '\0')
            return path_error::nul;
        if (c == '\\')
            return path_error::backslash;
        out.push_back(c);
    }
    return path_error::none;
}

} // namespace

normalized_path normalize_path(std::string_view raw) {
    normalized_path result;
    if (raw.empty() || raw.front() != '/') {
        result.error = path_error::not_absolute;
        return result;
    }
    // Start offsets of the kept segments in result.relative, so ".." can pop in O(1).
    std::vector<std::size_t> starts;
    std::string segment;
    std::size_t pos = 1;
    bool last_was_directory_form = true; // "/" itself is the root directory
    while (pos <= raw.size()) {
        std::size_t end = raw.find('/', pos);
        if (end == std::string_view::npos)
            end = raw.size();
        path_error err = decode_segment(raw.substr(pos, end - pos), segment);
        if (err != path_error::none) {
            result.error = err;
            result.relative.clear();
            return result;
        }
        pos = end + 1;
        if (segment.empty() || segment == ".") {
            last_was_directory_form = true;
            continue;
        }
        if (segment == "..") {
            if (starts.empty()) {
                result.error = path_error::above_root;
                result.relative.clear();
                return result;
            }
            std::size_t start = starts.back();
            starts.pop_back();
            // Drop the segment and the '/' that joined it to its predecessor.
            result.relative.resize(start == 0 ? 0 : start - 1);
            last_was_directory_form = true;
            continue;
        }
        if (!result.relative.empty())
            result.relative.push_back('/');
        starts.push_back(result.relative.size());
        result.relative += segment;
        last_was_directory_form = false;
    }
    result.trailing_slash = last_was_directory_form;
    return result;
}

bool is_hidden_path(std::string_view relative) {
    bool first = true;
    std::size_t pos = 0;
    while (pos <= relative.size()) {
        std::size_t end = relative.find('/', pos);
        if (end == std::string_view::npos)
            end = relative.size();
        std::string_view segment = relative.substr(pos, end - pos);
        if (!segment.empty() && segment.front() == '.' && !(first && segment == ".well-known"))
            return true;
        first = false;
        pos = end + 1;
    }
    return false;
}

} // namespace bws::files
