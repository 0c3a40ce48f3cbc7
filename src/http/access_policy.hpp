// [sites.access] decisions, pure logic: whether an address may use a site, whether a path
// needs credentials, and the checking of basic-auth credentials against the site's users.
#pragma once

#include "config/model.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace bws::http {

// Deny wins over allow; a non-empty allow list admits only what it holds.
bool address_allowed(const config::site_access& access, const net::ip_address& client);

// Whether `raw_path` (the request target's path, still percent-encoded) needs credentials:
// require_auth, and auth_paths empty or one of them a segment prefix of the normalised path
// ("/admin" covers "/admin" and "/admin/x", not "/administrator"). A path that does not
// normalise needs them too (the request fails later anyway; it must not slip past auth).
bool auth_required(const config::site_access& access, std::string_view raw_path);

struct basic_credentials {
    std::string user;
    std::string password;
};

// "Basic <base64(user:password)>" (RFC 7617; the scheme is case-insensitive); nullopt when the
// value is not that (another scheme, bad base64, no ':').
std::optional<basic_credentials> parse_basic_credentials(std::string_view authorization);

// Whether `password` matches the user's crypt(3) hash. An unknown user is checked against the
// first user's hash all the same and the result thrown away, so the time taken does not tell
// which users exist; hashes are compared in constant time. Costs one hash computation (bcrypt
// cost 10: tens of milliseconds of this thread's CPU; see auth_cache.hpp).
bool verify_user(const std::vector<config::htpasswd_user>& users, std::string_view user,
                 std::string_view password);

// The WWW-Authenticate value of a 401: Basic realm="...", charset="UTF-8".
std::string basic_challenge(std::string_view realm);

} // namespace bws::http
