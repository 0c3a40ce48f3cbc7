// The key tables of the configuration file: [server], [server.limits], [daemon], [logging] and
// [[sites]]. Adding a key is adding one entry here (and its field in model.hpp). Internal to
// bws::config.
#pragma once

#include "config/key_table.hpp"

namespace bws::config::detail {

const std::vector<key_entry<server_section>>& server_keys();
const std::vector<key_entry<daemon_section>>& daemon_keys();
const std::vector<key_entry<logging_section>>& logging_keys();
const std::vector<key_entry<management_section>>& management_keys();

// Checks between [logging] keys, after the table was read.
void check_logging(const logging_section& l, const key_positions& where, report& out);
// [management] port against the sites' ports, once the sites are read.
void check_management(const snapshot& config, const key_positions& where, report& out);

// Reads one [[sites]] table (its position is the site's) into a new entry of config.sites.
void read_site(value_reader& in, const toml::table& t, snapshot& config, positions& where);

} // namespace bws::config::detail
