// CORS decisions (cors.hpp).
#include "http/cors.hpp"

#include "http/header_text.hpp"

#include <algorithm>

namespace bws::http {

namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty())
            out += ", ";
        out += item;
    }
    return out;
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

// Every name of a comma-separated Access-Control-Request-Headers is in the allowed list
// (case-insensitively); an empty request asks for nothing.
bool headers_allowed(const std::vector<std::string>& allowed, std::string_view requested) {
    bool all = true;
    for_each_list_item(requested, [&](std::string_view name) {
        all = all && std::any_of(allowed.begin(), allowed.end(),
                                 [&](const std::string& a) { return iequals(a, name); });
    });
    return all;
}

} // namespace

bool cors_origin_allowed(const config::cors_policy& policy, std::string_view origin) {
    if (origin.empty() || origin == "null")
        return false;
    if (policy.any_origin)
        return true;
    for (const auto& exact : policy.origins)
        if (iequals(origin, exact))
            return true;
    const auto sep = origin.find("://");
    if (sep == std::string_view::npos)
        return false;
    const std::string_view scheme = origin.substr(0, sep);
    const std::string_view host = origin.substr(sep + 3);
    for (const auto& allowed : policy.origin_suffixes) {
        const std::string& suffix = allowed.suffix; // ".example.com[:port]"
        // At least one label before the suffix: "*.example.com" is not "example.com".
        if (host.size() > suffix.size() && iequals(scheme, allowed.scheme) &&
            iequals(host.substr(host.size() - suffix.size()), suffix) &&
            host.substr(0, host.size() - suffix.size()).find_first_of("/:@") ==
                std::string_view::npos)
            return true;
    }
    return false;
}

cors_plan make_cors_plan(const config::cors_policy& policy) {
    cors_plan plan;
    plan.policy = &policy;
    plan.star_headers = contains(policy.allow_headers, "*");
    plan.allow_methods = join(policy.allow_methods);
    if (!plan.star_headers)
        plan.allow_headers = join(policy.allow_headers);
    plan.expose_headers = join(policy.expose_headers);
    if (policy.max_age)
        plan.max_age = std::to_string(policy.max_age->count());
    return plan;
}

cors_answer evaluate_cors(const cors_plan& plan, const cors_request& request) {
    const config::cors_policy& policy = *plan.policy;
    cors_answer a;
    a.preflight = request.options && !request.origin.empty() && !request.request_method.empty();
    // "*" without credentials is the same answer for everyone: no Vary needed.
    const bool literal_star = policy.any_origin && !policy.allow_credentials;
    if (!literal_star)
        a.headers.emplace_back("Vary", a.preflight ? "Origin, Access-Control-Request-Method, "
                                                     "Access-Control-Request-Headers"
                                                   : "Origin");
    if (!cors_origin_allowed(policy, request.origin))
        return a;
    if (a.preflight) {
        if (!contains(policy.allow_methods, request.request_method) ||
            (!plan.star_headers && !headers_allowed(policy.allow_headers, request.request_headers)))
            return a; // refused: no Access-Control-Allow-Origin
    }
    a.headers.emplace_back("Access-Control-Allow-Origin",
                           literal_star ? std::string("*") : std::string(request.origin));
    if (policy.allow_credentials)
        a.headers.emplace_back("Access-Control-Allow-Credentials", "true");
    if (a.preflight) {
        a.headers.emplace_back("Access-Control-Allow-Methods", plan.allow_methods);
        if (plan.star_headers) {
            if (!request.request_headers.empty())
                a.headers.emplace_back("Access-Control-Allow-Headers",
                                       std::string(request.request_headers));
        } else if (!plan.allow_headers.empty()) {
            a.headers.emplace_back("Access-Control-Allow-Headers", plan.allow_headers);
        }
        if (!plan.max_age.empty())
            a.headers.emplace_back("Access-Control-Max-Age", plan.max_age);
    } else if (!plan.expose_headers.empty()) {
        a.headers.emplace_back("Access-Control-Expose-Headers", plan.expose_headers);
    }
    return a;
}

} // namespace bws::http
