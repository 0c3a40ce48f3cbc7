// The pure parts of the management API: which endpoint a request names, the API key check
// (constant time) and the JSON bodies of its errors. The master answers the endpoints
// (master_management.cpp); management_server.cpp carries the HTTP.
#pragma once

#include <string>
#include <string_view>

namespace bws::app {

struct management_request {
    std::string method;
    std::string target;
    std::string authorization; // the Authorization header, "" when absent
    std::string api_key;       // the X-API-Key header
    std::string accept;
};

struct management_reply {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::string allow; // for 405: the methods the path accepts
};

enum class management_endpoint { metrics, status, reload, check, not_found, wrong_method };

// The endpoint of `method` `target` (the query string is ignored); `allow` is set for
// wrong_method.
management_endpoint route_management(std::string_view method, std::string_view target,
                                     std::string& allow);

// Whether the request carries `key` as "Authorization: Bearer KEY" or "X-API-Key: KEY". An
// empty `key` admits everything. Compared as SHA-256 digests with CRYPTO_memcmp, so the time
// taken says nothing about the key (not even its length).
bool authorized(const management_request& request, std::string_view key);

// {"error":"...","status":N} with the given status.
management_reply json_error(unsigned status, std::string_view message);

} // namespace bws::app
