// Fuzz target: Host/authority normalisation and absolute-form target splitting. An accepted host
// is lower-case, has no port, no empty label, no trailing dot, and normalises to itself.
#include "fuzz_check.hpp"

#include "http/host.hpp"

#include <cstdint>

namespace {

void check_host(const std::string& host) {
    BWS_FUZZ_CHECK(!host.empty());
    if (host.front() == '[') {
        BWS_FUZZ_CHECK(host.size() > 2 && host.back() == ']');
        for (char c : std::string_view(host).substr(1, host.size() - 2))
            BWS_FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' ||
                           c == '.');
    } else {
        BWS_FUZZ_CHECK(host.front() != '.' && host.back() != '.');
        BWS_FUZZ_CHECK(host.find("..") == std::string::npos);
        for (char c : host)
            BWS_FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '_' || c == '.');
    }
    auto again = bws::http::normalize_host(host);
    BWS_FUZZ_CHECK(again && *again == host);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    if (auto host = bws::http::normalize_host(in))
        check_host(*host);

    std::string_view authority, origin_form;
    if (bws::http::split_absolute_target(in, authority, origin_form)) {
        // Both are views into the target; the origin form is a path or a query.
        BWS_FUZZ_CHECK(authority.empty() || (authority.data() >= in.data() &&
                                             authority.data() + authority.size() <= in.end()));
        BWS_FUZZ_CHECK(!origin_form.empty() &&
                       (origin_form.front() == '/' || origin_form.front() == '?'));
        BWS_FUZZ_CHECK(authority.find_first_of("/?") == std::string_view::npos);
        if (auto host = bws::http::normalize_host(authority))
            check_host(*host);
    }
    return 0;
}
