// htpasswd files (htpasswd.hpp) and the loader's check of every site's auth_file.
#include "config/htpasswd.hpp"

#include "config/access_keys.hpp"

#include <crypt.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

namespace bws::config {

namespace {

bool starts_with(std::string_view s, std::string_view p) {
    return s.substr(0, p.size()) == p;
}

// Empty when `hash` is of a scheme bws verifies; otherwise why it is refused.
std::string refusal(std::string_view hash) {
    if (starts_with(hash, "$1$") || starts_with(hash, "$apr1$") || starts_with(hash, "$md5"))
        return "an MD5 hash, which is refused";
    if (starts_with(hash, "{SHA}"))
        return "an unsalted SHA-1 hash ({SHA}), which is refused";
    const bool known = starts_with(hash, "$2a$") || starts_with(hash, "$2b$") ||
                       starts_with(hash, "$2y$") || starts_with(hash, "$y$") ||
                       starts_with(hash, "$6$") || starts_with(hash, "$5$");
    if (!known) {
        if (hash.size() == 13 && hash.find('$') == std::string_view::npos)
            return "a DES crypt hash (or plain text), which is refused";
        return "not a supported hash (plain text?)";
    }
    // libxcrypt checks the setting part (scheme, cost); the length of the checksum after the
    // last '$' tells a whole hash from a cut one, without computing a hash at load.
    const std::string text(hash);
    const auto last = hash.rfind('$');
    const std::string_view sum = hash.substr(last + 1);
    const bool b64 = std::all_of(sum.begin(), sum.end(), [](char c) {
        return c == '.' || c == '/' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
               (c >= 'a' && c <= 'z');
    });
    std::size_t want = 43; // SHA-256-crypt, yescrypt
    if (hash[1] == '2')
        want = 53; // bcrypt: 22 characters of salt and 31 of checksum after "$2b$NN$"
    else if (hash[1] == '6')
        want = 86;
    if (crypt_checksalt(text.c_str()) != CRYPT_SALT_OK || !b64 || sum.size() != want)
        return "a malformed hash";
    return {};
}

} // namespace

htpasswd_result parse_htpasswd(std::string_view text) {
    htpasswd_result result;
    int number = 0;
    while (!text.empty()) {
        const auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        ++number;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.find_first_not_of(" \t") == std::string_view::npos || line.front() == '#')
            continue;
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            result.problems.push_back({number, "is not 'user:hash'"});
            continue;
        }
        const std::string name(line.substr(0, colon));
        std::string_view hash = line.substr(colon + 1);
        // Apache's htpasswd writes nothing after the hash; some tools append ":comment".
        if (const auto more = hash.find(':'); more != std::string_view::npos)
            hash = hash.substr(0, more);
        if (const std::string why = refusal(hash); !why.empty()) {
            std::string message = "user '" + name + "' has ";
            message += why;
            message += " (use bcrypt, yescrypt or SHA-512-crypt: htpasswd -B, mkpasswd -m "
                       "yescrypt, openssl passwd -6)";
            result.problems.push_back({number, std::move(message)});
            continue;
        }
        result.users.push_back({name, std::string(hash)});
    }
    std::stable_sort(
        result.users.begin(), result.users.end(),
        [](const htpasswd_user& a, const htpasswd_user& b) { return a.name < b.name; });
    for (std::size_t i = 1; i < result.users.size(); ++i)
        if (result.users[i].name == result.users[i - 1].name)
            result.problems.push_back({0, "user '" + result.users[i].name + "' is listed twice"});
    return result;
}

namespace detail {

void check_auth_files(snapshot& config, report& out) {
    for (auto& site : config.sites) {
        if (!site.access || !site.access->require_auth || site.access->auth_file.empty())
            continue;
        auto& access = *site.access;
        const std::string file = access.auth_file.string();
        std::ifstream in(access.auth_file, std::ios::binary);
        std::ostringstream text;
        if (in)
            text << in.rdbuf();
        if (!in || in.bad()) {
            out.error(access.auth_file_pos, "auth_file: cannot read '" + file +
                                                "': " + std::generic_category().message(errno));
            continue;
        }
        htpasswd_result parsed = parse_htpasswd(text.str());
        for (const auto& p : parsed.problems)
            out.error(access.auth_file_pos,
                      "auth_file: '" + file +
                          (p.line > 0 ? "' line " + std::to_string(p.line) + ": " : "': ") +
                          p.message);
        if (!parsed.problems.empty())
            continue;
        if (parsed.users.empty())
            out.warning(access.auth_file_pos,
                        "auth_file: '" + file + "' lists no user: every request gets 401");
        access.users = std::make_shared<const std::vector<htpasswd_user>>(std::move(parsed.users));
    }
}

} // namespace detail

} // namespace bws::config
