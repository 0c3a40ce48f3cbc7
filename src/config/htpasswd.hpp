// Parsing of an htpasswd file for basic auth: "user:hash" lines whose hashes are crypt(3)
// hashes of a scheme bws accepts (bcrypt $2a$/$2b$/$2y$, yescrypt $y$, SHA-512-crypt $6$,
// SHA-256-crypt $5$). MD5 ($1$, $apr1$), {SHA}, DES crypt and plain text are refused: they
// fall to a GPU in hours or are no hash at all.
#pragma once

#include "config/model.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace bws::config {

struct htpasswd_problem {
    int line = 0; // 1-based
    std::string message;
};

struct htpasswd_result {
    std::vector<htpasswd_user> users; // sorted by name
    std::vector<htpasswd_problem> problems;
};

// Blank lines and lines starting with '#' are skipped; a trailing '\r' is dropped.
htpasswd_result parse_htpasswd(std::string_view text);

} // namespace bws::config
