// The keys of a site's [sites.ssl] table and the checks between them. Internal to bws::config:
// read_site() reads the table into an ssl_draft and, once the whole site is read, turns it into
// the site's site_tls.
#pragma once

#include "config/key_table.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bws::config::detail {

// One [[sites.ssl.certificates]] entry while it is read.
struct certificate_draft {
    std::filesystem::path cert_file;
    std::filesystem::path key_file;
    key_positions where;
};

// [sites.ssl] while it is read: what the keys set, before the checks between them.
struct ssl_draft {
    site_tls tls;
    bool enabled = false;
    bool enabled_given = false;
    bool cert_file_written = false; // the key is in the table (its value may be refused)
    bool key_file_written = false;
    bool certificate_written = false; // cert_file, key_file or certificates is in the table
    bool had_errors = false;          // a value of the table was refused
    std::optional<std::filesystem::path> cert_file; // the first certificate, when given
    std::optional<std::filesystem::path> key_file;
    std::vector<certificate_draft> certificates; // [[sites.ssl.certificates]]
    std::optional<tls::tls_version> min_version; // min_tls_version
    // protocols: the lowest and the highest version listed.
    std::optional<std::pair<tls::tls_version, tls::tls_version>> protocols;
    ssl_positions where;
};

// Reads the value of a site's `ssl` key (a table) into `d`; false when it is not a table.
bool read_ssl(value_reader& in, const toml::node& v, ssl_draft& d);

// The checks between the keys of an enabled table (certificate pairs, protocol range, client
// verification, HSTS preload requirements); `what` names the site ("site 'a'"). Returns the
// site's TLS setup when the table is enabled, with where.certificates filled.
std::optional<site_tls> finish_ssl(ssl_draft& d, const std::string& what, report& out);

} // namespace bws::config::detail
