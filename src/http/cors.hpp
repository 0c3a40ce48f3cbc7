// CORS for a site with [sites.access_control], as a pure function of the policy and the
// request's Origin and preflight headers (the Fetch standard's server side): which headers a
// response gets, and whether the request is a preflight that bws answers itself.
#pragma once

#include "config/model.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bws::http {

struct cors_request {
    std::string_view origin;          // Origin; empty: not a CORS request
    bool options = false;             // the method is OPTIONS
    std::string_view request_method;  // Access-Control-Request-Method
    std::string_view request_headers; // Access-Control-Request-Headers
};

struct cors_answer {
    // An OPTIONS request with Origin and Access-Control-Request-Method: bws answers it (204)
    // whatever the route, since the site's policy is bws's to state.
    bool preflight = false;
    std::vector<std::pair<std::string, std::string>> headers;
};

// A site's policy with the header values that do not depend on the request joined once per
// generation, so a response does not rebuild them.
struct cors_plan {
    const config::cors_policy* policy = nullptr;
    bool star_headers = false;  // allow_headers = ["*"]: echo what the preflight asks
    std::string allow_methods;  // "GET, HEAD, POST"
    std::string allow_headers;  // joined; empty with star_headers or none configured
    std::string expose_headers; // joined; empty when none
    std::string max_age;        // seconds; empty when not set
};
cors_plan make_cors_plan(const config::cors_policy& policy);

// Whether `origin` ("https://a.example.com:8443") is one the policy allows.
bool cors_origin_allowed(const config::cors_policy& policy, std::string_view origin);

// The headers for a response to `request`. A disallowed origin gets no Access-Control-*
// header (the browser then refuses the response); Vary: Origin comes whenever the answer
// depends on the origin, so a cache never serves one origin's answer to another.
cors_answer evaluate_cors(const cors_plan& plan, const cors_request& request);

} // namespace bws::http
