// redirect_to_https as a pure decision: which requests of a plain site are sent to HTTPS, and
// the redirect they get. The session asks it only on plain sites that set the key.
#pragma once

#include "http/response.hpp"
#include "http/router.hpp"

#include <boost/beast/http/verb.hpp>

#include <cstdint>
#include <optional>

namespace bws::http {

// The redirect for `decision` (a request routed to a site with redirect_to_https), given the
// port of the HTTPS listener serving its host (nullopt: none does). nullopt when the request
// is answered here: the health endpoint, /.well-known/acme-challenge/ (certificate issuers
// fetch those over plain HTTP), a host no HTTPS site serves. Otherwise 301 for GET and HEAD,
// 308 (which keeps the method and body) for the rest; Location keeps the path and query and
// names the port unless it is 443.
std::optional<response> https_redirect(const route_decision& decision,
                                       boost::beast::http::verb method,
                                       std::optional<std::uint16_t> https_port);

} // namespace bws::http
