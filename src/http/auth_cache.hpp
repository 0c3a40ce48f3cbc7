// Basic auth with a per-thread cache of recent successes, so a keep-alive client does not pay
// a bcrypt/yescrypt computation (milliseconds of CPU) on every request, as Caddy does.
#pragma once

#include "config/model.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace bws::http {

// How long a verified Authorization value is believed without hashing again.
inline constexpr std::chrono::seconds auth_cache_ttl{60};

// Whether `authorization` (the request's Authorization field) holds valid basic credentials
// for `access`; `user` gets the user name when it does. A success is remembered by this thread
// for auth_cache_ttl, keyed by the SHA-256 of the field value together with the users it was
// checked against (a reload brings new users, so it misses). Failures are never cached.
bool check_basic_auth(const config::site_access& access, std::string_view authorization,
                      std::string& user,
                      std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

} // namespace bws::http
