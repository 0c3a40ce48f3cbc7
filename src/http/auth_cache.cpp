// Basic auth with a cache of recent successes (auth_cache.hpp).
#include "http/auth_cache.hpp"

#include "http/access_policy.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <memory>
#include <vector>

namespace bws::http {

namespace {

using digest = std::array<unsigned char, 32>;
using users_ptr = std::shared_ptr<const std::vector<config::htpasswd_user>>;

struct cached {
    digest key{};
    users_ptr users; // held, so its address cannot be reused by a later snapshot's users
    std::string user;
    std::chrono::steady_clock::time_point expires;
};

// Small and scanned linearly: a worker sees few distinct credentials at a time; when full,
// the entry closest to expiry makes room.
constexpr std::size_t cache_slots = 64;

bool sha256(std::string_view text, digest& out) {
    unsigned int length = 0;
    return EVP_Digest(text.data(), text.size(), out.data(), &length, EVP_sha256(), nullptr) == 1 &&
           length == out.size();
}

} // namespace

bool check_basic_auth(const config::site_access& access, std::string_view authorization,
                      std::string& user, std::chrono::steady_clock::time_point now) {
    if (!access.users || authorization.empty())
        return false;
    thread_local std::vector<cached> cache;
    digest key{};
    const bool hashed = sha256(authorization, key);
    if (hashed) {
        for (auto& e : cache) {
            if (e.users == access.users && e.expires > now &&
                CRYPTO_memcmp(e.key.data(), key.data(), key.size()) == 0) {
                user = e.user;
                return true;
            }
        }
    }
    auto credentials = parse_basic_credentials(authorization);
    if (!credentials || !verify_user(*access.users, credentials->user, credentials->password))
        return false;
    user = credentials->user;
    if (!hashed)
        return true;
    cached entry{key, access.users, std::move(credentials->user), now + auth_cache_ttl};
    if (cache.size() < cache_slots) {
        cache.push_back(std::move(entry));
    } else {
        auto oldest = cache.begin();
        for (auto it = cache.begin(); it != cache.end(); ++it)
            if (it->expires < oldest->expires)
                oldest = it;
        *oldest = std::move(entry);
    }
    return true;
}

} // namespace bws::http
