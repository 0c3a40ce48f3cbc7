// Where an upstream server is: its http://, https:// or unix: URL checked and split into
// transport, host and port, and its host name resolved when the loader checks the environment.
// Internal to bws::config.
#pragma once

#include "config/validate.hpp"

#include <string>
#include <string_view>

namespace bws::config::detail {

// "http(s)://host[:port][/]" or "unix:/absolute/path" into `out` (url, transport, host,
// port, authority, unix_path; the address of an IP literal). False with `error` set to a
// one-line reason otherwise.
bool parse_upstream_url(std::string_view url, upstream_server& out, std::string& error);

// Resolves the host names of every site's upstream servers (IP literals need no lookup); an
// unknown name is an error at its url.
void resolve_upstreams(snapshot& config, report& out);

// Reads and checks each site's [sites.proxy] ca_file into tls.ca_pem (an error at the key when
// it cannot be read or holds no certificate), and warns of unix: upstreams whose socket is not
// there (yet).
void check_upstream_files(snapshot& config, report& out);

} // namespace bws::config::detail
