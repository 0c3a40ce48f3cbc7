// Routing, API key check and error bodies of the management API.
#include "app/management_api.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cctype>

namespace bws::app {

namespace {

using digest = std::array<unsigned char, 32>;

digest sha256(std::string_view text) {
    digest out{};
    unsigned int length = 0;
    EVP_Digest(text.data(), text.size(), out.data(), &length, EVP_sha256(), nullptr);
    return out;
}

bool same_key(std::string_view given, const digest& expected) {
    const auto d = sha256(given);
    return CRYPTO_memcmp(d.data(), expected.data(), d.size()) == 0;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

} // namespace

management_endpoint route_management(std::string_view method, std::string_view target,
                                     std::string& allow) {
    auto path = target.substr(0, target.find('?'));
    struct entry {
        std::string_view path;
        std::string_view method;
        management_endpoint endpoint;
    };
    static constexpr entry table[] = {
        {"/metrics", "GET", management_endpoint::metrics},
        {"/api/status", "GET", management_endpoint::status},
        {"/api/config/reload", "POST", management_endpoint::reload},
        {"/api/config/check", "GET", management_endpoint::check},
    };
    for (const auto& e : table) {
        if (path != e.path)
            continue;
        // HEAD is GET without the body (the server drops it).
        if (method == e.method || (e.method == "GET" && method == "HEAD"))
            return e.endpoint;
        allow = e.method == "GET" ? "GET, HEAD" : std::string(e.method);
        return management_endpoint::wrong_method;
    }
    return management_endpoint::not_found;
}

bool authorized(const management_request& request, std::string_view key) {
    if (key.empty())
        return true;
    const auto expected = sha256(key);
    // Both headers are checked every time, so which one was sent does not change the timing.
    const std::string_view auth = trim(request.authorization);
    const bool bearer = auth.size() > 7 && iequals(auth.substr(0, 7), "bearer ");
    const bool by_bearer = same_key(bearer ? trim(auth.substr(7)) : std::string_view(), expected);
    const bool by_header = same_key(trim(request.api_key), expected);
    return (bearer && by_bearer) || (!request.api_key.empty() && by_header);
}

management_reply json_error(unsigned status, std::string_view message) {
    management_reply reply;
    reply.status = status;
    boost::json::object body;
    body["error"] = message;
    body["status"] = status;
    reply.body = boost::json::serialize(body) + "\n";
    return reply;
}

} // namespace bws::app
