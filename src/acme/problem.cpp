// Problem document parsing (see problem.hpp).
#include "acme/problem.hpp"

#include <boost/json/parse.hpp>

namespace bws::acme {

namespace {

std::string string_member(const boost::json::object& object, std::string_view name) {
    const boost::json::value* v = object.if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

} // namespace

acme::error problem_error(const std::string& what, const boost::json::object& problem) {
    acme::error e{what, 0, string_member(problem, "type"), string_member(problem, "detail")};
    if (const auto* status = problem.if_contains("status"); status != nullptr && status->is_int64())
        e.http_status = static_cast<unsigned>(status->as_int64());
    if (const auto* subs = problem.if_contains("subproblems"); subs != nullptr && subs->is_array())
        if (!subs->as_array().empty() && subs->as_array().front().is_object()) {
            const auto& first = subs->as_array().front().as_object();
            const std::string detail = string_member(first, "detail");
            if (!detail.empty())
                e.detail += (e.detail.empty() ? "" : "; ") + detail;
        }
    return e;
}

acme::error problem_error(const std::string& what, const http_response& response) {
    boost::system::error_code ec;
    const boost::json::value body = boost::json::parse(response.body, ec);
    acme::error e = !ec && body.is_object() ? problem_error(what, body.as_object())
                                            : acme::error{what, 0, {}, {}};
    e.http_status = response.status;
    return e;
}

bool is_problem(const acme::error& e, std::string_view name) {
    return e.type.size() == problem_prefix.size() + name.size() &&
           e.type.compare(0, problem_prefix.size(), problem_prefix) == 0 &&
           e.type.compare(problem_prefix.size(), name.size(), name) == 0;
}

} // namespace bws::acme
