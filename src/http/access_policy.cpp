// [sites.access] decisions (access_policy.hpp).
#include "http/access_policy.hpp"

#include "files/path.hpp"
#include "http/header_text.hpp"
#include "text/base64.hpp"

#include <crypt.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>

namespace bws::http {

bool address_allowed(const config::site_access& access, const net::ip_address& client) {
    if (access.deny.contains(client))
        return false;
    return access.allow.empty() || access.allow.contains(client);
}

bool auth_required(const config::site_access& access, std::string_view raw_path) {
    if (!access.require_auth)
        return false;
    if (access.auth_paths.empty())
        return true;
    const files::normalized_path path = files::normalize_path(raw_path);
    if (path.error != files::path_error::none)
        return true;
    const std::string_view p = path.relative;
    return std::any_of(access.auth_paths.begin(), access.auth_paths.end(),
                       [&](const std::string& prefix) {
                           return prefix.empty() || p == prefix ||
                                  (p.size() > prefix.size() &&
                                   p.substr(0, prefix.size()) == prefix && p[prefix.size()] == '/');
                       });
}

std::optional<basic_credentials> parse_basic_credentials(std::string_view authorization) {
    const auto space = authorization.find(' ');
    if (space == std::string_view::npos || !iequals(authorization.substr(0, space), "basic"))
        return std::nullopt;
    std::string_view token = authorization.substr(space + 1);
    while (!token.empty() && token.front() == ' ')
        token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
        token.remove_suffix(1);
    auto decoded = text::base64_decode(token, text::base64_alphabet::standard);
    if (!decoded)
        return std::nullopt;
    const auto colon = decoded->find(':');
    if (colon == std::string::npos)
        return std::nullopt;
    basic_credentials c;
    c.user = decoded->substr(0, colon);
    c.password = decoded->substr(colon + 1);
    return c;
}

bool verify_user(const std::vector<config::htpasswd_user>& users, std::string_view user,
                 std::string_view password) {
    if (users.empty())
        return false;
    const auto found = std::lower_bound(
        users.begin(), users.end(), user,
        [](const config::htpasswd_user& u, std::string_view name) { return u.name < name; });
    const bool known = found != users.end() && found->name == user;
    // The first user's hash stands in for an unknown user: the same scheme and cost as the
    // file's (usually all users share them), so a miss costs what a hit does.
    const std::string& hash = known ? found->hash : users.front().hash;
    // crypt(3) takes C strings: a password with a NUL byte would be cut short there.
    const bool has_nul = password.find('\0') != std::string_view::npos;
    const std::string phrase(password);
    // struct crypt_data is 32 KiB: one per thread, not on the stack.
    thread_local const auto data = std::make_unique<crypt_data>();
    *data = crypt_data{};
    const char* out = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
    if (out == nullptr || out[0] == '*')
        return false;
    const std::string_view got(out);
    const bool same =
        got.size() == hash.size() && CRYPTO_memcmp(got.data(), hash.data(), hash.size()) == 0;
    return same && known && !has_nul;
}

std::string basic_challenge(std::string_view realm) {
    std::string v = "Basic realm=\"";
    v += realm;
    v += "\", charset=\"UTF-8\"";
    return v;
}

} // namespace bws::http
