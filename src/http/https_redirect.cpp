// redirect_to_https (see https_redirect.hpp).
#include "http/https_redirect.hpp"

#include <string>
#include <string_view>

namespace bws::http {

std::optional<response> https_redirect(const route_decision& decision,
                                       boost::beast::http::verb method,
                                       std::optional<std::uint16_t> https_port) {
    namespace bhttp = boost::beast::http;
    if (decision.kind != route_kind::static_files && decision.kind != route_kind::error)
        return std::nullopt; // the health endpoint answers on plain HTTP too
    constexpr std::string_view acme = "/.well-known/acme-challenge/";
    if (decision.path.substr(0, acme.size()) == acme)
        return std::nullopt;
    if (!https_port)
        return std::nullopt; // nowhere safe to send the client
    response r;
    r.status = method == bhttp::verb::get || method == bhttp::verb::head ? 301 : 308;
    std::string location = "https://" + decision.host;
    if (*https_port != 443)
        location += ":" + std::to_string(*https_port);
    location += decision.path;
    if (decision.has_query) {
        location += '?';
        location += decision.query;
    }
    r.set_header("Location", location);
    return r;
}

} // namespace bws::http
