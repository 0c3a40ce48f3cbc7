// Where an upstream server is: its http:// URL checked and split into host and port, and its
// host name resolved when the loader checks the environment. Internal to bws::config.
#pragma once

#include "config/validate.hpp"

#include <string>
#include <string_view>

namespace bws::config::detail {

// "http://host[:port][/]" into `out` (url, host, port, authority; the address of an IP
// literal). False with `error` set to a one-line reason otherwise.
bool parse_upstream_url(std::string_view url, upstream_server& out, std::string& error);

// Resolves the host names of every site's upstream servers (IP literals need no lookup); an
// unknown name is an error at its url.
void resolve_upstreams(snapshot& config, report& out);

} // namespace bws::config::detail
