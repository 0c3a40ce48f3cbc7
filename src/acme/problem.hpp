// ACME problem documents (RFC 8555 §6.7, RFC 7807): an error response's `type` and `detail`
// turned into an acme::error with the HTTP status, so every failure says what the CA said.
#pragma once

#include "acme/error.hpp"
#include "acme/https_transport.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace bws::acme {

inline constexpr std::string_view problem_prefix = "urn:ietf:params:acme:error:";

// The error a response with status >= 400 stands for: its problem document's type and detail
// when the body is one (the first subproblem's detail is appended: RFC 8555 §6.7.1), the
// status alone otherwise.
acme::error problem_error(const std::string& what, const http_response& response);

// The same for a problem document embedded in an object (a challenge's or an order's "error").
acme::error problem_error(const std::string& what, const boost::json::object& problem);

// True when `e` carries the ACME error `name` ("badNonce", "accountDoesNotExist", ...).
bool is_problem(const acme::error& e, std::string_view name);

} // namespace bws::acme
