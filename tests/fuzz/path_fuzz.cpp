// Fuzz target: request path decoding and normalisation. An accepted path stays beneath the root:
// no "." or ".." segment, no empty segment, no NUL or '\', no leading or trailing '/'.
#include "fuzz_check.hpp"

#include "files/path.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using bws::files::path_error;
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto p = bws::files::normalize_path(in);
    if (p.error != path_error::none) {
        BWS_FUZZ_CHECK(p.relative.empty());
        return 0;
    }
    BWS_FUZZ_CHECK(!in.empty() && in.front() == '/');
    const std::string_view rel = p.relative;
    BWS_FUZZ_CHECK(rel.find('\0') == std::string_view::npos);
    BWS_FUZZ_CHECK(rel.find('\\') == std::string_view::npos);
    if (rel.empty()) {
        BWS_FUZZ_CHECK(p.trailing_slash);
        return 0;
    }
    BWS_FUZZ_CHECK(rel.front() != '/' && rel.back() != '/');
    std::size_t pos = 0;
    while (pos <= rel.size()) {
        auto end = rel.find('/', pos);
        if (end == std::string_view::npos)
            end = rel.size();
        const auto segment = rel.substr(pos, end - pos);
        BWS_FUZZ_CHECK(!segment.empty() && segment != "." && segment != "..");
        pos = end + 1;
    }
    (void)bws::files::is_hidden_path(rel);
    // Without escapes left to decode, normalising the result again changes nothing.
    if (rel.find('%') == std::string_view::npos) {
        const auto again = bws::files::normalize_path("/" + p.relative);
        BWS_FUZZ_CHECK(again.error == path_error::none && again.relative == p.relative);
    }
    return 0;
}
